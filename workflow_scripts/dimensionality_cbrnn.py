"""Rule dimensionality_cbrnn: participation ratio and timescale of core and cerebellar activity."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import json  # noqa: E402

import torch  # noqa: E402

from brainrnn.cbrnn import dimensionality  # noqa: E402
from brainrnn.io import write_table  # noqa: E402
from brainrnn.models.rnn import load_member  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    torch.set_num_threads(smk.threads)
    model, meta = load_member(smk.input.model)
    level = int(json.loads(open(smk.input.metrics).read())["final_level_reached"])
    table = dimensionality(model, meta["task"], level, trials=smk.params.trials, seed=smk.params.seed)
    write_table(table.assign(group=smk.wildcards.group, seed=int(smk.wildcards.seed)), smk.output.table)


run_rule(snakemake, main)  # noqa: F821
