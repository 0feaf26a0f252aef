"""Summaries and figures of the MICrONS-constrained family."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from brainrnn.plotting import vector_colorbar

MEASURES = ("final_accuracy", "train_accuracy_last", "modularity", "small_worldness", "assortativity", "weight_entropy_bits",
            "n_fixed_points", "max_abs_eigenvalue")
KEYS = ["mode", "field", "variant", "task"]
MODE_ORDER = ("faithful", "corrected", "matched")
"""``variants.MODES``, restated so that this module (run in the torch-free fmri environment) needs no torch."""
APPLIED = ["lambda", "lambda_emd"]
"""Penalty strengths a run applied: fixed per mode × field × variant (rescaled in matched mode)."""


def ordered_modes(summary: pd.DataFrame) -> list[str]:
    """The modes present, in the order faithful, corrected, matched."""
    return [mode for mode in MODE_ORDER if mode in set(summary["mode"])]


def summarise(runs: pd.DataFrame, fixed_points: pd.DataFrame, reported: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                                                pd.DataFrame]:
    """Per-run table with fixed-point measures, and mean/SEM per mode × field × variant × task with the
    λ and λ_EMD applied and the authors' reported accuracy beside ours."""
    runs = runs.astype({"field": str}).merge(
        fixed_points.drop(columns=["family"], errors="ignore").astype({"field": str}),
        on=[*KEYS, "seed"], how="left", validate="one_to_one")
    grouped = runs.groupby(KEYS, sort=False)
    summary = grouped[APPLIED].first().join(grouped[list(MEASURES)].mean().add_suffix("_mean")).join(
        grouped[list(MEASURES)].sem().add_suffix("_sem")).join(grouped.size().rename("n_seeds")).reset_index()
    authors = reported.melt(id_vars="task", var_name="variant", value_name="reported_accuracy")
    summary = summary.merge(authors, on=["task", "variant"], how="left")
    return runs, summary


def accuracy_figure(summary: pd.DataFrame, reported: pd.DataFrame, variants: list[str], tasks: list[str]) -> Figure:
    """Heat maps of held-out accuracy (variants × tasks), one per mode, beside the authors' numbers."""
    panels = [(f"ours, {mode}", summary[summary["mode"] == mode].pivot_table(
        index="task", columns="variant", values="final_accuracy_mean")) for mode in ordered_modes(summary)]
    panels.append(("reported (6_6_2)", reported.set_index("task")))
    figure, axes = plt.subplots(len(panels), 1, figsize=(0.55 * len(variants) + 1.6, 1.25 * len(panels) + 0.4),
                                squeeze=False)
    image = None
    for axis, (title, table) in zip(axes[:, 0], panels):
        table = table.reindex(index=tasks, columns=variants)
        values = table.to_numpy(dtype=float)
        # cells as vector patches centred on integer positions, first task at the top (a bitmap image
        # would be resampled in the PDF)
        image = axis.pcolormesh(np.arange(len(variants) + 1) - 0.5, np.arange(len(tasks) + 1) - 0.5, values,
                                vmin=0.25, vmax=1.0, cmap="viridis")
        axis.invert_yaxis()
        for (row, column), value in np.ndenumerate(values):
            if np.isfinite(value):
                axis.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=5,
                          color="white" if value < 0.7 else "black")
        axis.set_yticks(range(len(tasks)), tasks)
        axis.set_xticks(range(len(variants)), variants, rotation=45, ha="right")
        axis.set_title(title)
    vector_colorbar(figure, image, ax=axes[:, 0], label="accuracy", shrink=0.8)
    return figure


def graph_figure(summary: pd.DataFrame, variants: list[str]) -> Figure:
    """Modularity, small-worldness and weight entropy by variant (mean over tasks and seeds, per mode)."""
    measures = [("modularity_mean", "modularity"), ("small_worldness_mean", "small-worldness σ"),
                ("weight_entropy_bits_mean", "weight entropy (bits)")]
    figure, axes = plt.subplots(1, len(measures), figsize=(7.0, 2.4))
    modes = ordered_modes(summary)
    width = 0.8 / len(modes)
    for axis, (column, label) in zip(axes, measures):
        for index, mode in enumerate(modes):
            values = summary[summary["mode"] == mode].groupby("variant")[column].mean().reindex(variants)
            axis.bar(np.arange(len(variants)) + index * width, values.to_numpy(), width, label=mode)
        axis.set_xticks(np.arange(len(variants)) + width * (len(modes) - 1) / 2, variants, rotation=60, ha="right")
        axis.set_ylabel(label)
    axes[0].legend(frameon=False)
    return figure
