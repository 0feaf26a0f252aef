"""Figures of the cortico-cerebellar family: curriculum level against epoch, and the ablation drop."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from brainrnn.plotting import mean_sem_line, palette, reference_line

CONDITION_LABELS = {"intact": "intact", "no_cerebellum": "cerebellar bias removed",
                    "reinitialised_cerebellum": "cerebellum re-initialised"}
# every ablation condition is drawn in the CB-RNN's colour (the first group); line, marker and fill tell them apart
CONDITION_STYLES = {"intact": ("-", "o", "full"), "no_cerebellum": ("--", "s", "none"),
                    "reinitialised_cerebellum": (":", "^", "none")}


def levels_figure(histories: pd.DataFrame, groups: list[str]) -> Figure:
    """N against epoch per group (mean ± SEM over seeds)."""
    figure, axis = plt.subplots(figsize=(3.4, 2.4))
    colours = palette(groups)
    for group in groups:
        grouped = histories[histories["group"] == group].groupby("epoch")["level"]
        mean, sem = grouped.mean(), grouped.sem().fillna(0.0)
        mean_sem_line(axis, mean.index.to_numpy(), mean.to_numpy(), sem.to_numpy(), colours[group], group, steps=True)
    axis.set_xlabel("epoch")
    axis.set_ylabel("curriculum level N")
    axis.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axis.legend()
    return figure


def ablation_figure(ablation: pd.DataFrame) -> Figure:
    """Accuracy per level under each condition, and the drop from the intact network."""
    figure, (accuracy_axis, drop_axis) = plt.subplots(1, 2, figsize=(6.0, 2.4))
    colour = palette(["cbrnn"])["cbrnn"]
    for condition, label in CONDITION_LABELS.items():
        block = ablation[ablation["condition"] == condition].sort_values("level")
        line, marker, fill = CONDITION_STYLES[condition]
        style = {"color": colour, "ls": line, "marker": marker, "fillstyle": fill, "ms": 3.5, "lw": 1}
        accuracy_axis.errorbar(block["level"], block["accuracy_mean"], yerr=block["accuracy_sem"].fillna(0.0),
                               label=label, **style)
        if condition != "intact":
            drop_axis.plot(block["level"], block["drop_from_intact"], **style)
    reference_line(accuracy_axis, 0.5)
    accuracy_axis.set_xlabel("N")
    accuracy_axis.set_ylabel("test accuracy")
    accuracy_axis.legend()
    drop_axis.set_xlabel("N")
    drop_axis.set_ylabel("accuracy drop from intact")
    reference_line(drop_axis, 0.0)
    for axis in (accuracy_axis, drop_axis):
        axis.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    return figure
