"""Figures of the cortico-cerebellar family: curriculum progress, cerebellar ablation, dimensionality.

Each panel is one ``draw_*`` function on one axis; the family figure, the stage figures and the
overview only arrange them. :func:`load` reads the workflow's tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from brainrnn.cbrnn import ABLATION_CONDITIONS
from brainrnn.plotting import DOUBLE_COLUMN_IN, label_panels, mean_sem_line, palette, reference_line, strip

CONDITION_STYLES = {"intact": ("-", "o", "full"), "no_cerebellum": ("--", "s", "none"),
                    "reinitialised_cerebellum": (":", "^", "none")}
"""Every ablation condition is drawn in the CB-RNN's colour; line, marker and fill tell them apart."""


@dataclass(frozen=True)
class CbrnnResults:
    """Curriculum histories per group and seed, ablation, dimensionality and per-run measures."""

    histories: pd.DataFrame
    ablation: pd.DataFrame
    dimensionality: pd.DataFrame
    runs: pd.DataFrame
    groups: list[str]


def load(histories: Sequence[str], keys: Sequence[dict[str, object]], ablation: str, dimensionality: str,
         runs: str) -> CbrnnResults:
    """Read the family's tables; ``keys`` holds group and seed of each history."""
    frames = [pd.read_csv(path, sep="\t").assign(**key) for path, key in zip(histories, keys, strict=True)]
    return CbrnnResults(histories=pd.concat(frames, ignore_index=True),
                        ablation=pd.read_csv(ablation, sep="\t"), dimensionality=pd.read_csv(dimensionality, sep="\t"),
                        runs=pd.read_csv(runs, sep="\t"), groups=list(dict.fromkeys(str(key["group"]) for key in keys)))


def draw_curriculum(axis: Axes, cbrnn: CbrnnResults, column: str = "level", label: str = "curriculum level N") -> None:
    """One curriculum measure against epoch per group (mean ± SEM over seeds)."""
    colours = palette(cbrnn.groups)
    for group in cbrnn.groups:
        grouped = cbrnn.histories[cbrnn.histories["group"] == group].groupby("epoch")[column]
        mean, sem = grouped.mean(), grouped.sem().fillna(0.0)
        mean_sem_line(axis, mean.index.to_numpy(), mean.to_numpy(), sem.to_numpy(), colours[group], group,
                      steps=column == "level")
    axis.set_xlabel("epoch")
    axis.set_ylabel(label)
    if column == "level":
        axis.yaxis.set_major_locator(plt.MaxNLocator(integer=True))


def draw_ablation(axis: Axes, cbrnn: CbrnnResults, column: str = "accuracy_mean") -> None:
    """CB-RNN test accuracy (or its drop) per level, intact and with the cerebellum ablated."""
    colour = palette(cbrnn.groups)["cbrnn"] if "cbrnn" in cbrnn.groups else "black"
    for condition, label in ABLATION_CONDITIONS.items():
        block = cbrnn.ablation[cbrnn.ablation["condition"] == condition].sort_values("level")
        if column == "drop_from_intact" and condition == "intact":
            continue
        line, marker, fill = CONDITION_STYLES[condition]
        yerr = block["accuracy_sem"].fillna(0.0) if column == "accuracy_mean" else None
        axis.errorbar(block["level"], block[column], yerr=yerr, color=colour, ls=line, marker=marker, ms=3.5,
                      fillstyle=fill, lw=1.0, capsize=0, label=label)
    axis.set_xlabel("N")
    axis.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    if column == "accuracy_mean":
        reference_line(axis, 0.5)
        axis.set_ylabel("CB-RNN test accuracy")
    else:
        reference_line(axis, 0.0)
        axis.set_ylabel("accuracy drop from intact")


def draw_dimensionality(axis: Axes, cbrnn: CbrnnResults) -> None:
    """Participation ratio of each module's activity per group (grouped bars)."""
    modules = list(dict.fromkeys(cbrnn.dimensionality["module"]))
    colours = palette(cbrnn.groups)
    width = 0.8 / len(cbrnn.groups)
    for index, group in enumerate(cbrnn.groups):
        values = cbrnn.dimensionality[cbrnn.dimensionality["group"] == group].set_index("module")
        values = values["participation_ratio"].reindex(modules)
        axis.bar(np.arange(len(modules)) - 0.4 + width * (index + 0.5), values.to_numpy(), width * 0.9,
                 color=colours[group], label=group)
    axis.set_xticks(range(len(modules)), modules)
    axis.set_ylabel("participation ratio")


def draw_run_measure(axis: Axes, cbrnn: CbrnnResults, column: str, label: str) -> None:
    """One per-run measure (one point per seed) by group."""
    strip(axis, {group: cbrnn.runs.loc[cbrnn.runs["group"] == group, column] for group in cbrnn.groups},
          palette(cbrnn.groups))
    axis.set_ylabel(label)


def family_figure(cbrnn: CbrnnResults) -> Figure:
    """Curriculum and cerebellum: A–B level and test accuracy per epoch; C–D ablation; E module
    dimensionality; F mean level over training per seed."""
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
    """Accuracy per level under each ablation condition, and the drop from the intact network."""
    figure, (accuracy, drop) = plt.subplots(1, 2, figsize=(6.0, 2.4))
    draw_ablation(accuracy, cbrnn)
    accuracy.legend()
    draw_ablation(drop, cbrnn, "drop_from_intact")
    return figure


def overview_panel(axis: Axes, cbrnn: CbrnnResults) -> None:
    """The family's key result for the overview page: curriculum progress per group."""
    draw_curriculum(axis, cbrnn)
    axis.legend(loc="best")
