"""Rule ablate_cbrnn: at each analysis level N, the CB-RNN as it was when it passed N, intact, without and
with a re-initialised cerebellum, beside the plain RNN of the same seed index as it was when it passed N."""

import pandas as pd
import torch

from brainrnn.cbrnn import PLAIN_RNN
from brainrnn.cbrnn.analysis import ablation_accuracy
from brainrnn.io import write_table
from brainrnn.persistence import load_member
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    tables = []
    for path, plain_path in zip(smk.input.snapshots, smk.input.plain, strict=True):
        model, meta = load_member(path)
        plain, plain_meta = load_member(plain_path)
        table = ablation_accuracy(model, plain, meta["task"], meta["task_settings"]["n_back"],
                                  trials=smk.params.trials, seed=smk.params.seed)
        passed = {True: plain_meta["passed_epoch"] is not None, False: meta["passed_epoch"] is not None}
        table["passed"] = (table["condition"] == PLAIN_RNN).map(passed)
        tables.append(table)
    write_table(pd.concat(tables, ignore_index=True).assign(seed=int(smk.wildcards.seed)), smk.output.ablation)


run_rule(snakemake, main)
