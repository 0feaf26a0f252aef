"""Rule timescales: OU timescale per region of one subject."""
import logging

import numpy as np
import pandas as pd

from brainrnn.fmri.timescales import estimate_timescales
from brainrnn.io import read_json, write_table
from brainrnn.workflow import run_rule


def main(smk):
    settings = smk.params.timescales
    series = pd.read_csv(smk.input.table, sep="\t")
    tr = read_json(smk.input.meta)["tr_s"]
    table = estimate_timescales(series, tr, method=settings["method"], bias_correction=settings["bias_correction"],
                                max_lag_s=settings["acf_max_lag_s"], min_volumes=settings["min_volumes"],
                                subject=smk.wildcards.subject, file=smk.input.table)
    unresolved = table.index[~np.isfinite(table["tau_s"])].tolist()
    log = logging.getLogger(__name__)
    log.info("median tau %.2f s over %d regions (%s)", np.nanmedian(table["tau_s"]), len(table), settings["method"])
    if unresolved:
        log.warning("tau unresolvable (lag-1 autocorrelation <= 0) in: %s", ", ".join(unresolved))
    write_table(table, smk.output.timescales, index=True)


run_rule(snakemake, main)
