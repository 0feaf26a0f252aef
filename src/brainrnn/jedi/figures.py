"""Figures of the JEDI family: the embedding space, reconstruction against baselines, few-shot inference,
teacher against decoded spectra, and the leading eigenvalue against sine frequency.

Each panel is one ``draw_*`` function on one axis; the family figure, the stage figures and the overview
only arrange them. :func:`load` reads the workflow's tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from brainrnn.jedi import baseline_column
from brainrnn.plotting import DOUBLE_COLUMN_IN, NEUTRAL, label_panels, palette, panel_grid, reference_line

FIT_LABELS = {"jedi": "JEDI (low rank)", "full_rank": "full-rank head", "shared": "shared RNN",
              "per_context": "RNN per context"}
TEACHER, DECODED = "#0072B2", "#D55E00"


@dataclass(frozen=True)
class JediResults:
    """The family's tables, the Jacobian eigenvalues at each teacher context's main fixed point
    (``spectra['<context>/teacher' | '<context>/decoded']``) and the fits run, in config order."""

    summary: pd.DataFrame
    fits_table: pd.DataFrame
    classification: pd.DataFrame
    confusion: pd.DataFrame
    few_shot: pd.DataFrame
    frequency: pd.DataFrame
    embeddings: pd.DataFrame
    contexts: pd.DataFrame
    spectra: dict[str, np.ndarray]
    fits: list[str]


def load(summary: str, fit_table: str, classification: str, confusion: str, few_shot: str, frequency: str,
         embeddings: str, contexts: str, spectra: str, fits: Sequence[str]) -> JediResults:
    """Read the family's tables and spectra."""
    with np.load(spectra) as saved:
        eigenvalues = {key.replace("__", "/"): saved[key] for key in saved.files}
    def read(path: str) -> pd.DataFrame:
        return pd.read_csv(path, sep="\t")

    return JediResults(read(summary), read(fit_table), read(classification), read(confusion), read(few_shot),
                       read(frequency), read(embeddings), read(contexts), eigenvalues, list(fits))


def _contexts(results: JediResults) -> list[str]:
    return list(results.contexts["context"])


def draw_embedding(axis: Axes, results: JediResults) -> None:
    """The training trials' embeddings in the plane of their first two principal components, coloured by
    context (circles: sine contexts, squares: memory, triangles: pipeline networks); crosses mark each
    held-out context inferred from the most trials."""
    table = results.embeddings
    components = [column for column in table.columns if column.startswith("z")]
    trials = table[table["kind"] == "trial"]
    if trials.empty:
        axis.text(0.5, 0.5, "no embeddings", ha="center", va="center", transform=axis.transAxes)
        return
    values = trials[components].to_numpy(dtype=float)
    centre = values.mean(axis=0)
    axes = np.linalg.svd(values - centre, full_matrices=False)[2][:2].T
    if axes.shape[1] < 2:
        axes = np.pad(axes, ((0, 0), (0, 2 - axes.shape[1])))
    colours = palette(_contexts(results))
    kinds = dict(zip(results.contexts["context"], results.contexts["network"], strict=True))
    markers = {"sine": "o", "memory": "s"}
    for context, block in trials.groupby("context", sort=False):
        projected = (block[components].to_numpy(dtype=float) - centre) @ axes
        axis.scatter(projected[:, 0], projected[:, 1], s=7, color=colours[str(context)], alpha=0.7, linewidths=0,
                     marker=markers.get(kinds[str(context)], "^"), label=str(context))
    inferred = table[table["kind"] == "few_shot"]
    for context, block in inferred.groupby("context", sort=False):
        best = block.loc[block["k"].idxmax(), components].to_numpy(dtype=float)
        point = (best - centre) @ axes
        axis.scatter(point[0], point[1], s=40, marker="X", color=colours[str(context)], edgecolors="black",
                     linewidths=0.5, label=f"{context} (inferred)")
    axis.set_xlabel("embedding PC 1")
    axis.set_ylabel("embedding PC 2")


