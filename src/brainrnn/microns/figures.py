"""Figures of the MICrONS-constrained family: accuracy against the paper, the learned graph structure and
the declared contrasts.

Each panel is one ``draw_*`` function on one axis; the family figure, the stage figures and the
overview only arrange them. :func:`load` reads the workflow's tables. Means carry their 95% interval
over seeds (expanded bootstrap, :mod:`brainrnn.microns.summary`), differences theirs.
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
from matplotlib.lines import Line2D
from matplotlib.typing import FillStyleType

from brainrnn.microns import MODES
from brainrnn.plotting import DOUBLE_COLUMN_IN, NEUTRAL, label_panels, palette, reference_line, strip, vector_colorbar

TASK_MARKERS = ("o", "s", "^", "D", "v")
MODE_FILL: dict[str, FillStyleType] = {"corrected": "full", "faithful": "none", "matched": "left"}
"""Marker fill per mode: filled corrected, open faithful, half-filled λ-matched."""
MODE_MARKER = "H"
"""The legend shows the fills on a hexagon, a shape no task uses."""
GRAPH_MEASURES = {"modularity": "modularity Q", "small_worldness": "σ vs Erdős–Rényi nulls",
                  "small_worldness_degree": "σ vs degree-preserving nulls",
                  "weight_entropy_bits": "weight differential entropy (bits)"}
"""Axis labels (σ: small-worldness). The entropy is a differential entropy (of a density): it is negative for
narrow weight distributions."""
TEST_LABELS = {"final_accuracy": "", "modularity": "Q: ", "small_worldness": "σ ER: ",
               "small_worldness_degree": "σ degree: "}
"""How a tested measure is named in the contrasts' row labels (accuracy rows need no name)."""


@dataclass(frozen=True)
class MicronsResults:
    """Per-run measures, the per-condition summary, the declared tests and the authors' reported accuracy."""

    summary: pd.DataFrame
    runs: pd.DataFrame
    tests: pd.DataFrame
    reported: pd.DataFrame
    variants: list[str]
    tasks: list[str]

    @property
    def modes(self) -> list[str]:
        """The modes run, in the order faithful, corrected, matched."""
        return [mode for mode in MODES if mode in set(self.summary["mode"])]

    @property
    def primary_mode(self) -> str:
        """The mode the per-variant panels show: corrected when it was run, else the first one run."""
        return "corrected" if "corrected" in self.modes else self.modes[0]


def load(summary: str, runs: str, tests: str, reported: str, variants: Sequence[str],
         tasks: Sequence[str]) -> MicronsResults:
    """Read the family's summary, per-run and test tables and the authors' reported accuracy."""
    return MicronsResults(summary=pd.read_csv(summary, sep="\t", dtype={"field": str}),
                          runs=pd.read_csv(runs, sep="\t", dtype={"field": str}),
                          tests=pd.read_csv(tests, sep="\t", dtype={"field": str}),
                          reported=pd.read_csv(reported, sep="\t", comment="#"),
                          variants=list(variants), tasks=list(tasks))


def _task_markers(tasks: Sequence[str]) -> dict[str, str]:
    """A marker per task, in the config's order."""
    return {task: TASK_MARKERS[index % len(TASK_MARKERS)] for index, task in enumerate(tasks)}


