"""Rule group_statistics: covariate-adjusted group tests of spread and tau, with FDR; skips with one group."""
import logging

import numpy as np
import pandas as pd

from brainrnn.fmri.group_stats import GroupTestOptions, group_statistics
from brainrnn.io import write_table
from brainrnn.seeding import derive_seed
from brainrnn.workflow import run_rule


def main(smk):
    log = logging.getLogger(__name__)
    spread = pd.read_csv(smk.input.spread, sep="\t", dtype={"subject": str}).set_index("subject", drop=False)
    sheet = pd.DataFrame(smk.params.sheet, dtype=object).set_index("subject")
    regions, mean_tau = [], {}
    for subject, tau_path, grad_path in zip(smk.params.subjects, smk.input.timescales, smk.input.gradients,
                                            strict=True):
        tau = pd.read_csv(tau_path, sep="\t", index_col="region")["tau_s"]
        g1 = pd.read_csv(grad_path, sep="\t", index_col="region")["G1"]
        regions.append(pd.DataFrame({"subject": subject, "tau_s": tau.reindex(g1.index).to_numpy(),
                                     "extremity": (g1 - g1.median()).abs().to_numpy()}))
        mean_tau[subject] = float(np.nanmean(tau))
    subjects = spread.assign(mean_tau=pd.Series(mean_tau), mean_fd=spread["mean_fd_mm"])
    for column in ("age", "sex", "site"):
        if column in sheet.columns:
            subjects[column] = sheet[column].reindex(subjects.index).replace("", np.nan)
    excluded = subjects.index[subjects["excluded"]].tolist()
    if excluded:
        log.info("left out by the quality thresholds: %s", ", ".join(excluded))
    kept = subjects[~subjects["excluded"]]
    table = group_statistics(kept, pd.concat(regions).loc[lambda frame: frame["subject"].isin(kept.index)],
                             GroupTestOptions.from_config(smk.params.settings),
                             np.random.default_rng(derive_seed(smk.params.seed, "group_statistics")))
    for row in table.itertuples():
        log.info("%s %s %s: estimate %s, p %s, q %s (%s)", row.test, row.measure, row.contrast, row.estimate,
                 row.p, row.q_fdr, row.status)
    write_table(table, smk.output.statistics)


run_rule(snakemake, main)
