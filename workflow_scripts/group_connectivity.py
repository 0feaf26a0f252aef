"""Rule group_connectivity: mean FC over subjects (Fisher z) and the shared region list."""
import numpy as np
import pandas as pd

from brainrnn.errors import InputError
from brainrnn.fmri.connectivity import group_mean_fc
from brainrnn.io import write_npy, write_table
from brainrnn.workflow import run_rule


def main(smk):
    names = None
    for table in smk.input.tables:
        header = pd.read_csv(table, sep="\t", nrows=0).columns.tolist()
        if names is None:
            names, first = header, table
        elif header != names:
            raise InputError(f"regions differ from those of {first}.", file=table, field="header",
                             fix="parcellate every subject with the same atlas and region order.")
    matrices = [np.load(path) for path in smk.input.fc]
    write_npy(group_mean_fc(matrices, fisher_z=smk.params.fisher_z), smk.output.fc)
    write_table(pd.DataFrame({"region": names}), smk.output.regions)


run_rule(snakemake, main)
