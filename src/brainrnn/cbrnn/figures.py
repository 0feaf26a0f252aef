"""Figures of the cortico-cerebellar family: curriculum progress, cerebellar ablation, dimensionality.

Every group shares one epoch axis (level 1 included); bands and error bars are the 95% bootstrap CIs
of the mean over seeds that the summary computed (figures compute no statistics). Each panel is one
``draw_*`` function on one axis; the family figure, the stage figures and the overview only arrange
them. :func:`load` reads the workflow's tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from brainrnn.cbrnn import ABLATION_CONDITIONS, PLAIN_RNN
from brainrnn.plotting import DOUBLE_COLUMN_IN, label_panels, palette, reference_line, strip

CONDITION_STYLES = {"intact": ("-", "o", "full"), "no_cerebellum": ("--", "s", "none"),
                    "reinitialised_cerebellum": (":", "^", "none"), PLAIN_RNN: ("-", "D", "full")}
"""Ablation conditions are drawn in the CB-RNN's colour (line, marker and fill tell them apart); the
plain RNN at the same N in its own colour."""
CONDITION_LABELS = {**ABLATION_CONDITIONS, PLAIN_RNN: "plain RNN"}


@dataclass(frozen=True)
class CbrnnResults:
    """Per-group summary, curves per epoch, ablation, dimensionality and per-run measures (summary tables)."""

    summary: pd.DataFrame
    curves: pd.DataFrame
    ablation: pd.DataFrame
    dimensionality: pd.DataFrame
    runs: pd.DataFrame

    @property
    def groups(self) -> list[str]:
        return [str(group) for group in self.summary["group"]]

    @property
    def top_level(self) -> int:
        """The highest analysis level (the dimensionality panel's)."""
        return int(self.dimensionality["level"].max())


def load(summary: str, curves: str, ablation: str, dimensionality: str, runs: str) -> CbrnnResults:
    """Read the family's summary tables."""
    return CbrnnResults(*(pd.read_csv(path, sep="\t") for path in (summary, curves, ablation, dimensionality, runs)))


def interval(block: pd.DataFrame, prefix: str) -> np.ndarray:
    """Asymmetric error bars (2, n) from ``<prefix>_mean`` and its CI columns (none where undefined)."""
    mean = block[f"{prefix}_mean"].to_numpy(dtype=float)
    low = mean - block[f"{prefix}_ci_low"].to_numpy(dtype=float)
    high = block[f"{prefix}_ci_high"].to_numpy(dtype=float) - mean
    return np.nan_to_num(np.vstack([low, high]))


def draw_curriculum(axis: Axes, cbrnn: CbrnnResults, measure: str = "level", label: str = "curriculum level N") -> None:
    """One curriculum measure against epoch per group: mean and 95% CI band over seeds."""
    colours = palette(cbrnn.groups)
    steps = measure == "level"
    for group in cbrnn.groups:
        curve = cbrnn.curves[(cbrnn.curves["group"] == group) & (cbrnn.curves["measure"] == measure)]
        curve = curve.sort_values("epoch")
        epochs = curve["epoch"].to_numpy()
        axis.plot(epochs, curve["mean"], color=colours[group], label=group,
                  drawstyle="steps-post" if steps else "default")
        axis.fill_between(epochs, curve["ci_low"].fillna(curve["mean"]), curve["ci_high"].fillna(curve["mean"]),
                          color=colours[group], alpha=0.2, lw=0, step="post" if steps else None)
    axis.set_xlabel("epoch (level 1 included)")
    axis.set_ylabel(label)
    if steps:
        axis.yaxis.set_major_locator(plt.MaxNLocator(integer=True))


def draw_ablation(axis: Axes, cbrnn: CbrnnResults, prefix: str = "accuracy") -> None:
    """At each analysis level N, the CB-RNN's accuracy intact and ablated beside the plain RNN's, each network
    as it was when it passed N (``prefix`` accuracy), or the drop from the intact network
    (``drop_from_intact``); 95% CIs."""
    colours = palette(cbrnn.groups)
    conditions = list(CONDITION_LABELS) if prefix == "accuracy" else [name for name in ABLATION_CONDITIONS
                                                                        if name != "intact"]
    for index, condition in enumerate(conditions):
        block = cbrnn.ablation[cbrnn.ablation["condition"] == condition].sort_values("level")
        colour = colours.get("rnn" if condition == PLAIN_RNN else "cbrnn", "black")
        line, marker, fill = CONDITION_STYLES[condition]
        offset = 0.12 * (index - (len(conditions) - 1) / 2)
        axis.errorbar(block["level"] + offset, block[f"{prefix}_mean"], yerr=interval(block, prefix), color=colour,
                      ls=line, marker=marker, ms=3.5, fillstyle=fill, lw=1.0, capsize=0,
                      label=CONDITION_LABELS[condition])
    levels = sorted(set(cbrnn.ablation["level"]))
    axis.set_xticks(levels)
    axis.set_xlim(min(levels) - 0.5, max(levels) + 0.5)
    axis.set_xlabel("N (each network as it passed N)")
    if prefix == "accuracy":
        reference_line(axis, 0.5)
        axis.set_ylabel("test accuracy")
    else:
        reference_line(axis, 0.0)
        axis.set_ylabel("accuracy drop from intact")


def draw_dimensionality(axis: Axes, cbrnn: CbrnnResults) -> None:
    """Participation ratio of each module's activity per group at the highest analysis level (bars: mean,
    95% CI)."""
    table = cbrnn.dimensionality[cbrnn.dimensionality["level"] == cbrnn.top_level]
    modules = list(dict.fromkeys(table["module"]))
    colours = palette(cbrnn.groups)
    width = 0.8 / len(cbrnn.groups)
    for index, group in enumerate(cbrnn.groups):
        block = table[table["group"] == group].set_index("module").reindex(modules)
        axis.bar(np.arange(len(modules)) - 0.4 + width * (index + 0.5), block["participation_ratio_mean"],
                 width * 0.9, yerr=interval(block, "participation_ratio"), color=colours[group], label=group,
                 error_kw={"lw": 0.8})
    axis.set_xticks(range(len(modules)), modules)
    axis.set_ylabel(f"participation ratio at N = {cbrnn.top_level}")


def draw_run_measure(axis: Axes, cbrnn: CbrnnResults, measure: str, label: str) -> None:
    """One per-run measure by group: one point per seed, the mean and its 95% CI."""
    colours = palette(cbrnn.groups)
    strip(axis, {group: cbrnn.runs.loc[cbrnn.runs["group"] == group, measure] for group in cbrnn.groups}, colours)
    summary = cbrnn.summary.set_index("group")
    for position, group in enumerate(cbrnn.groups):
        axis.vlines(position + 0.22, summary.at[group, f"{measure}_ci_low"], summary.at[group, f"{measure}_ci_high"],
                    color=colours[group], lw=1.2)
    axis.set_ylabel(label)


def family_figure(cbrnn: CbrnnResults) -> Figure:
    """Curriculum and cerebellum: A–B level and test accuracy per epoch; C–D ablation beside the plain RNN;
    E module dimensionality at N*; F mean level over training per seed."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 4.8))
    axes = figure.subplot_mosaic([["A", "B", "C"], ["D", "E", "F"]])
    draw_curriculum(axes["A"], cbrnn)
    axes["A"].legend(loc="best")
    draw_curriculum(axes["B"], cbrnn, "test_accuracy", "test accuracy")
    draw_ablation(axes["C"], cbrnn)
    axes["C"].legend(loc="best")
    draw_ablation(axes["D"], cbrnn, "drop_from_intact")
    draw_dimensionality(axes["E"], cbrnn)
    draw_run_measure(axes["F"], cbrnn, "mean_level", "mean level over training")
    axes["F"].tick_params(axis="x", rotation=30)
    label_panels([axes[key] for key in "ABCDEF"],
                 ["Curriculum", None, "Cerebellar ablation", None, "Dimensionality", "Per seed"])
    return figure


def levels_figure(cbrnn: CbrnnResults) -> Figure:
    """N against epoch per group."""
    figure, axis = plt.subplots(figsize=(3.4, 2.4))
    draw_curriculum(axis, cbrnn)
    axis.legend()
    return figure


def ablation_figure(cbrnn: CbrnnResults) -> Figure:
    """Accuracy per level under each ablation condition beside the plain RNN, and the drop from intact."""
    figure, (accuracy, drop) = plt.subplots(1, 2, figsize=(6.0, 2.4))
    draw_ablation(accuracy, cbrnn)
    accuracy.legend()
    draw_ablation(drop, cbrnn, "drop_from_intact")
    return figure


def overview_panel(axis: Axes, cbrnn: CbrnnResults) -> None:
    """The family's key result for the overview page: curriculum progress per group."""
    draw_curriculum(axis, cbrnn)
    axis.legend(loc="best")