def draw_ours_vs_reported(axis: Axes, microns: MicronsResults, *, legend: bool = True) -> None:
    """Our held-out accuracy (mean over seeds, vertical bar: 95% CI) against the authors' reported accuracy,
    one point per variant × task × mode (filled: corrected; open: faithful; half-filled: λ-matched)."""
    colours, markers = palette(microns.variants), _task_markers(microns.tasks)
    table = microns.summary.dropna(subset=["reported_accuracy"])
    for (variant, task, mode), row in table.set_index(["variant", "task", "mode"]).iterrows():
        if variant not in colours or task not in markers:
            continue
        axis.vlines(row["reported_accuracy"], row["final_accuracy_ci_low"], row["final_accuracy_ci_high"],
                    color=colours[variant], lw=0.8, zorder=2)
        axis.plot(row["reported_accuracy"], row["final_accuracy_mean"], ls="", marker=markers[task], markersize=4.7,
                  color=colours[variant], fillstyle=MODE_FILL.get(mode, "full"), markerfacecoloralt="white",
                  markeredgewidth=0.9, zorder=3)
    axis.plot([0.4, 1.02], [0.4, 1.02], color=NEUTRAL, lw=0.7, zorder=1)
    reference_line(axis, 0.5)
    reference_line(axis, 0.5, horizontal=False)
    axis.set_xlim(0.4, 1.02)
    axis.set_ylim(0.4, 1.02)
    axis.set_aspect("equal")
    axis.set_xlabel("reported accuracy (field 6_6_2)")
    axis.set_ylabel("our held-out accuracy")
    if legend:
        handles = [Line2D([], [], ls="", marker="o", color=colours[v], label=v) for v in microns.variants]
        handles += [Line2D([], [], ls="", marker=markers[t], color="0.3", label=t.replace("_", " "))
                    for t in microns.tasks]
        handles += [Line2D([], [], ls="", marker=MODE_MARKER, color="0.3", fillstyle=MODE_FILL.get(mode, "full"),
                           markerfacecoloralt="white", label=f"mode: {mode}")
                    for mode in dict.fromkeys(table["mode"])]
        axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), handletextpad=0.2)


def draw_microns_measure(axis: Axes, microns: MicronsResults, column: str, label: str) -> None:
    """One per-run measure by variant in the primary mode, one column of points per task (marker = task),
    with the mean (bar) and its expanded-bootstrap 95% CI over seeds (vertical line, drawn by ``strip``)."""
    colours, markers = palette(microns.variants), _task_markers(microns.tasks)
    width = 0.8 / len(microns.tasks)
    for index, task in enumerate(microns.tasks):
        runs = microns.runs[(microns.runs["task"] == task) & (microns.runs["mode"] == microns.primary_mode)]
        offset = -0.4 + width * (index + 0.5)
        strip(axis, {variant: runs.loc[runs["variant"] == variant, column] for variant in microns.variants}, colours,
              offset=offset, width=width * 0.9, marker=markers[task], seed=index)
    axis.set_xticks(range(len(microns.variants)), microns.variants, rotation=45, ha="right")
    axis.set_ylabel(label)


def draw_accuracy_map(axis: Axes, microns: MicronsResults, mode: str | None) -> QuadMesh:
    """Accuracy per task (rows, first on top) and variant (columns) as vector cells: ours in ``mode``, or
    the authors' reported table when ``mode`` is None."""
    if mode is None:
        table, title = microns.reported.set_index("task"), "reported (6_6_2)"
    else:
        table = microns.summary[microns.summary["mode"] == mode].pivot_table(
            index="task", columns="variant", values="final_accuracy_mean")
        title = f"ours, {mode}"
    values = table.reindex(index=microns.tasks, columns=microns.variants).to_numpy(dtype=float)
    mesh = axis.pcolormesh(np.arange(len(microns.variants) + 1) - 0.5, np.arange(len(microns.tasks) + 1) - 0.5,
                           values, vmin=0.25, vmax=1.0, cmap="viridis")
    axis.invert_yaxis()
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):
            axis.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=5,
                      color="white" if value < 0.7 else "black")
    axis.set_yticks(range(len(microns.tasks)), microns.tasks)
    axis.set_xticks(range(len(microns.variants)), microns.variants, rotation=45, ha="right")
    axis.set_title(title)
    return mesh


def draw_contrasts(axis: Axes, microns: MicronsResults, family: str) -> None:
    """The declared tests of one family as a forest plot: each difference of means with its 95% CI, filled
    where the Holm-corrected p is below 0.05, one row per task × mode × contrast (× measure)."""
    tests = microns.tests[microns.tests["family"] == family]
    colours = palette(microns.variants)
    order = {task: index for index, task in enumerate(microns.tasks)}
    tests = tests.assign(task_order=tests["task"].map(order).fillna(len(order)),
                         mode_order=tests["mode"].map({mode: index for index, mode in enumerate(MODES)}))
    tests = tests.sort_values(["task_order", "mode_order", "measure", "variant", "baseline"], kind="stable")
    labels = []
    for position, row in enumerate(tests.itertuples()):
        colour = colours.get(row.variant, NEUTRAL)
        axis.hlines(position, row.difference_ci_low, row.difference_ci_high, color=colour, lw=1.0, zorder=2)
        axis.plot(row.difference, position, ls="", marker="o", markersize=3.5, color=colour,
                  fillstyle="full" if row.significant else "none", zorder=3)
        measure = TEST_LABELS.get(row.measure, f"{row.measure}: ")
        labels.append(f"{row.task.replace('_', ' ')}, {row.mode}: {measure}{row.variant} − {row.baseline}")
    reference_line(axis, 0.0, horizontal=False)
    axis.set_yticks(range(len(labels)), labels, fontsize=plt.rcParams["font.size"] - 2)
    axis.set_ylim(len(labels) - 0.5, -0.5)
    axis.set_xlabel("difference of means (95% CI)" if family == "graph" else "difference in held-out accuracy (95% CI)")
    axis.set_title(f"{family}: filled = Holm p < 0.05", loc="left", fontsize=plt.rcParams["font.size"])


