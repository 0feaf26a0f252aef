"""Rule lowrank_bridge: per subject, linear dynamics fitted to the parcellated fMRI series, measured like the
networks' weights, beside gradient spread; Spearman ρ of each measure with spread across subjects."""

import logging

import numpy as np
import pandas as pd

from brainrnn.io import write_table
from brainrnn.lowrank.bridge import fit_lds, lds_measures
from brainrnn.stats import spearman_permutation
from brainrnn.workflow import run_rule

MEASURES = ("effective_rank_plain", "effective_rank_squared", "decay_gamma")
SPREAD = ("dispersion", "g1_range")


def main(smk):
    settings, params = smk.params.settings, smk.params
    rows = []
    for subject, path in zip(params.subjects, smk.input.timeseries, strict=True):
        series = pd.read_csv(path, sep="\t").to_numpy(dtype=float)
        dynamics, ridge, explained = fit_lds(series, settings["ridges"], settings["validation_fraction"])
        rows.append({"subject": subject, "ridge": ridge, "heldout_r2": explained,
                     **lds_measures(dynamics, decay_values=params.decay_values)})
        logging.getLogger(__name__).info("sub-%s: λ %g, held-out R² %.3f, %s", subject, ridge, explained, rows[-1])
    spread = pd.read_csv(smk.input.spread, sep="\t", dtype={"subject": str})
    table = pd.DataFrame(rows).merge(spread, on="subject", how="left", validate="one_to_one")
    write_table(table, smk.output.bridge)
    rng = np.random.default_rng(params.seed)
    correlations = []
    for spread_measure in SPREAD:
        for measure in MEASURES:
            rho, p_value = spearman_permutation(table[spread_measure], table[measure], params.n_permutations, rng)
            correlations.append({"spread_measure": spread_measure, "measure": measure, "rho": rho,
                                 "p_permutation": p_value, "n_subjects": len(table)})
    write_table(pd.DataFrame(correlations), smk.output.versus_spread)


run_rule(snakemake, main)
