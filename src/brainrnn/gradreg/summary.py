"""Tables of the gradient-regularised family: one row per network, and correlations with gradient spread."""

from __future__ import annotations

import numpy as np
import pandas as pd

from brainrnn.gradreg import LEARNING_MEASURES, SPREAD_MEASURES
from brainrnn.stats import spearman_permutation


def summary_table(metrics: list[dict], fixed_points: pd.DataFrame, spread: pd.DataFrame, steps: int) -> pd.DataFrame:
    """One row per subject × variant × seed: spread, group, learning and fixed-point measures.

    Members that never reached the criterion get ``steps_to_criterion`` = the step budget
    (right-censored) and ``reached_criterion`` = False.
    """
    table = pd.DataFrame(metrics)
    table["subject"] = table["subject"].astype(str)
    table["reached_criterion"] = table["steps_to_criterion"].notna()
    table["steps_to_criterion"] = table["steps_to_criterion"].fillna(steps).astype(float)
    points = fixed_points.astype({"subject": str})
    table = table.merge(points.drop(columns=["family", "task"], errors="ignore"),
                        on=["variant", "subject", "seed"], how="left", validate="one_to_one")
    spread = spread.astype({"subject": str})
    table = table.merge(spread, on="subject", how="left", validate="many_to_one")
    first = ["subject", "group", "variant", "seed", *SPREAD_MEASURES, "explained_G1"]
    return table[first + [column for column in table.columns if column not in first]].sort_values(
        ["variant", "subject", "seed"], kind="stable").reset_index(drop=True)


def spread_correlations(summary: pd.DataFrame, n_permutations: int, seed: int) -> pd.DataFrame:
    """Per variant, Spearman ρ across subjects (seed-averaged) of each spread measure with each measure."""
    rng = np.random.default_rng(seed)
    rows = []
    for variant, block in summary.groupby("variant", sort=True):
        per_subject = block.groupby("subject")[[*SPREAD_MEASURES, *LEARNING_MEASURES]].mean()
        for spread_measure in SPREAD_MEASURES:
            for measure in LEARNING_MEASURES:
                rho, p_value = spearman_permutation(per_subject[spread_measure], per_subject[measure],
                                                    n_permutations, rng)
                rows.append({"variant": variant, "spread_measure": spread_measure, "measure": measure,
                             "rho": rho, "p_permutation": p_value, "n_subjects": len(per_subject)})
    return pd.DataFrame(rows)
