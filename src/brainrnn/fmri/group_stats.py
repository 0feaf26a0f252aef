"""Group statistics of the fMRI measures: covariate-adjusted group differences and a τ × extremity interaction.

Declared family of tests (FDR, Benjamini–Hochberg, over all of them together):

* for each spread measure and the subject's mean τ, and each group against the reference group:
  OLS ``measure ~ group + covariates`` (statsmodels); the p-value comes from Freedman–Lane
  permutations (residuals of the covariates-only model permuted, so covariates may be related
  to the group); effect size = the group coefficient in units of the residual standard deviation
  (an adjusted Cohen's d), with the 95% CI of the coefficient scaled the same way;
* for each group against the reference: the group × extremity interaction on regional τ, from a
  linear mixed model ``tau ~ extremity * group + covariates`` with a random intercept per subject
  (statsmodels MixedLM, Wald p); effect size = the interaction coefficient scaled by the SD of
  extremity over the SD of τ.

Covariates are optional sheet columns (``age``, ``sex``, ``site``; categorical ones dummy-coded)
and the subject's mean framewise displacement (``mean_fd``), used when present and measured.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

CATEGORICAL_COVARIATES = ("sex", "site")
COVARIATES = ("age", "sex", "mean_fd", "site")
"""Covariates a study can adjust for (``group_stats.covariates``)."""
MEASURES = ("g1_range", "dispersion", "explained_G1", "g1_range_matched", "dispersion_native", "dispersion_full",
            "mean_tau")
"""Subject-level measures a group difference can be tested on (``group_stats.measures``)."""
COLUMNS = ("test", "measure", "contrast", "n_subjects", "estimate", "ci_low", "ci_high", "effect_size",
           "effect_ci_low", "effect_ci_high", "p_parametric", "p_permutation", "p", "q_fdr", "model", "covariates",
           "status")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupTestOptions:
    """Settings of the group statistics (``group_stats`` in the config holds the defaults)."""

    covariates: tuple[str, ...]
    reference_group: str | None
    n_permutations: int
    measures: tuple[str, ...]

    @classmethod
    def from_config(cls, section: dict) -> GroupTestOptions:
        return cls(covariates=tuple(section["covariates"]), reference_group=section["reference_group"],
                   n_permutations=section["n_permutations"], measures=tuple(section["measures"]))


def usable_covariates(subjects: pd.DataFrame, wanted: Sequence[str]) -> list[str]:
    """The wanted covariates that every subject has a value for; one that is absent, unmeasured or missing for
    some subjects is left out (said in the log)."""
    usable = []
    for column in wanted:
        present = subjects[column].replace("", np.nan).notna() if column in subjects.columns else None
        if present is not None and present.all():
            usable.append(column)
        elif present is not None and present.any():
            log.warning("covariate %s is missing for %d subjects and is left out", column, int((~present).sum()))
        else:
            log.info("covariate %s is not given or not measured and is left out", column)
    return usable


def design_matrix(subjects: pd.DataFrame, groups: Sequence[str], covariates: Sequence[str]) -> pd.DataFrame:
    """Intercept, one indicator per non-reference group (``groups[0]`` is the reference) and covariates.

    Numeric covariates are centred; categorical ones (sex, site) get one indicator per level but the first.
    """
    columns = {"intercept": np.ones(len(subjects))}
    for group in groups[1:]:
        columns[f"group[{group}]"] = (subjects["group"] == group).to_numpy(dtype=float)
    for covariate in covariates:
        if covariate in CATEGORICAL_COVARIATES:
            levels = sorted(subjects[covariate].astype(str).unique())
            for level in levels[1:]:
                columns[f"{covariate}[{level}]"] = (subjects[covariate].astype(str) == level).to_numpy(dtype=float)
        else:
            values = subjects[covariate].astype(float).to_numpy()
            columns[covariate] = values - values.mean()
    return pd.DataFrame(columns, index=subjects.index)


def freedman_lane(response: np.ndarray, design: np.ndarray, column: int, n_permutations: int,
                  rng: np.random.Generator) -> tuple[float, float]:
    """t of one coefficient and its two-sided Freedman–Lane permutation p ((k + 1) / (n + 1)).

    The covariates-only model's residuals are permuted and added back to its fitted values; the full
    model is refitted to each permuted response (all permutations solved at once).
    """
    reduced = np.delete(design, column, axis=1)
    fitted = reduced @ np.linalg.lstsq(reduced, response, rcond=None)[0]
    residuals = response - fitted
    permutations = np.argsort(rng.random((n_permutations, response.size)), axis=1)
    responses = np.column_stack([response, (fitted[None, :] + residuals[permutations]).T])
    pseudo_inverse = np.linalg.pinv(design)
    coefficients = pseudo_inverse @ responses
    errors = responses - design @ coefficients
    dof = response.size - np.linalg.matrix_rank(design)
    scale = np.sqrt((errors**2).sum(axis=0) / dof * (pseudo_inverse @ pseudo_inverse.T)[column, column])
    t_values = coefficients[column] / scale
    extreme = np.sum(np.abs(t_values[1:]) >= abs(t_values[0]) - 1e-12)
    return float(t_values[0]), float((extreme + 1) / (n_permutations + 1))


def group_difference(subjects: pd.DataFrame, measure: str, groups: Sequence[str], covariates: Sequence[str],
                     n_permutations: int, rng: np.random.Generator) -> list[dict]:
    """Covariate-adjusted difference of ``measure`` between each group and the reference (one row each)."""
    import statsmodels.api as sm

    design = design_matrix(subjects, groups, covariates)
    response = subjects[measure].astype(float).to_numpy()
    fit = sm.OLS(response, design).fit()
    residual_sd = float(np.sqrt(fit.mse_resid))
    rows = []
    for group in groups[1:]:
        name = f"group[{group}]"
        low, high = fit.conf_int(alpha=0.05).loc[name]
        _, p_permutation = freedman_lane(response, design.to_numpy(), list(design.columns).index(name),
                                         n_permutations, rng)
        rows.append({"test": "group_difference", "measure": measure, "contrast": f"{group} - {groups[0]}",
                     "n_subjects": len(subjects), "estimate": float(fit.params[name]), "ci_low": float(low),
                     "ci_high": float(high), "effect_size": float(fit.params[name]) / residual_sd,
                     "effect_ci_low": float(low) / residual_sd, "effect_ci_high": float(high) / residual_sd,
                     "p_parametric": float(fit.pvalues[name]), "p_permutation": p_permutation,
                     "model": f"OLS {measure} ~ group" + "".join(f" + {c}" for c in covariates)})
    return rows


def extremity_interaction(regions: pd.DataFrame, subjects: pd.DataFrame, groups: Sequence[str],
                          covariates: Sequence[str]) -> list[dict]:
    """Group × extremity interaction on regional τ (mixed model, random intercept per subject).

    ``regions`` has one row per subject × region with columns subject, tau_s and extremity.
    """
    import statsmodels.api as sm

    data = regions.dropna(subset=["tau_s", "extremity"]).reset_index(drop=True)
    subject_design = design_matrix(subjects, groups, covariates).drop(columns="intercept")
    per_region = subject_design.reindex(data["subject"]).reset_index(drop=True)
    extremity = data["extremity"].to_numpy(dtype=float)
    design = pd.concat([pd.DataFrame({"intercept": 1.0, "extremity": extremity - extremity.mean()}), per_region],
                       axis=1)
    for group in groups[1:]:
        design[f"extremity:group[{group}]"] = design["extremity"] * design[f"group[{group}]"]
    fit = sm.MixedLM(data["tau_s"].to_numpy(dtype=float), design, groups=data["subject"].to_numpy()).fit(reml=True)
    scale = float(np.std(extremity) / np.std(data["tau_s"]))
    rows = []
    for group in groups[1:]:
        name = f"extremity:group[{group}]"
        low, high = fit.conf_int(alpha=0.05).loc[name]
        rows.append({"test": "extremity_interaction", "measure": "tau_s", "contrast": f"{group} - {groups[0]}",
                     "n_subjects": int(data["subject"].nunique()), "estimate": float(fit.params[name]),
                     "ci_low": float(low), "ci_high": float(high), "effect_size": float(fit.params[name]) * scale,
                     "effect_ci_low": float(low) * scale, "effect_ci_high": float(high) * scale,
                     "p_parametric": float(fit.pvalues[name]), "p_permutation": np.nan,
                     "model": "MixedLM tau_s ~ extremity * group" + "".join(f" + {c}" for c in covariates)
                              + " + (1 | subject)"})
    return rows


def fdr(pvalues: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q), NaN kept as NaN."""
    from statsmodels.stats.multitest import multipletests

    values = np.asarray(pvalues, dtype=float)
    adjusted = np.full(values.shape, np.nan)
    finite = np.isfinite(values)
    if finite.any():
        adjusted[finite] = multipletests(values[finite], method="fdr_bh")[1]
    return adjusted


