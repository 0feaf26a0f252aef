"""Rule ablate_cbrnn: accuracy per N of a trained CB-RNN, intact, without and with a re-initialised cerebellum."""

import torch

from brainrnn.cbrnn.analysis import ablation_accuracy
from brainrnn.io import read_json, write_table
from brainrnn.persistence import load_member
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    model, meta = load_member(smk.input.model)
    metrics = read_json(smk.input.metrics)
    levels = range(smk.params.start_level, int(metrics["final_level_reached"]) + 1)
    table = ablation_accuracy(model, meta["task"], levels, trials=smk.params.trials, seed=smk.params.seed)
    write_table(table.assign(seed=int(smk.wildcards.seed)), smk.output.ablation)


run_rule(snakemake, main)
