"""Rule connectivity: Pearson FC of one subject's time series."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.fmri.connectivity import functional_connectivity  # noqa: E402
from brainrnn.io import write_npy  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    series = pd.read_csv(smk.input.table, sep="\t")
    write_npy(functional_connectivity(series.to_numpy()), smk.output.fc)


run_rule(snakemake, main)  # noqa: F821
