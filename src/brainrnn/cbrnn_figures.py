"""Figures of the cortico-cerebellar family: curriculum level against epoch, and the ablation drop."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from brainrnn.plotting import GROUP_COLOURS

CONDITION_LABELS = {"intact": "intact", "no_cerebellum": "cerebellar bias removed",
                    "reinitialised_cerebellum": "cerebellum re-initialised"}


def levels_figure(histories: pd.DataFrame, groups: list[str]) -> Figure:
    """N against epoch per group (mean ± SEM over seeds)."""
    figure, axis = plt.subplots(figsize=(3.4, 2.4))
    for index, group in enumerate(groups):
        grouped = histories[histories["group"] == group].groupby("epoch")["level"]
        mean, sem = grouped.mean(), grouped.sem().fillna(0.0)
        colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
        axis.plot(mean.index, mean.to_numpy(), color=colour, lw=1.2, label=group)
        axis.fill_between(mean.index, (mean - sem).to_numpy(), (mean + sem).to_numpy(), color=colour, alpha=0.2, lw=0)
    axis.set_xlabel("epoch")
    axis.set_ylabel("curriculum level N")
    axis.legend(frameon=False)
    return figure


def ablation_figure(ablation: pd.DataFrame) -> Figure:
    """Accuracy per level under each condition, and the drop from the intact network."""
    figure, (accuracy_axis, drop_axis) = plt.subplots(1, 2, figsize=(6.0, 2.4))
    for index, (condition, label) in enumerate(CONDITION_LABELS.items()):
        block = ablation[ablation["condition"] == condition].sort_values("level")
        colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
        accuracy_axis.errorbar(block["level"], block["accuracy_mean"], yerr=block["accuracy_sem"].fillna(0.0),
                               color=colour, marker="o", ms=3, lw=1, label=label)
        if condition != "intact":
            drop_axis.plot(block["level"], block["drop_from_intact"], color=colour, marker="o", ms=3, lw=1)
    accuracy_axis.axhline(0.5, color="0.6", lw=0.7, ls="--")
    accuracy_axis.set_xlabel("N")
    accuracy_axis.set_ylabel("test accuracy")
    accuracy_axis.legend(frameon=False, fontsize="small")
    drop_axis.set_xlabel("N")
    drop_axis.set_ylabel("accuracy drop from intact")
    return figure