def group_statistics(subjects: pd.DataFrame, regions: pd.DataFrame, options: GroupTestOptions,
                     rng: np.random.Generator) -> pd.DataFrame:
    """The declared family of group tests as one table; a single row saying why when they cannot run.

    ``subjects``: one row per included subject with group, the measures and any covariates;
    ``regions``: one row per subject × region with tau_s and extremity.
    """
    groups = sorted(subjects["group"].unique())
    if options.reference_group is not None and options.reference_group in groups:
        groups = [options.reference_group] + [group for group in groups if group != options.reference_group]
    if len(groups) < 2:
        status = f"skipped: one group ({', '.join(groups)}), no group contrast to test"
        log.info("%s", status)
        return pd.DataFrame([{**dict.fromkeys(COLUMNS, np.nan), "n_subjects": len(subjects), "status": status}],
                            columns=list(COLUMNS))
    covariates = usable_covariates(subjects, options.covariates)
    log.info("groups %s (reference %s), covariates %s, %d subjects", groups, groups[0], covariates, len(subjects))
    rows = [row for measure in options.measures
            for row in group_difference(subjects, measure, groups, covariates, options.n_permutations, rng)]
    rows += extremity_interaction(regions, subjects, groups, covariates)
    table = pd.DataFrame(rows)
    table["p"] = table["p_permutation"].fillna(table["p_parametric"])
    table["q_fdr"] = fdr(table["p"])
    table["covariates"] = ",".join(covariates) or "none"
    table["status"] = "tested"
    return table[list(COLUMNS)]
