"""Rule ablate_cbrnn: accuracy per N of a trained CB-RNN, intact, without and with a re-initialised cerebellum."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import json  # noqa: E402

import torch  # noqa: E402

from brainrnn.cbrnn import ablation_accuracy  # noqa: E402
from brainrnn.io import write_table  # noqa: E402
from brainrnn.models.rnn import load_member  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    torch.set_num_threads(smk.threads)
    model, meta = load_member(smk.input.model)
    metrics = json.loads(open(smk.input.metrics).read())
    levels = range(smk.params.start_level, int(metrics["final_level_reached"]) + 1)
    table = ablation_accuracy(model, meta["task"], levels, trials=smk.params.trials, seed=smk.params.seed)
    write_table(table.assign(seed=int(smk.wildcards.seed)), smk.output.ablation)


run_rule(snakemake, main)  # noqa: F821
