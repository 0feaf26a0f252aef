"""Rule connectivity: Pearson FC of one subject's time series."""
import pandas as pd

from brainrnn.fmri.connectivity import functional_connectivity
from brainrnn.io import write_npy
from brainrnn.workflow import run_rule


def main(smk):
    series = pd.read_csv(smk.input.table, sep="\t")
    write_npy(functional_connectivity(series.to_numpy()), smk.output.fc)


run_rule(snakemake, main)
