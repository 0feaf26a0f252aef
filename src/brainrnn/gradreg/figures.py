"""Figures of the gradient-regularised family: learning, wiring against geometry, spread, fixed points.

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
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from brainrnn.fmri.figures import SPREAD_MEASURES
from brainrnn.plotting import (
    DOUBLE_COLUMN_IN,
    NEUTRAL,
    label_outer,
    label_panels,
    mean_sem_line,
    palette,
    panel_grid,
    reference_line,
    stat_box,
    strip,
    vector_colorbar,
)

MEASURE_LABELS = {
    "steps_to_criterion": "steps to criterion", "plateau_loss": "plateau loss", "final_accuracy": "held-out accuracy",
    "alignment": "alignment to geometry", "epoch_energy": "delay energy q",
    "max_abs_eigenvalue": "max |λ| at fixed points", "attractor_abs_eigenvalue": "|λ| at the delay attractor",
}


@dataclass(frozen=True)
class GradregResults:
    """Learning histories (one row per evaluation), the per-run summary, the spread correlations and the
    Jacobian eigenvalues at every network's fixed points, pooled per variant."""

    histories: pd.DataFrame
    summary: pd.DataFrame
    correlations: pd.DataFrame
    eigenvalues: dict[str, np.ndarray]
    variants: list[str]


def load(histories: Sequence[str], points: Sequence[str], keys: Sequence[dict[str, object]], summary: str,
         correlations: str, variants: Sequence[str]) -> GradregResults:
    """Read the family's tables; ``keys`` holds variant, subject and seed of each history and points file."""
    frames = [pd.read_csv(path, sep="\t").assign(**key) for path, key in zip(histories, keys, strict=True)]
    pooled: dict[str, list[np.ndarray]] = {}
    for path, key in zip(points, keys, strict=True):
        with np.load(path) as saved:
            fixed = saved["kind"] == 0  # fixed points only: slow points are not where activity rests
            pooled.setdefault(str(key["variant"]), []).append(saved["eigenvalues"][fixed].ravel())
    return GradregResults(histories=pd.concat(frames, ignore_index=True),
                          summary=pd.read_csv(summary, sep="\t", dtype={"subject": str}),
                          correlations=pd.read_csv(correlations, sep="\t"),
                          eigenvalues={variant: np.concatenate(values) for variant, values in pooled.items()},
                          variants=list(variants))


def draw_learning(axis: Axes, gradreg: GradregResults, column: str, label: str) -> None:
    """One held-out measure against training step per variant (mean ± SEM over subjects and seeds)."""
    colours = palette(gradreg.variants)
    for variant in gradreg.variants:
        grouped = gradreg.histories[gradreg.histories["variant"] == variant].groupby("step")[column]
        mean, sem = grouped.mean(), grouped.sem().fillna(0.0)
        mean_sem_line(axis, mean.index.to_numpy(), mean.to_numpy(), sem.to_numpy(), colours[variant], variant)
    axis.set_xlabel("training step")
    axis.set_ylabel(label)


def draw_variant_measure(axis: Axes, gradreg: GradregResults, column: str) -> None:
    """One measure per run (subject × seed) by variant, bar = mean."""
    summary = gradreg.summary
    strip(axis, {variant: summary.loc[summary["variant"] == variant, column] for variant in gradreg.variants},
          palette(gradreg.variants))
    axis.tick_params(axis="x", rotation=30)
    for tick in axis.get_xticklabels():
        tick.set_horizontalalignment("right")
    axis.set_ylabel(MEASURE_LABELS.get(column, column))


def draw_measure_vs_spread(axis: Axes, gradreg: GradregResults, measure: str, *, variant: str = "gradreg",
                           spread_measure: str = "dispersion") -> None:
    """One measure against gradient spread across subjects (seed means, coloured by group), with the
    workflow's Spearman ρ and permutation p."""
    block = gradreg.summary[gradreg.summary["variant"] == variant]
    per_subject = block.groupby(["subject", "group"], as_index=False)[[spread_measure, measure]].mean()
    groups = sorted(per_subject["group"].unique())
    colours = palette(groups)
    for group in groups:
        part = per_subject[per_subject["group"] == group]
        axis.scatter(part[spread_measure], part[measure], s=14, color=colours[group], label=group, linewidths=0)
    stat = gradreg.correlations[(gradreg.correlations["variant"] == variant)
                                & (gradreg.correlations["measure"] == measure)
                                & (gradreg.correlations["spread_measure"] == spread_measure)]
    if len(stat) and np.isfinite(stat["rho"].iloc[0]):
        stat_box(axis, f"ρ = {stat['rho'].iloc[0]:.2f}, p = {stat['p_permutation'].iloc[0]:.2f}")
    else:
        stat_box(axis, "ρ undefined (constant measure)")
    axis.set_xlabel(f"gradient {SPREAD_MEASURES.get(spread_measure, spread_measure)}")
    axis.set_ylabel(f"{MEASURE_LABELS.get(measure, measure)} ({variant})")