def family_figure(microns: MicronsResults) -> Figure:
    """Task performance and learned graph structure: A ours against reported accuracy; B held-out
    accuracy per variant and task; C modularity; D–E small-worldness against Erdős–Rényi and
    degree-preserving nulls; F max |λ| (the weight entropy is in the graph figure)."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 5.0))
    axes = figure.subplot_mosaic([["A", "B", "C"], ["D", "E", "F"]])
    draw_ours_vs_reported(axes["A"], microns)
    draw_microns_measure(axes["B"], microns, "final_accuracy", "held-out accuracy")
    reference_line(axes["B"], 0.5)
    for key, column in zip("CDE", ("modularity", "small_worldness", "small_worldness_degree"), strict=True):
        draw_microns_measure(axes[key], microns, column, GRAPH_MEASURES[column])
    reference_line(axes["D"], 1.0)
    reference_line(axes["E"], 1.0)
    draw_microns_measure(axes["F"], microns, "max_abs_eigenvalue", "max |λ| at fixed points")
    reference_line(axes["F"], 1.0)
    label_panels([axes[key] for key in "ABCDEF"],
                 ["Against the paper", f"Task accuracy ({microns.primary_mode})", "Graph structure", None, None,
                  "Fixed points"])
    return figure


def accuracy_figure(microns: MicronsResults) -> Figure:
    """Accuracy heat maps (variants × tasks), one per mode, above the authors' reported table."""
    panels: list[str | None] = [*microns.modes, None]
    figure, axes = plt.subplots(len(panels), 1, figsize=(0.55 * len(microns.variants) + 1.6,
                                                         1.25 * len(panels) + 0.4), squeeze=False)
    meshes = [draw_accuracy_map(axis, microns, mode) for axis, mode in zip(axes[:, 0], panels, strict=True)]
    vector_colorbar(figure, meshes[-1], ax=axes[:, 0], label="accuracy", shrink=0.8)
    return figure


def graph_figure(microns: MicronsResults) -> Figure:
    """Modularity, small-worldness (both nulls) and weight entropy by variant and task in the primary mode."""
    figure, axes = plt.subplots(2, 2, figsize=(DOUBLE_COLUMN_IN, 4.6))
    for axis, (column, label) in zip(axes.flat, GRAPH_MEASURES.items(), strict=True):
        draw_microns_measure(axis, microns, column, label)
        if column.startswith("small_worldness"):
            reference_line(axis, 1.0)
    return figure


def contrasts_figure(microns: MicronsResults) -> Figure:
    """The declared contrasts, accuracy family above the graph family (rows as :func:`draw_contrasts`)."""
    families = [family for family in ("accuracy", "graph") if (microns.tests["family"] == family).any()] or \
        ["accuracy"]
    rows = [max(1, int((microns.tests["family"] == family).sum())) for family in families]
    figure, axes = plt.subplots(len(families), 1, figsize=(DOUBLE_COLUMN_IN, 0.9 + 0.13 * sum(rows) + 0.5 * len(rows)),
                                gridspec_kw={"height_ratios": rows}, squeeze=False)
    for axis, family in zip(axes[:, 0], families, strict=True):
        draw_contrasts(axis, microns, family)
    return figure


def overview_panel(axis: Axes, microns: MicronsResults) -> None:
    """The family's key result for the overview page: our accuracy against the paper's."""
    draw_ours_vs_reported(axis, microns)
