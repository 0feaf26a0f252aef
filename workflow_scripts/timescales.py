"""Rule timescales: OU timescale per region of one subject, by every estimator."""
import logging

import numpy as np
import pandas as pd

from brainrnn.fmri.timescales import METHODS, estimate_timescales
from brainrnn.io import read_json, write_table
from brainrnn.workflow import run_rule


def main(smk):
    settings = smk.params.timescales
    series = pd.read_csv(smk.input.table, sep="\t")
    tr = read_json(smk.input.meta)["tr_s"]
    table = estimate_timescales(series, tr, method=settings["method"], bias_correction=settings["bias_correction"],
                                max_lag_s=settings["acf_max_lag_s"], min_volumes=settings["min_volumes"],
                                subject=smk.wildcards.subject, file=smk.input.table)
    log = logging.getLogger(__name__)
    resolved = np.isfinite(table["tau_s"])
    log.info("median tau %.2f s over the %d of %d regions with a tau (%s)", np.nanmedian(table["tau_s"]),
             int(resolved.sum()), len(table), settings["method"])
    for method in METHODS:
        column = table[f"tau_{method}_s"]
        log.info("  %s: median %.2f s, %d of %d regions resolved", method, np.nanmedian(column),
                 int(column.notna().sum()), len(table))
    if not resolved.all():
        log.warning("no tau (%s) in %d regions: %s", settings["method"], int((~resolved).sum()),
                    ", ".join(table.index[~resolved]))
    write_table(table, smk.output.timescales, index=True)


run_rule(snakemake, main)