def draw_spread_correlations(axis: Axes, gradreg: GradregResults, *, spread_measure: str = "dispersion") -> QuadMesh:
    """Spearman ρ of gradient spread with each measure (columns) per variant (rows); * p < 0.05."""
    table = gradreg.correlations[gradreg.correlations["spread_measure"] == spread_measure]
    measures = [measure for measure in MEASURE_LABELS if measure in set(table["measure"])]
    rho = table.pivot(index="variant", columns="measure", values="rho").reindex(index=gradreg.variants,
                                                                               columns=measures)
    p = table.pivot(index="variant", columns="measure", values="p_permutation").reindex_like(rho)
    values = np.ma.masked_invalid(rho.to_numpy(dtype=float))
    axis.set_facecolor("0.92")
    mesh = axis.pcolormesh(values, cmap="RdBu_r", vmin=-1, vmax=1, edgecolors="white", linewidth=0.5)
    for (row, column), value in np.ndenumerate(rho.to_numpy(dtype=float)):
        if np.isfinite(value):
            star = "*" if p.iat[row, column] < 0.05 else ""
            axis.text(column + 0.5, row + 0.5, f"{value:.2f}{star}", ha="center", va="center",
                      fontsize=plt.rcParams["font.size"] - 2, color="white" if abs(value) > 0.6 else "black")
    axis.set_xticks(np.arange(len(measures)) + 0.5, [MEASURE_LABELS[m] for m in measures], rotation=35, ha="right")
    axis.set_yticks(np.arange(len(gradreg.variants)) + 0.5, gradreg.variants)
    axis.invert_yaxis()
    axis.tick_params(length=0)
    for side in ("left", "bottom"):
        axis.spines[side].set_visible(False)
    return mesh


def draw_spectrum(axis: Axes, gradreg: GradregResults, variant: str) -> None:
    """Jacobian eigenvalues at every network's fixed points of one variant, in the complex plane."""
    values = gradreg.eigenvalues.get(variant, np.zeros(0, dtype=complex))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    axis.plot(circle.real, circle.imag, color=NEUTRAL, lw=0.7, ls="--")
    axis.scatter(values.real, values.imag, s=2, alpha=0.3, linewidths=0, color=palette(gradreg.variants)[variant])
    axis.set_title(variant)
    axis.set_aspect("equal")
    axis.set_xlabel("Re λ")
    axis.set_ylabel("Im λ")


def family_figure(gradreg: GradregResults) -> Figure:
    """Learning, wiring and spread: A–B held-out loss and accuracy; C alignment of the learned wiring
    to the geometry; D plateau loss against spread; E ρ(spread, measure) per variant; F max |λ|."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 5.0))
    axes = figure.subplot_mosaic([["A", "B", "C"], ["D", "E", "F"]])
    draw_learning(axes["A"], gradreg, "eval_loss", "held-out loss")
    draw_learning(axes["B"], gradreg, "eval_accuracy", "held-out accuracy")
    axes["A"].legend(loc="best")
    draw_variant_measure(axes["C"], gradreg, "alignment")
    reference_line(axes["C"], 0.0)
    draw_measure_vs_spread(axes["D"], gradreg, "plateau_loss")
    mesh = draw_spread_correlations(axes["E"], gradreg)
    vector_colorbar(figure, mesh, ax=axes["E"], label="Spearman ρ with dispersion", shrink=0.9, aspect=20)
    draw_variant_measure(axes["F"], gradreg, "max_abs_eigenvalue")
    reference_line(axes["F"], 1.0)
    label_panels([axes[key] for key in "ABCDEF"],
                 ["Learning", None, "Wiring vs geometry", "Plateau vs spread", "Spread correlations",
                  "Fixed-point stability"])
    return figure


def learning_figure(gradreg: GradregResults) -> Figure:
    """Held-out loss and accuracy against training step per variant."""
    figure, (loss, accuracy) = plt.subplots(1, 2, figsize=(6.0, 2.4))
    draw_learning(loss, gradreg, "eval_loss", "held-out loss")
    draw_learning(accuracy, gradreg, "eval_accuracy", "held-out accuracy")
    accuracy.legend(loc="lower right")
    return figure


def vs_spread_figure(gradreg: GradregResults, *, variant: str = "gradreg") -> Figure:
    """Each measure against gradient dispersion across subjects for the ``gradreg`` variant (or the
    first variant run), with Spearman ρ and permutation p."""
    variant = variant if variant in gradreg.variants else gradreg.variants[0]
    measures = [measure for measure in MEASURE_LABELS if measure in gradreg.summary.columns]
    figure, axes = panel_grid(len(measures), 3, panel_size=(2.0, 2.0))
    for axis, measure in zip(axes, measures, strict=True):
        draw_measure_vs_spread(axis, gradreg, measure, variant=variant)
    axes[0].legend(loc="upper right")
    return figure


def spectra_figure(gradreg: GradregResults) -> Figure:
    """Jacobian eigenvalues at delay-period fixed points in the complex plane, one panel per variant."""
    figure, axes = panel_grid(len(gradreg.variants), len(gradreg.variants), panel_size=(1.8, 2.1),
                              sharex=True, sharey=True)
    for axis, variant in zip(axes, gradreg.variants, strict=True):
        draw_spectrum(axis, gradreg, variant)
    label_outer(axes, len(axes))
    return figure


def overview_panel(axis: Axes, gradreg: GradregResults) -> None:
    """The family's key result for the overview page: alignment of the learned wiring per variant."""
    draw_variant_measure(axis, gradreg, "alignment")
    reference_line(axis, 0.0)
