"""Tables of the gradient-regularised family: per network, per variant with intervals, and the declared tests.

The unit of replication is the subject (its seeds are averaged first, or enter a mixed model with
a random intercept per subject: seeds nested in subjects). Declared analyses (``_tests.tsv``):

* ``contrast``: each geometry variant minus each control (``l1``, ``shuffled``) on each primary
  measure, paired by subject and seed (same initial weights and data), the subject means tested
  by sign-flip permutation; Holm over the family of these tests.
* ``contrast_vs_spread``: the same run-level differences regressed on gradient dispersion
  (standardised across subjects) in a mixed model; the slope says whether the variant's advantage
  over its control grows with spread; Benjamini–Hochberg over the declared measures.
* ``compression``: where the experiment ran, each measure regressed on the G1 scale within subject
  (mixed model), with raw (``gradreg``) and renormalised (``normalised``) distances; BH over these.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from brainrnn.gradreg import COMPRESSIBLE, CONTROLS, LEARNING_MEASURES, PRIMARY_MEASURES, SPREAD_MEASURES
from brainrnn.seeding import derive_seed
from brainrnn.stats import describe, fdr_bh, holm, mean_ci, paired_permutation_p, proportion_ci, spearman_permutation

GEOMETRY_VARIANTS = ("gradreg", "normalised", "groupavg")
"""Variants whose penalty carries a geometry; each is contrasted with every control."""
TEST_COLUMNS = ["analysis", "variant", "control", "measure", "estimate", "ci_low", "ci_high", "p", "p_corrected",
                "correction", "method", "n_subjects", "n_runs"]


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


def variant_table(summary: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Per variant (compression runs included): each measure's mean, SEM and 95% CI over subjects (seeds
    averaged within subject), the rate of runs reaching the criterion with its exact CI, the runs with
    no fixed point, and the mean effective penalty strength λ·mean(d)."""
    rows = []
    for variant, block in summary.groupby("variant", sort=False):
        per_subject = block.groupby("subject")[list(LEARNING_MEASURES)].mean()
        reached = int(block["reached_criterion"].sum())
        rate_low, rate_high = proportion_ci(reached, len(block))
        row: dict[str, object] = {"variant": variant, "base_variant": block["base_variant"].iloc[0],
                                  "g1_scale": float(block["g1_scale"].iloc[0]), "n_subjects": len(per_subject),
                                  "n_runs": len(block), "effective_lambda": float(block["effective_lambda"].mean()),
                                  "runs_without_fixed_point": int((block["n_fixed_points"] == 0).sum()),
                                  "reached_criterion_rate": reached / len(block),
                                  "reached_criterion_rate_ci_low": rate_low,
                                  "reached_criterion_rate_ci_high": rate_high}
        for measure in LEARNING_MEASURES:
            stats = describe(per_subject[measure], seed=derive_seed(seed, variant, measure))
            row.update({f"{measure}_{key}": value for key, value in stats.items() if key != "n"})
        rows.append(row)
    return pd.DataFrame(rows)


def spread_correlations(summary: pd.DataFrame, n_permutations: int, seed: int) -> pd.DataFrame:
    """Per variant, Spearman ρ across subjects (seed-averaged) of each spread measure with each measure: an
    exploratory screen, with its permutation p and the BH-adjusted p over the whole screen."""
    rng = np.random.default_rng(seed)
    rows = []
    for variant, block in summary[summary["g1_scale"] == 1.0].groupby("variant", sort=True):
        if block["base_variant"].iloc[0] != variant:
            continue  # compression runs at scale 1 duplicate their base variant
        per_subject = block.groupby("subject")[[*SPREAD_MEASURES, *LEARNING_MEASURES]].mean()
        for spread_measure in SPREAD_MEASURES:
            for measure in LEARNING_MEASURES:
                rho, p_value = spearman_permutation(per_subject[spread_measure], per_subject[measure],
                                                    n_permutations, rng)
                rows.append({"variant": variant, "spread_measure": spread_measure, "measure": measure,
                             "rho": rho, "p_permutation": p_value, "n_subjects": len(per_subject)})
    table = pd.DataFrame(rows)
    table["p_fdr"] = fdr_bh(table["p_permutation"].to_numpy()) if len(table) else []
    return table


def _differences(summary: pd.DataFrame, variant: str, control: str, measure: str) -> pd.DataFrame:
    """Run-level differences variant − control, paired by subject and seed, with each subject's spread."""
    keys = ["subject", "seed"]
    first = summary.loc[summary["variant"] == variant, [*keys, measure, "dispersion"]]
    second = summary.loc[summary["variant"] == control, [*keys, measure]]
    paired = first.merge(second, on=keys, suffixes=("", "_control"))
    paired["difference"] = paired[measure] - paired[f"{measure}_control"]
    return paired.dropna(subset=["difference"])


