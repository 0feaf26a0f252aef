"""Rule dimensionality_cbrnn: participation ratio and timescale of core and cerebellar activity."""

import torch

from brainrnn.cbrnn.analysis import dimensionality
from brainrnn.io import read_json, write_table
from brainrnn.persistence import load_member
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    model, meta = load_member(smk.input.model)
    level = int(read_json(smk.input.metrics)["final_level_reached"])
    table = dimensionality(model, meta["task"], level, trials=smk.params.trials, seed=smk.params.seed)
    write_table(table.assign(group=smk.wildcards.group, seed=int(smk.wildcards.seed)), smk.output.table)


run_rule(snakemake, main)
