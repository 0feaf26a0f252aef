"""Tables of the cortico-cerebellar family: curriculum measures per run and group with 95% intervals,
ablation and dimensionality at the common levels, and the pre-declared contrasts with Holm-corrected p.

The common levels are the config's ``analysis_levels``, declared before any run: at each level N every
network is analysed as it was when it passed N (the ndms tasks of different N conflict, so a final
network says little about a level it left behind). Runs that never passed N are left out at N and
counted in the group's pass rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from brainrnn.cbrnn import ABLATION_CONDITIONS, DIMENSIONALITY_MEASURES, FROZEN_GROUPS, PLAIN_RNN, RUN_MEASURES
from brainrnn.seeding import derive_seed
from brainrnn.stats import describe, holm, paired_permutation_p, proportion_ci, two_sample_permutation_p

ALPHA = 0.05
"""Family-wise error rate of each claim's family of contrasts (Holm)."""
LEARNING_MEASURES = {"max_level": "greater", "auc": "greater", "epochs_to_half_max": "less"}
"""The source's efficiency measures and the direction in which the CB-RNN is claimed to beat the RNN."""
CLAIMS = {
    "cbrnn_vs_rnn": "the CB-RNN learns faster and further than the parameter-matched RNN",
    "freeze_vs_cbrnn": "a core frozen after level 1 keeps the CB-RNN's efficiency",
    "freeze_vs_rnn": "a CB-RNN with its core frozen after level 1 still beats the plain RNN",
    "ablation_drop": "removing the cerebellar bias after training lowers accuracy, at every common N",
    "ablated_vs_rnn": "without its cerebellar bias the CB-RNN falls to the plain RNN's accuracy at the same N",
    "dimensionality": "core activity of the CB-RNN and the plain RNN differs in dimensionality and timescale at N*",
}
"""The declared families of contrasts (one Holm correction per claim); see :func:`contrast_tests`."""


def curriculum_metrics(levels_by_epoch: np.ndarray) -> dict[str, float]:
    """Max, final and mean level, and the area under the level-against-epoch curve."""
    levels = np.asarray(levels_by_epoch, dtype=float)
    return {"max_level": float(levels.max()), "final_level": float(levels[-1]), "mean_level": float(levels.mean()),
            "auc": float(np.trapezoid(levels, dx=1.0)) if levels.size > 1 else float(levels.sum())}


def epochs_to_level(levels_by_epoch: np.ndarray, level: float) -> float:
    """First epoch (1-based) at which the level reaches ``level``; NaN if never."""
    reached = np.flatnonzero(np.asarray(levels_by_epoch) >= level)
    return float(reached[0] + 1) if reached.size else float("nan")


def _described(prefix: str, values: Iterable[float], seed: int) -> dict[str, float]:
    """``<prefix>_mean``, ``_sem``, ``_ci_low``, ``_ci_high`` (expanded bootstrap over seeds)."""
    stats = describe(np.asarray(list(values), dtype=float), seed=seed)
    return {f"{prefix}_{key}": stats[key] for key in ("mean", "sem", "ci_low", "ci_high")}