def _mixed_slope(data: pd.DataFrame, response: str, predictor: str) -> tuple[float, float, float, float, str]:
    """Slope of ``response`` on ``predictor`` with a random intercept per subject: estimate, 95% CI, Wald p
    and the method. Falls back to least squares on subject means when the mixed model cannot be fitted
    (too few subjects, or no variance left for the random effect)."""
    import statsmodels.formula.api as smf

    data = data[[response, predictor, "subject"]].dropna()
    if data["subject"].nunique() < 3 or data[predictor].std() == 0:
        return float("nan"), float("nan"), float("nan"), float("nan"), "too few subjects"
    if np.ptp(data[response].to_numpy()) <= 1e-9 * max(1.0, float(data[response].abs().max())):
        # a constant response (e.g. every pair reached the criterion at the same step): the least-squares
        # p of a slope fitted to rounding error would be 0; there is no association to test
        return 0.0, 0.0, 0.0, 1.0, "no variation in the response"
    formula = f"{response} ~ {predictor}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fitted = smf.mixedlm(formula, data, groups=data["subject"]).fit(reml=True)
        method = "mixed model (random intercept per subject)"
    except Exception:  # singular random effect or no convergence: ordinary least squares on subject means
        means = data.groupby("subject")[[response, predictor]].mean()
        fitted = smf.ols(formula, means).fit()
        method = "least squares on subject means"
    low, high = fitted.conf_int().loc[predictor]
    return float(fitted.params[predictor]), float(low), float(high), float(fitted.pvalues[predictor]), method


def contrast_tests(summary: pd.DataFrame, n_permutations: int, seed: int) -> pd.DataFrame:
    """The declared tests of the module docstring, each family with its correction."""
    variants = set(summary["variant"])
    rows = []
    for variant in (v for v in GEOMETRY_VARIANTS if v in variants):
        for control in (c for c in CONTROLS if c in variants):
            for measure in PRIMARY_MEASURES:
                paired = _differences(summary, variant, control, measure)
                per_subject = paired.groupby("subject")["difference"].mean()
                low, high = mean_ci(per_subject, seed=derive_seed(seed, variant, control, measure))
                rows.append({"analysis": "contrast", "variant": variant, "control": control, "measure": measure,
                             "estimate": float(per_subject.mean()) if len(per_subject) else float("nan"),
                             "ci_low": low, "ci_high": high,
                             "p": paired_permutation_p(per_subject, n_permutations=n_permutations,
                                                       seed=derive_seed(seed, "flip", variant, control, measure)),
                             "method": "sign-flip permutation of subject means", "n_subjects": len(per_subject),
                             "n_runs": len(paired)})
                spread = paired.assign(spread=_standardised(paired, "dispersion"))
                slope, low, high, p, method = _mixed_slope(spread, "difference", "spread")
                rows.append({"analysis": "contrast_vs_spread", "variant": variant, "control": control,
                             "measure": measure, "estimate": slope, "ci_low": low, "ci_high": high, "p": p,
                             "method": method, "n_subjects": paired["subject"].nunique(), "n_runs": len(paired)})
    for variant in COMPRESSIBLE:
        runs = summary[summary["base_variant"] == variant]
        if runs["g1_scale"].nunique() < 2:
            continue
        for measure in PRIMARY_MEASURES:
            slope, low, high, p, method = _mixed_slope(runs, measure, "g1_scale")
            rows.append({"analysis": "compression", "variant": variant, "control": "", "measure": measure,
                         "estimate": slope, "ci_low": low, "ci_high": high, "p": p, "method": method,
                         "n_subjects": runs["subject"].nunique(), "n_runs": len(runs)})
    table = pd.DataFrame(rows, columns=[column for column in TEST_COLUMNS if column not in ("p_corrected",
                                                                                           "correction")])
    return _corrected(table)


def _standardised(frame: pd.DataFrame, column: str) -> pd.Series:
    """A subject-level variable standardised across subjects (each subject counted once)."""
    per_subject = frame.groupby("subject")[column].first()
    scale = per_subject.std()
    return (frame[column] - per_subject.mean()) / (scale if scale > 0 else 1.0)


def _corrected(table: pd.DataFrame) -> pd.DataFrame:
    """Holm over the contrasts, Benjamini–Hochberg within each regression family."""
    table = table.copy()
    table["p_corrected"] = np.nan
    table["correction"] = ""
    for analysis, correction in (("contrast", "holm"), ("contrast_vs_spread", "fdr_bh"), ("compression", "fdr_bh")):
        rows = table["analysis"] == analysis
        if rows.any():
            adjust = holm if correction == "holm" else fdr_bh
            table.loc[rows, "p_corrected"] = adjust(table.loc[rows, "p"].to_numpy())
            table.loc[rows, "correction"] = correction
    return table[TEST_COLUMNS]


def compression_table(summary: pd.DataFrame, seed: int, measures: Sequence[str] = PRIMARY_MEASURES) -> pd.DataFrame:
    """Dose–response of the compression experiment: per variant and G1 scale, each measure's mean and 95%
    CI over subjects (seeds averaged within subject)."""
    rows = []
    runs = summary[summary["base_variant"].isin(COMPRESSIBLE)]
    for (variant, scale), block in runs.groupby(["base_variant", "g1_scale"], sort=True):
        per_subject = block.groupby("subject")[list(measures)].mean()
        row: dict[str, object] = {"variant": variant, "g1_scale": scale, "n_subjects": len(per_subject)}
        for measure in measures:
            stats = describe(per_subject[measure], seed=derive_seed(seed, variant, scale, measure))
            row.update({f"{measure}_{key}": value for key, value in stats.items() if key != "n"})
        rows.append(row)
    return pd.DataFrame(rows)
