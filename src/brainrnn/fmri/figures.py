"""Figures of the fMRI stages: gradient space, spread per group, timescales against extremity."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from brainrnn.plotting import group_colour, reference_line, vector_colorbar


def gradient_space_figure(gradients: dict[str, pd.DataFrame], timescales: dict[str, pd.DataFrame],
                          groups: dict[str, str]) -> Figure:
    """One panel per subject: regions in G1–G2 space, coloured by their timescale τ."""
    subjects = sorted(gradients, key=lambda subject: (groups[subject], subject))
    columns = min(4, len(subjects))
    rows = math.ceil(len(subjects) / columns)
    all_tau = np.concatenate([frame["tau_s"].to_numpy() for frame in timescales.values()])
    low, high = np.nanpercentile(all_tau, [2, 98])
    figure, axes = plt.subplots(rows, columns, figsize=(1.9 * columns + 0.8, 1.8 * rows), squeeze=False,
                                sharex=True, sharey=True)
    scatter = None
    for axis, subject in zip(axes.flat, subjects):
        grads, tau = gradients[subject], timescales[subject].reindex(gradients[subject].index)["tau_s"]
        scatter = axis.scatter(grads["G1"], grads["G2"], c=tau, cmap="viridis", vmin=low, vmax=high, s=9,
                               linewidths=0)
        axis.set_title(f"sub-{subject} ({groups[subject]})")
    for axis in list(axes.flat)[len(subjects):]:
        axis.set_visible(False)
    for column in range(columns):
        bottom = axes[max(row for row in range(rows) if row * columns + column < len(subjects)), column]
        bottom.set_xlabel("G1 (sensory → association)")
        bottom.xaxis.set_tick_params(labelbottom=True)
    for axis in axes[:, 0]:
        axis.set_ylabel("G2")
    if scatter is not None:
        vector_colorbar(figure, scatter, ax=axes, label="τ (s)", shrink=0.8)
    return figure


def spread_figure(spread: pd.DataFrame) -> Figure:
    """G1 range and dispersion per subject, grouped, with the group means."""
    measures = [("g1_range", "G1 range"), ("dispersion", "dispersion in gradient space"),
                ("explained_G1", "eigenvalue share of G1")]
    groups = sorted(spread["group"].unique())
    figure, axes = plt.subplots(1, len(measures), figsize=(2.0 * len(measures) + 0.5, 2.2))
    rng = np.random.default_rng(0)
    for axis, (column, label) in zip(axes, measures):
        for position, group in enumerate(groups):
            values = spread.loc[spread["group"] == group, column].to_numpy()
            jitter = rng.uniform(-0.12, 0.12, size=values.size)
            colour = group_colour(groups, group)
            axis.scatter(position + jitter, values, color=colour, s=14, alpha=0.8, linewidths=0)
            axis.hlines(values.mean(), position - 0.25, position + 0.25, color=colour, lw=1.5)
        axis.set_xticks(range(len(groups)), groups)
        axis.set_xlim(-0.6, len(groups) - 0.4)
        axis.set_ylabel(label)
    return figure


def timescale_extremity_figure(gradients: dict[str, pd.DataFrame], timescales: dict[str, pd.DataFrame],
                               relation: pd.DataFrame) -> Figure:
    """τ against |G1 − median| pooled over subjects, and the per-subject Spearman ρ by group."""
    groups_all = relation["group"].tolist()
    figure, (pooled, per_subject) = plt.subplots(1, 2, figsize=(5.6, 2.4), width_ratios=[1.6, 1])
    for subject, row in relation.set_index("subject").iterrows():
        g1 = gradients[subject]["G1"]
        tau = timescales[subject].reindex(g1.index)["tau_s"]
        extremity = (g1 - g1.median()).abs()
        pooled.scatter(extremity, tau, s=5, alpha=0.5, linewidths=0, color=group_colour(groups_all, row["group"]))
    pooled.set_xlabel("gradient extremity |G1 − median|")
    pooled.set_ylabel("τ (s)")
    groups = sorted(set(groups_all))
    for position, group in enumerate(groups):
        values = relation.loc[relation["group"] == group, "rho_tau_extremity"].to_numpy()
        per_subject.scatter(np.full(values.size, position), values, color=group_colour(groups_all, group), s=14)
        per_subject.hlines(values.mean(), position - 0.25, position + 0.25, color=group_colour(groups_all, group))
    reference_line(per_subject, 0.0)
    per_subject.set_xticks(range(len(groups)), groups)
    per_subject.set_xlim(-0.6, len(groups) - 0.4)
    per_subject.set_ylabel("Spearman ρ(τ, extremity)")
    return figure