def summarise_runs(runs: pd.DataFrame, histories: pd.DataFrame, levels: Iterable[int], *,
                   seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-run metrics with epochs to half of the global max N, and per group the mean, SEM and 95% CI
    of every run measure and the rate (exact CI) of runs that passed level 1 and each analysis level."""
    global_max = float(histories["level"].max())
    runs = runs.copy()
    runs["epochs_to_half_max"] = [
        epochs_to_level(histories.loc[(histories["group"] == row.group) & (histories["seed"] == row.seed),
                                      "level"].to_numpy(), global_max / 2)
        for row in runs.itertuples()]
    rows = []
    passes = {"level_one": "level_one_epoch", **{f"level_{level}": f"level_{level}_epoch" for level in levels}}
    for group, block in runs.groupby("group", sort=False):
        row = {"group": group, "n_seeds": len(block), "n_parameters": int(block["n_parameters"].iloc[0]),
               "global_max_level": global_max}
        for name, column in passes.items():
            passed = int(block[column].notna().sum())
            low, high = proportion_ci(passed, len(block))
            row |= {f"passed_{name}_rate": passed / len(block), f"passed_{name}_ci_low": low,
                    f"passed_{name}_ci_high": high}
        for measure in RUN_MEASURES:
            row |= _described(measure, block[measure], derive_seed(seed, "cbrnn_summary", group, measure))
        rows.append(row)
    return runs, pd.DataFrame(rows)


def passed_only(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of networks that passed their level (the analyses' ``passed`` column)."""
    return table[table["passed"].astype(bool)]


def ablation_drops(ablation: pd.DataFrame) -> pd.DataFrame:
    """Per seed and level, intact accuracy minus each other condition's (for ``plain_rnn``: the CB-RNN's
    advantage over the plain RNN of the same seed index); networks that passed the level only."""
    conditions = [*ABLATION_CONDITIONS, PLAIN_RNN]
    wide = passed_only(ablation).pivot_table(index=["seed", "level"], columns="condition", values="accuracy")
    wide = wide.reindex(columns=conditions)
    drops = wide[conditions[1:]].rsub(wide["intact"], axis=0).reset_index()
    return drops.melt(id_vars=["seed", "level"], var_name="condition", value_name="drop_from_intact")


def summarise_ablation(ablation: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """Mean, SEM and 95% CI over seeds of the accuracy per condition and analysis level, and of its drop
    from the intact network (paired by seed); networks that passed the level only."""
    drops = ablation_drops(ablation)
    rows = []
    for condition in [name for name in [*ABLATION_CONDITIONS, PLAIN_RNN] if name in set(ablation["condition"])]:
        for level, block in ablation[ablation["condition"] == condition].groupby("level"):
            block = passed_only(block)
            paired = drops.loc[(drops["condition"] == condition) & (drops["level"] == level), "drop_from_intact"]
            rows.append({"condition": condition, "level": level, "n_seeds": len(block),
                         **_described("accuracy", block["accuracy"],
                                      derive_seed(seed, "cbrnn_ablation", condition, level)),
                         **_described("drop_from_intact", paired if condition != "intact" else np.zeros(len(block)),
                                      derive_seed(seed, "cbrnn_drop", condition, level))})
    return pd.DataFrame(rows)


def summarise_dimensionality(dimensionality: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """Mean, SEM and 95% CI of participation ratio and timescale per group, module and analysis level, and
    the mean number of active units; networks that passed the level only."""
    rows = []
    for (group, module, level), block in dimensionality.groupby(["group", "module", "level"], sort=False):
        block = passed_only(block)
        row = {"group": group, "module": module, "level": level, "n_seeds": len(block),
               "active_units": float(block["active_units"].mean()) if len(block) else float("nan")}
        for measure in DIMENSIONALITY_MEASURES:
            row |= _described(measure, block[measure], derive_seed(seed, "cbrnn_dimensionality", group, module,
                                                                    level, measure))
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Contrast:
    """One declared test: measure of ``group_a`` against ``group_b`` (paired by seed or two-sample) and the
    direction the source claims (greater / less: a than b; equal; different)."""

    claim: str
    measure: str
    level: float
    group_a: str
    group_b: str
    design: str
    expected: str


def declared_contrasts(levels: Iterable[int]) -> list[Contrast]:
    """Every pre-declared contrast (the families of :data:`CLAIMS`); ablation and dimensionality ones at each
    analysis level."""
    nan = float("nan")
    contrasts = [Contrast("cbrnn_vs_rnn", measure, nan, "cbrnn", "rnn", "two_sample", direction)
                 for measure, direction in LEARNING_MEASURES.items()]
    contrasts += [Contrast("freeze_vs_cbrnn", measure, nan, group, "cbrnn", "paired", "equal")
                  for group in FROZEN_GROUPS for measure in LEARNING_MEASURES]
    contrasts += [Contrast("freeze_vs_rnn", measure, nan, group, "rnn", "two_sample", direction)
                  for group in FROZEN_GROUPS for measure, direction in LEARNING_MEASURES.items()]
    for level in levels:
        contrasts.append(Contrast("ablation_drop", "accuracy", level, "intact", "no_cerebellum", "paired", "greater"))
        contrasts.append(Contrast("ablated_vs_rnn", "accuracy", level, "no_cerebellum", PLAIN_RNN, "two_sample",
                                  "equal"))
        contrasts += [Contrast("dimensionality", measure, level, "cbrnn", "rnn", "two_sample", "different")
                      for measure in DIMENSIONALITY_MEASURES]
    return contrasts


def verdict(expected: str, difference: float, p_holm: float) -> str:
    """What a contrast says about its claim at family-wise ``ALPHA``: a directional claim is supported only
    by a significant difference of the claimed sign; a claim of equality can only be contradicted."""
    if not np.isfinite(p_holm):
        return "untestable"
    significant = p_holm < ALPHA
    if expected == "equal":
        return "contradicted" if significant else "not contradicted"
    if not significant:
        return "not shown"
    if expected == "different" or (difference > 0) == (expected == "greater"):
        return "supported"
    return "contradicted"


def contrast_tests(runs: pd.DataFrame, ablation: pd.DataFrame, dimensionality: pd.DataFrame, *, levels: Iterable[int],
                   n_permutations: int, seed: int) -> pd.DataFrame:
    """Permutation test of every declared contrast (sign flips within seeds for paired designs, label
    shuffles otherwise; at a level, networks that passed it only), Holm-corrected within each claim, with
    its verdict."""
    ablation, dimensionality = passed_only(ablation), passed_only(dimensionality)
    core = dimensionality[dimensionality["module"] == "core"]

    def values(contrast: Contrast, group: str) -> pd.Series:
        """The contrast's measure of one group (or ablation condition), one value per seed."""
        if contrast.claim == "dimensionality":
            rows = core[(core["group"] == group) & (core["level"] == contrast.level)]
        elif contrast.measure == "accuracy":
            rows = ablation[(ablation["condition"] == group) & (ablation["level"] == contrast.level)]
        else:
            rows = runs[runs["group"] == group]
        return rows.set_index("seed")[contrast.measure].astype(float)

    rows = []
    for contrast in declared_contrasts(levels):
        first, second = values(contrast, contrast.group_a), values(contrast, contrast.group_b)
        test_seed = derive_seed(seed, "cbrnn_tests", contrast.claim, contrast.measure, contrast.level,
                                contrast.group_a, contrast.group_b)
        if contrast.design == "paired":
            pairs = pd.concat([first, second], axis=1, keys=["a", "b"]).dropna()
            first, second = pairs["a"], pairs["b"]
            p = paired_permutation_p(first - second, n_permutations=n_permutations, seed=test_seed)
        else:
            first, second = first.dropna(), second.dropna()
            p = two_sample_permutation_p(first, second, n_permutations=n_permutations, seed=test_seed)
        rows.append({**vars(contrast), "n_a": len(first), "n_b": len(second), "mean_a": float(first.mean()),
                     "mean_b": float(second.mean()), "difference": float(first.mean() - second.mean()), "p": p})
    tests = pd.DataFrame(rows)
    tests["p_holm"] = np.nan
    for _, index in tests.groupby("claim", sort=False).groups.items():
        tests.loc[index, "p_holm"] = holm(tests.loc[index, "p"].to_numpy())
    tests["verdict"] = [verdict(row.expected, row.difference, row.p_holm) for row in tests.itertuples()]
    return tests


CURVE_MEASURES = ("level", "test_accuracy")
"""History columns whose per-epoch mean and CI the figures draw."""


def curves(histories: pd.DataFrame, *, seed: int) -> pd.DataFrame:
    """Mean, SEM and 95% CI over seeds of the level and test accuracy per group and epoch (the figures' bands)."""
    rows = []
    for (group, epoch), block in histories.groupby(["group", "epoch"], sort=False):
        for measure in CURVE_MEASURES:
            rows.append({"group": group, "epoch": epoch, "measure": measure,
                         **describe(block[measure].to_numpy(dtype=float),
                                    seed=derive_seed(seed, "cbrnn_curve", group, epoch, measure))})
    return pd.DataFrame(rows)
