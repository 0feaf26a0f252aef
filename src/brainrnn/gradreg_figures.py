"""Figures of the gradient-regularised family: learning curves, measures against spread, spectra."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from brainrnn.plotting import NEUTRAL, palette

MEASURE_LABELS = {
    "steps_to_criterion": "steps to criterion", "plateau_loss": "plateau loss", "final_accuracy": "held-out accuracy",
    "alignment": "alignment to geometry", "epoch_energy": "delay energy q", "max_abs_eigenvalue": "max |λ| at fixed points",
}


def variant_colour(variants: list[str], variant: str) -> str:
    """The variant's colour, the same in every figure (config order)."""
    return palette(variants)[variant]


def learning_figure(histories: pd.DataFrame, variants: list[str]) -> Figure:
    """Held-out loss and accuracy against training step per variant (mean ± SEM over subjects and seeds)."""
    figure, axes = plt.subplots(1, 2, figsize=(6.0, 2.4))
    for variant in variants:
        block = histories[histories["variant"] == variant]
        for axis, column in zip(axes, ("eval_loss", "eval_accuracy")):
            grouped = block.groupby("step")[column]
            mean, sem = grouped.mean(), grouped.sem().fillna(0.0)
            colour = variant_colour(variants, variant)
            axis.plot(mean.index, mean.to_numpy(), color=colour, lw=1.2, label=variant)
            axis.fill_between(mean.index, (mean - sem).to_numpy(), (mean + sem).to_numpy(), color=colour, alpha=0.2,
                              lw=0)
    axes[0].set_ylabel("held-out loss")
    axes[1].set_ylabel("held-out accuracy")
    for axis in axes:
        axis.set_xlabel("training step")
    axes[1].legend(frameon=False, loc="lower right")
    return figure


def spread_figure(summary: pd.DataFrame, correlations: pd.DataFrame, variant: str = "gradreg",
                  spread_measure: str = "dispersion") -> Figure:
    """Each measure against gradient spread across subjects (seed means), with Spearman ρ and p."""
    measures = [measure for measure in MEASURE_LABELS if measure in summary.columns]
    columns = 3
    rows = math.ceil(len(measures) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6.6, 2.0 * rows), squeeze=False)
    block = summary[summary["variant"] == variant]
    per_subject = block.groupby(["subject", "group"], as_index=False)[[spread_measure, *measures]].mean()
    groups = sorted(per_subject["group"].unique())
    colours = palette(groups)
    for axis, measure in zip(axes.flat, measures):
        for group in groups:
            part = per_subject[per_subject["group"] == group]
            axis.scatter(part[spread_measure], part[measure], s=14, color=colours[group], label=group, linewidths=0)
        stat = correlations[(correlations["variant"] == variant) & (correlations["measure"] == measure)
                            & (correlations["spread_measure"] == spread_measure)]
        if len(stat) and np.isfinite(stat["rho"].iloc[0]):
            axis.set_title(f"ρ = {stat['rho'].iloc[0]:.2f}, p = {stat['p_permutation'].iloc[0]:.3f}")
        else:
            axis.set_title("ρ undefined (constant measure)")
        axis.set_xlabel(f"gradient {spread_measure}")
        axis.set_ylabel(MEASURE_LABELS[measure])
    for axis in list(axes.flat)[len(measures):]:
        axis.set_visible(False)
    axes.flat[0].legend(frameon=False)
    return figure


def spectra_figure(eigenvalues: dict[str, np.ndarray], variants: list[str]) -> Figure:
    """Jacobian eigenvalues at delay-period fixed points in the complex plane, one panel per variant."""
    figure, axes = plt.subplots(1, len(variants), figsize=(1.8 * len(variants) + 0.4, 2.1), squeeze=False,
                                sharex=True, sharey=True)
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    for axis, variant in zip(axes[0], variants):
        values = eigenvalues.get(variant, np.zeros(0, dtype=complex))
        axis.plot(circle.real, circle.imag, color=NEUTRAL, lw=0.7, ls="--")
        axis.scatter(values.real, values.imag, s=2, alpha=0.3, linewidths=0, color=variant_colour(variants, variant))
        axis.set_title(variant)
        axis.set_aspect("equal")
        axis.set_xlabel("Re λ")
    axes[0, 0].set_ylabel("Im λ")
    return figure
