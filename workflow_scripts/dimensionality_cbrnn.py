"""Rule dimensionality_cbrnn: participation ratio and timescale of core and cerebellar activity at each
analysis level N, of the network as it was when it passed N."""

import pandas as pd
import torch

from brainrnn.cbrnn.analysis import dimensionality
from brainrnn.io import write_table
from brainrnn.persistence import load_member
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    tables = []
    for path in smk.input.snapshots:
        model, meta = load_member(path)
        table = dimensionality(model, meta["task"], meta["task_settings"]["n_back"], trials=smk.params.trials,
                               seed=smk.params.seed)
        tables.append(table.assign(passed=meta["passed_epoch"] is not None))
    table = pd.concat(tables, ignore_index=True)
    write_table(table.assign(group=smk.wildcards.group, seed=int(smk.wildcards.seed)), smk.output.table)


run_rule(snakemake, main)