def draw_reconstruction(axis: Axes, results: JediResults) -> None:
    """Held-out R² per training context for JEDI and each other fit."""
    summary = results.summary[results.summary["role"] == "train"]
    colours = palette(results.fits)
    width = 0.8 / max(len(results.fits), 1)
    positions = np.arange(len(summary))
    for index, fit in enumerate(results.fits):
        column = "r2_heldout" if fit == "jedi" else baseline_column(fit)
        axis.bar(positions + (index - (len(results.fits) - 1) / 2) * width, summary[column].to_numpy(dtype=float),
                 width, color=colours[fit], label=FIT_LABELS[fit])
    axis.set_xticks(positions, list(summary["context"]), rotation=40, ha="right")
    axis.set_ylabel("held-out R²")
    axis.set_ylim(min(0.0, float(np.nanmin(summary[["r2_heldout"]].to_numpy(dtype=float)))), 1.02)
    reference_line(axis, 0.8)


def draw_few_shot(axis: Axes, results: JediResults) -> None:
    """R² of a held-out context's test trials against the number of trials its embedding was inferred from."""
    colours = palette(results.fits)
    styles = ["-", "--", ":", "-."]
    for fit, block in results.few_shot.groupby("fit", sort=False):
        for index, (context, part) in enumerate(block.groupby("context", sort=True)):
            part = part.sort_values("k")
            axis.plot(part["k"], part["r2"], marker="o", ms=3, color=colours.get(str(fit), NEUTRAL),
                      ls=styles[index % len(styles)], label=f"{FIT_LABELS.get(str(fit), fit)}: {context}")
    axis.set_xscale("log")
    axis.set_xlabel("trials of the new context (k)")
    axis.set_ylabel("held-out R²")


def draw_spectrum(axis: Axes, results: JediResults, context: str) -> None:
    """Jacobian eigenvalues at one context's main fixed point: teacher (circles) and decoded (crosses)."""
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    axis.plot(circle.real, circle.imag, color=NEUTRAL, lw=0.7, ls="--")
    for side, colour, marker in (("teacher", TEACHER, "o"), ("decoded", DECODED, "x")):
        values = results.spectra.get(f"{context}/{side}", np.zeros(0, dtype=complex))
        axis.scatter(values.real, values.imag, s=10, color=colour, marker=marker, linewidths=0.8, label=side,
                     facecolors="none" if marker == "o" else colour)
    axis.set_title(context)
    axis.set_aspect("equal")
    axis.set_xlabel("Re λ")
    axis.set_ylabel("Im λ")


def draw_frequency(axis: Axes, results: JediResults) -> None:
    """|Im λ| of the leading eigenvalue at the main fixed point against sine frequency, teacher and decoded,
    with Spearman ρ of each."""
    sine = results.summary[results.summary["frequency_hz"].notna()].sort_values("frequency_hz")
    for side, colour in (("teacher", TEACHER), ("decoded", DECODED)):
        column = f"leading_imag_{side}"
        row = results.frequency[(results.frequency["side"] == side) & (results.frequency["measure"] == "leading_imag")]
        rho = f" (ρ = {row['rho'].iloc[0]:.2f})" if len(row) and np.isfinite(row["rho"].iloc[0]) else ""
        if column in sine:
            axis.plot(sine["frequency_hz"], sine[column], marker="o", ms=3, color=colour, label=side + rho)
    axis.set_xlabel("sine frequency (Hz)")
    axis.set_ylabel("|Im λ|, leading eigenvalue")


