"""Tables of the MICrONS-constrained family: per run, per condition with intervals, and the declared tests.

Every condition (mode × field × variant × task) gets, per measure, the mean over seeds, its SEM and
an expanded-bootstrap 95% interval (:func:`brainrnn.stats.describe`), and the share of runs above
chance with its exact binomial interval. A run is above chance when its test accuracy beats the task's
ignore-the-cue level (:func:`brainrnn.microns.chance_level`) in a one-sided exact binomial test over
its test trials at ``ABOVE_CHANCE_ALPHA``.

The contrasts are declared before any result is seen (:func:`declared_contrasts`): per mode, field
and task, every bio-initialised variant run (init ``W*`` or ``W!``) against the baseline ``W`` and
against every diagonal control run with the same penalty (W*D*C against W0D*C, W*offD*C, W*shufD*C,
W*diagD*C). The accuracy family tests held-out accuracy on all of them; the graph family tests the
paper's other claims (modularity, small-worldness against both nulls) against ``W`` only. Each test
is a two-sided label-shuffle permutation test with seeds as samples; p-values are Holm-corrected
within each family over every mode, field and task run, and each difference of means carries an
expanded-bootstrap 95% interval (:func:`difference_ci`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as scipy_stats

from brainrnn.microns import BIO_INITS, DIAGONAL_INITS, Variant
from brainrnn.seeding import derive_seed
from brainrnn.stats import BOOTSTRAP_RESAMPLES, CI_LEVEL, describe, holm, proportion_ci, two_sample_permutation_p

MEASURES = ("final_accuracy", "train_accuracy_last", "modularity", "small_worldness", "small_worldness_degree",
            "assortativity", "weight_entropy_bits", "n_fixed_points", "n_slow_points", "max_abs_eigenvalue",
            "attractor_abs_eigenvalue", "attractor_fraction", "init_spectral_radius", "init_diagonal_share")
KEYS = ["mode", "field", "variant", "task"]
APPLIED = ["lambda", "lambda_emd", "penalty_diagonal"]
"""Penalty settings a run applied: fixed per mode × field × variant (λ rescaled in matched mode)."""
ABOVE_CHANCE_ALPHA = 0.01
FAMILIES = {"accuracy": ("final_accuracy",), "graph": ("modularity", "small_worldness", "small_worldness_degree")}
"""The declared test families and their measures; the graph family compares with ``W`` only."""
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Contrast:
    """A declared comparison: ``variant`` against ``baseline`` (``kind``: 'baseline W' or 'diagonal control')."""

    variant: str
    baseline: str
    kind: str


def declared_contrasts(variants: Sequence[str]) -> list[Contrast]:
    """Every bio-initialised variant against ``W`` and against each diagonal control with its penalty."""
    parsed = {name: Variant.parse(name) for name in variants}
    contrasts = []
    for name, variant in parsed.items():
        if variant.init not in BIO_INITS:
            continue
        if "W" in parsed:
            contrasts.append(Contrast(name, "W", "baseline W"))
        contrasts += [Contrast(name, control, "diagonal control") for control, other in parsed.items()
                      if other.init in DIAGONAL_INITS and other.penalty == variant.penalty]
    return contrasts


def above_chance(accuracy: float, trials: int, chance: float) -> bool:
    """Whether ``accuracy`` over ``trials`` beats ``chance`` (one-sided exact binomial, ABOVE_CHANCE_ALPHA)."""
    correct = int(round(accuracy * trials))
    return bool(scipy_stats.binomtest(correct, trials, chance, alternative="greater").pvalue < ABOVE_CHANCE_ALPHA)


def difference_ci(first: ArrayLike, second: ArrayLike, *, seed: int, level: float = CI_LEVEL,
                  n_resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """Expanded-percentile bootstrap interval of mean(first) − mean(second), the samples resampled apart.

    As :func:`brainrnn.stats.mean_ci`, with the small-sample widening of the smaller sample's size.
    Fewer than two finite values in either sample give NaNs; two constant samples give their difference.
    """
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        return float("nan"), float("nan")
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return float(a[0] - b[0]), float(a[0] - b[0])
    n = min(a.size, b.size)
    tail = scipy_stats.norm.cdf(np.sqrt(n / (n - 1)) * scipy_stats.t.ppf((1 - level) / 2, n - 1))
    rng = np.random.default_rng(seed)
    means = (a[rng.integers(0, a.size, size=(n_resamples, a.size))].mean(axis=1)
             - b[rng.integers(0, b.size, size=(n_resamples, b.size))].mean(axis=1))
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def describe_conditions(runs: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """One row per mode × field × variant × task: applied penalty settings, per measure mean, SEM and 95%
    CI, and the share of runs above chance with its exact interval."""
    rows = []
    for keys, group in runs.groupby(KEYS, sort=False):
        row = dict(zip(KEYS, keys, strict=True))
        row.update(group[APPLIED].iloc[0].to_dict())
        for measure in MEASURES:
            summary = describe(group[measure].to_numpy(dtype=float), seed=derive_seed(seed, *keys, measure))
            row.update({f"{measure}_{name}": summary[name] for name in ("mean", "sem", "ci_low", "ci_high")})
        successes, count = int(group["above_chance"].sum()), len(group)
        low, high = proportion_ci(successes, count)
        row.update({"above_chance_rate": successes / count, "above_chance_ci_low": low, "above_chance_ci_high": high,
                    "n_seeds": count})
        rows.append(row)
    return pd.DataFrame(rows)


def contrast_tests(runs: pd.DataFrame, *, seed: int, n_permutations: int) -> pd.DataFrame:
    """Every declared contrast present in ``runs`` as a permutation test, Holm-corrected within its family."""
    columns = ["family", "mode", "field", "task", "measure", "variant", "baseline", "contrast", "n_variant",
               "n_baseline", "mean_variant", "mean_baseline", "difference", "difference_ci_low", "difference_ci_high",
               "p", "p_holm", "significant"]
    rows = []
    contrasts = declared_contrasts(list(dict.fromkeys(runs["variant"])))
    for (mode, field, task), group in runs.groupby(["mode", "field", "task"], sort=False):
        by_variant = dict(list(group.groupby("variant", sort=False)))
        for family, measures in FAMILIES.items():
            for contrast in contrasts:
                if contrast.variant not in by_variant or contrast.baseline not in by_variant:
                    continue
                if family == "graph" and contrast.kind != "baseline W":
                    continue
                for measure in measures:
                    first = by_variant[contrast.variant][measure].to_numpy(dtype=float)
                    second = by_variant[contrast.baseline][measure].to_numpy(dtype=float)
                    stream = derive_seed(seed, mode, field, task, measure, contrast.variant, contrast.baseline)
                    low, high = difference_ci(first, second, seed=stream)
                    rows.append({"family": family, "mode": mode, "field": field, "task": task, "measure": measure,
                                 "variant": contrast.variant, "baseline": contrast.baseline,
                                 "contrast": contrast.kind, "n_variant": int(np.isfinite(first).sum()),
                                 "n_baseline": int(np.isfinite(second).sum()),
                                 "mean_variant": float(np.nanmean(first)), "mean_baseline": float(np.nanmean(second)),
                                 "difference": float(np.nanmean(first) - np.nanmean(second)),
                                 "difference_ci_low": low, "difference_ci_high": high,
                                 "p": two_sample_permutation_p(first, second, n_permutations=n_permutations,
                                                               seed=stream)})
    tests = pd.DataFrame(rows, columns=[column for column in columns if column not in ("p_holm", "significant")])
    tests["p_holm"] = np.nan
    for family in FAMILIES:
        chosen = tests["family"] == family
        if chosen.any():
            tests.loc[chosen, "p_holm"] = holm(tests.loc[chosen, "p"].to_numpy(dtype=float))
    tests["significant"] = tests["p_holm"] < SIGNIFICANCE
    return tests[columns]


def summarise(runs: pd.DataFrame, fixed_points: pd.DataFrame, reported: pd.DataFrame, *, seed: int,
              n_permutations: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Per-run table with fixed-point measures and the above-chance call; per-condition summary with
    intervals and the authors' reported accuracy beside ours; the declared contrasts' tests."""
    runs = runs.astype({"field": str}).merge(
        fixed_points.drop(columns=["family"], errors="ignore").astype({"field": str}),
        on=[*KEYS, "seed"], how="left", validate="one_to_one")
    runs["above_chance"] = [above_chance(accuracy, trials, chance) for accuracy, trials, chance
                            in zip(runs["final_accuracy"], runs["test_trials"], runs["chance_level"], strict=True)]
    summary = describe_conditions(runs, seed=seed)
    authors = reported.melt(id_vars="task", var_name="variant", value_name="reported_accuracy")
    summary = summary.merge(authors, on=["task", "variant"], how="left")
    return runs, summary, contrast_tests(runs, seed=seed, n_permutations=n_permutations)