def draw_confusion(axis: Axes, results: JediResults) -> None:
    """Cross-validated context classification from the embeddings: share of each true context (rows)."""
    table = results.confusion
    if table.empty:
        axis.text(0.5, 0.5, "one context only", ha="center", va="center", transform=axis.transAxes)
        return
    counts = table.pivot(index="true", columns="predicted", values="count").fillna(0)
    shares = counts.to_numpy(dtype=float) / np.maximum(counts.to_numpy(dtype=float).sum(axis=1, keepdims=True), 1)
    axis.pcolormesh(shares, cmap="Greys", vmin=0, vmax=1, edgecolors="white", linewidth=0.5)
    axis.set_xticks(np.arange(len(counts.columns)) + 0.5, list(counts.columns), rotation=40, ha="right")
    axis.set_yticks(np.arange(len(counts.index)) + 0.5, list(counts.index))
    axis.invert_yaxis()
    context = results.classification[results.classification["labels"] == "context"]
    note = ""
    if len(context):
        row = context.iloc[0]
        note = (f"\naccuracy {row['accuracy']:.2f} (chance {row['chance']:.2f},\nshuffled {row['shuffled_mean']:.2f}, "
                f"p = {row['p_shuffled']:.3f})")
    axis.set_xlabel("predicted" + note)
    axis.set_ylabel("true context")


def family_figure(results: JediResults) -> Figure:
    """A embedding space; B confusion of context classification; C held-out R² per context against the
    baselines; D few-shot R²; E leading eigenvalue against frequency; F one sine context's spectra."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 5.6))
    axes = figure.subplot_mosaic([["A", "B", "C"], ["D", "E", "F"]])
    draw_embedding(axes["A"], results)
    draw_confusion(axes["B"], results)
    draw_reconstruction(axes["C"], results)
    axes["C"].legend(loc="lower left", fontsize=plt.rcParams["font.size"] - 2, framealpha=0.9)
    draw_few_shot(axes["D"], results)
    draw_frequency(axes["E"], results)
    axes["E"].legend(loc="upper left")
    sine = results.summary.loc[results.summary["frequency_hz"].notna(), "context"]
    draw_spectrum(axes["F"], results, str(sine.iloc[len(sine) // 2]) if len(sine) else "")
    axes["F"].legend(loc="lower left")
    label_panels([axes[key] for key in "ABCDEF"], ["Embeddings", "Classification", "Reconstruction", "Few-shot",
                                                   "Frequency", None])
    figure.tight_layout()
    return figure


def embedding_figure(results: JediResults) -> Figure:
    """The embedding space and the confusion matrix of context classification."""
    figure, (space, confusion) = plt.subplots(1, 2, figsize=(7.0, 3.2))
    draw_embedding(space, results)
    space.legend(loc="best", fontsize=plt.rcParams["font.size"] - 2, ncols=2)
    draw_confusion(confusion, results)
    figure.tight_layout()
    return figure


def reconstruction_figure(results: JediResults) -> Figure:
    """Held-out R² per training context, JEDI beside the baselines and the full-rank ablation."""
    figure, axis = plt.subplots(figsize=(5.0, 3.0))
    draw_reconstruction(axis, results)
    axis.legend(loc="lower left")
    figure.tight_layout()
    return figure


def few_shot_figure(results: JediResults) -> Figure:
    """Held-out R² of new contexts against the number of trials they are inferred from."""
    figure, axis = plt.subplots(figsize=(4.0, 3.0))
    draw_few_shot(axis, results)
    axis.legend(loc="lower right", fontsize=plt.rcParams["font.size"] - 2)
    figure.tight_layout()
    return figure


def spectra_figure(results: JediResults) -> Figure:
    """Teacher against decoded eigenvalues at the main fixed point, one panel per teacher context."""
    contexts = [str(name) for name in results.summary.loc[results.summary["network"].isin(["sine", "memory"]),
                                                          "context"]]
    figure, axes = panel_grid(len(contexts), 4, panel_size=(1.8, 2.0), sharex=True, sharey=True)
    for axis, context in zip(axes, contexts, strict=True):
        draw_spectrum(axis, results, context)
    axes[0].legend(loc="lower left")
    return figure


def frequency_figure(results: JediResults) -> Figure:
    """The leading eigenvalue's imaginary part against sine frequency, teacher and decoded."""
    figure, axis = plt.subplots(figsize=(4.0, 3.0))
    draw_frequency(axis, results)
    axis.legend(loc="upper left")
    figure.tight_layout()
    return figure


def overview_panel(axis: Axes, results: JediResults) -> None:
    """The family's key result for the overview page: held-out R² per context against the baselines."""
    draw_reconstruction(axis, results)
