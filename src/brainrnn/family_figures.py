"""Multi-panel figures per model family and one overview page of every enabled family.

Each family's key results are drawn by small panel functions (one axis each), so the family
figure and the overview show the same panel the same way. Loaders read the workflow's tables;
the figure functions only draw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from brainrnn.cbrnn_figures import CONDITION_LABELS, CONDITION_STYLES
from brainrnn.gradreg_figures import MEASURE_LABELS
from brainrnn.io import read_region_tables
from brainrnn.plotting import (DOUBLE_COLUMN_IN, NEUTRAL, SINGLE_COLUMN_IN, label_panels, mean_sem_line, palette,
                               reference_line, stat_box, strip, vector_colorbar)

OVERVIEW_TITLES = {"fmri": "fMRI: timescale against gradient extremity",
                   "gradreg": "Gradient-regularised RNNs: wiring against geometry",
                   "cbrnn": "Cortico-cerebellar RNNs: curriculum progress",
                   "microns": "MICrONS-constrained RNNs: ours vs the paper"}
TASK_MARKERS = ("o", "s", "^", "D", "v")
MODE_FILL = {"corrected": "full", "faithful": "none", "matched": "left"}
"""Marker fill per MICrONS mode: filled corrected, open faithful, half-filled λ-matched."""
SPREAD_MEASURES = {"g1_range": "G1 range", "dispersion": "dispersion (G1–G3)",
                   "explained_G1": "eigenvalue share of G1"}


@dataclass(frozen=True)
class FmriResults:
    """Group reference gradients, per-subject gradients and timescales, spread and τ–gradient relation."""

    reference: pd.DataFrame
    gradients: dict[str, pd.DataFrame]
    timescales: dict[str, pd.DataFrame]
    spread: pd.DataFrame
    relation: pd.DataFrame


@dataclass(frozen=True)
class GradregResults:
    """Learning histories (one row per evaluation), the per-run summary and the spread correlations."""

    histories: pd.DataFrame
    summary: pd.DataFrame
    correlations: pd.DataFrame
    variants: list[str]


@dataclass(frozen=True)
class CbrnnResults:
    """Curriculum histories per group and seed, ablation, dimensionality and per-run measures."""

    histories: pd.DataFrame
    ablation: pd.DataFrame
    dimensionality: pd.DataFrame
    runs: pd.DataFrame
    groups: list[str]


@dataclass(frozen=True)
class MicronsResults:
    """Per-run measures and the per-condition summary with the authors' reported accuracy."""

    summary: pd.DataFrame
    runs: pd.DataFrame
    variants: list[str]
    tasks: list[str]

    @property
    def primary_mode(self) -> str:
        """The mode the per-variant panels show: corrected when it was run, else the first one run."""
        modes = list(dict.fromkeys(self.runs["mode"]))
        return "corrected" if "corrected" in modes else modes[0]


def load_fmri(reference: str, gradients: Sequence[str], timescales: Sequence[str], spread: str, relation: str,
              subjects: Sequence[str]) -> FmriResults:
    """Read the fMRI stage's tables (per-subject tables in the order of ``subjects``)."""
    return FmriResults(
        reference=pd.read_csv(reference, sep="\t", index_col="region"),
        gradients=read_region_tables(list(gradients), list(subjects)),
        timescales=read_region_tables(list(timescales), list(subjects)),
        spread=pd.read_csv(spread, sep="\t", dtype={"subject": str}),
        relation=pd.read_csv(relation, sep="\t", dtype={"subject": str}))


def load_gradreg(histories: Sequence[str], keys: Sequence[dict[str, object]], summary: str, correlations: str,
                 variants: Sequence[str]) -> GradregResults:
    """Read the gradient-regularised family; ``keys`` holds variant, subject and seed of each history."""
    frames = [pd.read_csv(path, sep="\t").assign(**key) for path, key in zip(histories, keys)]
    return GradregResults(histories=pd.concat(frames, ignore_index=True),
                          summary=pd.read_csv(summary, sep="\t", dtype={"subject": str}),
                          correlations=pd.read_csv(correlations, sep="\t"), variants=list(variants))


def load_cbrnn(histories: Sequence[str], keys: Sequence[dict[str, object]], ablation: str, dimensionality: str,
               runs: str) -> CbrnnResults:
    """Read the cortico-cerebellar family; ``keys`` holds group and seed of each history."""
    frames = [pd.read_csv(path, sep="\t").assign(**key) for path, key in zip(histories, keys)]
    return CbrnnResults(histories=pd.concat(frames, ignore_index=True),
                        ablation=pd.read_csv(ablation, sep="\t"), dimensionality=pd.read_csv(dimensionality, sep="\t"),
                        runs=pd.read_csv(runs, sep="\t"), groups=list(dict.fromkeys(key["group"] for key in keys)))


def load_microns(summary: str, runs: str, variants: Sequence[str], tasks: Sequence[str]) -> MicronsResults:
    """Read the MICrONS-constrained family's summary and per-run tables."""
    return MicronsResults(summary=pd.read_csv(summary, sep="\t", dtype={"field": str}),
                          runs=pd.read_csv(runs, sep="\t", dtype={"field": str}),
                          variants=list(variants), tasks=list(tasks))


# --- fMRI panels -------------------------------------------------------------------------------

def _region_table(fmri: FmriResults) -> pd.DataFrame:
    """Every region of every subject: G1, gradient extremity |G1 − median|, τ and the subject's group."""
    groups = fmri.relation.set_index("subject")["group"]
    rows = []
    for subject, gradients in fmri.gradients.items():
        g1 = gradients["G1"]
        tau = fmri.timescales[subject].reindex(g1.index)["tau_s"]
        rows.append(pd.DataFrame({"subject": subject, "group": groups[subject], "G1": g1.to_numpy(),
                                  "extremity": (g1 - g1.median()).abs().to_numpy(), "tau_s": tau.to_numpy()}))
    return pd.concat(rows, ignore_index=True).dropna()


def _binned_tau(axis: Axes, table: pd.DataFrame, column: str, n_bins: int) -> None:
    """Mean ± SEM of τ in equal-count bins of ``column``, drawn over the pooled points."""
    edges = np.unique(np.quantile(table[column], np.linspace(0, 1, n_bins + 1)))
    binned = table.groupby(pd.cut(table[column], edges, include_lowest=True), observed=True)
    axis.errorbar(binned[column].mean(), binned["tau_s"].mean(), yerr=binned["tau_s"].sem(), color="black",
                  marker="o", ms=3, lw=1.0, capsize=0, zorder=4, label="binned mean ± SEM")


def _pooled_tau(axis: Axes, table: pd.DataFrame, column: str) -> None:
    """Every region of every subject as a faint point, coloured by the subject's group."""
    colours = palette(sorted(table["group"].unique()))
    for group, part in table.groupby("group"):
        axis.scatter(part[column], part["tau_s"], s=4, alpha=0.35, linewidths=0, color=colours[group], label=group)


def draw_reference_space(axis: Axes, fmri: FmriResults) -> plt.cm.ScalarMappable:
    """Group reference gradient space (G1 × G2), each region coloured by its τ averaged over subjects."""
    mean_tau = pd.concat([frame["tau_s"] for frame in fmri.timescales.values()], axis=1).mean(axis=1)
    tau = mean_tau.reindex(fmri.reference.index).to_numpy()
    low, high = np.nanpercentile(tau, [2, 98])
    points = axis.scatter(fmri.reference["G1"], fmri.reference["G2"], c=tau, cmap="viridis",
                          norm=Normalize(low, high), s=12, linewidths=0.3, edgecolors="white")
    axis.set_xlabel("G1 (sensory → association)")
    axis.set_ylabel("G2")
    return points


def draw_tau_along_g1(axis: Axes, fmri: FmriResults, *, n_bins: int = 10) -> None:
    """τ against G1 for every region of every subject, with binned means: the U shape behind the
    extremity relation (long timescales at both ends of the hierarchy)."""
    table = _region_table(fmri)
    _pooled_tau(axis, table, "G1")
    _binned_tau(axis, table, "G1", n_bins)
    axis.set_xlabel("G1 (sensory → association)")
    axis.set_ylabel("timescale τ (s)")


def draw_tau_extremity(axis: Axes, fmri: FmriResults, *, n_bins: int = 8) -> None:
    """τ against gradient extremity for every region of every subject, with the mean ± SEM of τ in
    extremity bins (equal counts) and the per-subject Spearman ρ summarised in the corner."""
    table = _region_table(fmri)
    _pooled_tau(axis, table, "extremity")
    _binned_tau(axis, table, "extremity", n_bins)
    rho = fmri.relation["rho_tau_extremity"]
    stat_box(axis, f"mean ρ = {rho.mean():.2f}\nρ > 0 in {int((rho > 0).sum())}/{int(rho.notna().sum())} subjects")
    axis.set_xlabel("gradient extremity |G1 − median|")
    axis.set_ylabel("timescale τ (s)")


def draw_rho_by_group(axis: Axes, fmri: FmriResults) -> None:
    """Per-subject Spearman ρ(τ, extremity) by group; the source study predicts ρ > 0."""
    groups = sorted(fmri.relation["group"].unique())
    values = {group: fmri.relation.loc[fmri.relation["group"] == group, "rho_tau_extremity"] for group in groups}
    strip(axis, values, palette(groups))
    reference_line(axis, 0.0)
    axis.set_ylabel("Spearman ρ(τ, extremity)")


def draw_spread(axis: Axes, fmri: FmriResults, measure: str) -> None:
    """One gradient spread measure per subject, by group (bar = group mean)."""
    groups = sorted(fmri.spread["group"].unique())
    strip(axis, {group: fmri.spread.loc[fmri.spread["group"] == group, measure] for group in groups},
          palette(groups))
    axis.set_ylabel(SPREAD_MEASURES[measure])


def fmri_figure(fmri: FmriResults) -> Figure:
    """Gradients, timescales and spread: A group gradient space coloured by τ; B τ along G1;
    C τ against extremity; D per-subject ρ(τ, extremity); E–G gradient spread per subject."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 4.8))
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.1, 1])
    axes = {**top.subplot_mosaic([["A", "B", "C"]], width_ratios=[1.15, 1, 1]),
            **bottom.subplot_mosaic([["D", "E", "F", "G"]])}
    points = draw_reference_space(axes["A"], fmri)
    vector_colorbar(top, points, ax=axes["A"], label="mean τ (s)", shrink=0.9, aspect=25, pad=0.02)
    draw_tau_along_g1(axes["B"], fmri)
    draw_tau_extremity(axes["C"], fmri)
    draw_rho_by_group(axes["D"], fmri)
    for key, measure in zip("EFG", SPREAD_MEASURES):
        draw_spread(axes[key], fmri, measure)
    label_panels([axes[key] for key in "ABCDEFG"],
                 ["Group gradient space", "τ along G1", "τ against extremity", "ρ per subject", "Gradient spread",
                  None, None])
    return figure


# --- gradient-regularised RNN panels ----------------------------------------------------------

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
        tick.set_ha("right")
    axis.set_ylabel(MEASURE_LABELS.get(column, column))


def draw_measure_vs_spread(axis: Axes, gradreg: GradregResults, measure: str, *, variant: str = "gradreg",
                           spread_measure: str = "dispersion") -> None:
    """One measure against gradient spread across subjects (seed means), with the workflow's
    Spearman ρ and permutation p."""
    block = gradreg.summary[gradreg.summary["variant"] == variant]
    per_subject = block.groupby("subject")[[spread_measure, measure]].mean()
    axis.scatter(per_subject[spread_measure], per_subject[measure], s=14, color=palette(gradreg.variants)[variant],
                 linewidths=0)
    stat = gradreg.correlations[(gradreg.correlations["variant"] == variant)
                                & (gradreg.correlations["measure"] == measure)
                                & (gradreg.correlations["spread_measure"] == spread_measure)]
    if len(stat) and np.isfinite(stat["rho"].iloc[0]):
        stat_box(axis, f"ρ = {stat['rho'].iloc[0]:.2f}, p = {stat['p_permutation'].iloc[0]:.2f}")
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


def gradreg_figure(gradreg: GradregResults) -> Figure:
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


# --- cortico-cerebellar panels ----------------------------------------------------------------

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


def draw_ablation(axis: Axes, cbrnn: CbrnnResults, column: str = "accuracy_mean") -> None:
    """CB-RNN test accuracy (or its drop) per level, intact and with the cerebellum ablated."""
    colour = palette(cbrnn.groups)["cbrnn"] if "cbrnn" in cbrnn.groups else "black"
    for condition, label in CONDITION_LABELS.items():
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


def cbrnn_figure(cbrnn: CbrnnResults) -> Figure:
    """Curriculum and cerebellum: A–B level and test accuracy per epoch; C–D ablation; E module
    dimensionality; F mean level over training per seed."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 4.8))
    axes = figure.subplot_mosaic([["A", "B", "C"], ["D", "E", "F"]])
    draw_curriculum(axes["A"], cbrnn)
    axes["A"].yaxis.set_major_locator(plt.MaxNLocator(integer=True))
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


# --- MICrONS panels ---------------------------------------------------------------------------

def _task_markers(tasks: Sequence[str]) -> dict[str, str]:
    """A marker per task, in the config's order."""
    return {task: TASK_MARKERS[index % len(TASK_MARKERS)] for index, task in enumerate(tasks)}


def draw_ours_vs_reported(axis: Axes, microns: MicronsResults, *, legend: bool = True) -> None:
    """Our held-out accuracy against the authors' reported accuracy, one point per variant × task × mode
    (filled: corrected; open: faithful; half-filled: λ-matched)."""
    colours, markers = palette(microns.variants), _task_markers(microns.tasks)
    table = microns.summary.dropna(subset=["reported_accuracy"])
    for (variant, task, mode), row in table.set_index(["variant", "task", "mode"]).iterrows():
        if variant not in colours or task not in markers:
            continue
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
        handles += [Line2D([], [], ls="", marker="o", color="0.3", fillstyle=MODE_FILL.get(mode, "full"),
                           markerfacecoloralt="white", label=mode)
                    for mode in dict.fromkeys(table["mode"])]
        axis.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), handletextpad=0.2)


def draw_microns_measure(axis: Axes, microns: MicronsResults, column: str, label: str) -> None:
    """One per-run measure by variant in the primary mode, one column of points per task (marker = task)."""
    colours, markers = palette(microns.variants), _task_markers(microns.tasks)
    width = 0.8 / len(microns.tasks)
    for index, task in enumerate(microns.tasks):
        runs = microns.runs[(microns.runs["task"] == task) & (microns.runs["mode"] == microns.primary_mode)]
        strip(axis, {variant: runs.loc[runs["variant"] == variant, column] for variant in microns.variants}, colours,
              offset=-0.4 + width * (index + 0.5), width=width * 0.9, marker=markers[task], seed=index)
    axis.set_xticks(range(len(microns.variants)), microns.variants, rotation=45, ha="right")
    axis.set_ylabel(label)


def microns_figure(microns: MicronsResults) -> Figure:
    """Task performance and learned graph structure: A ours against reported accuracy; B held-out
    accuracy per variant and task; C modularity; D small-worldness; E weight entropy; F max |λ|."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 5.0))
    axes = figure.subplot_mosaic([["A", "B", "C"], ["D", "E", "F"]])
    draw_ours_vs_reported(axes["A"], microns)
    draw_microns_measure(axes["B"], microns, "final_accuracy", "held-out accuracy")
    reference_line(axes["B"], 0.5)
    draw_microns_measure(axes["C"], microns, "modularity", "modularity Q")
    draw_microns_measure(axes["D"], microns, "small_worldness", "small-worldness σ")
    reference_line(axes["D"], 1.0)
    draw_microns_measure(axes["E"], microns, "weight_entropy_bits", "weight entropy (bits)")
    draw_microns_measure(axes["F"], microns, "max_abs_eigenvalue", "max |λ| at fixed points")
    reference_line(axes["F"], 1.0)
    label_panels([axes[key] for key in "ABCDEF"],
                 ["Against the paper", f"Task accuracy ({microns.primary_mode})", "Graph structure", None, None,
                  "Fixed points"])
    return figure


# --- overview ---------------------------------------------------------------------------------

def overview_figure(fmri: FmriResults | None = None, gradreg: GradregResults | None = None,
                    cbrnn: CbrnnResults | None = None, microns: MicronsResults | None = None) -> Figure:
    """One page with the key result of every enabled family, in the order fMRI, gradient-regularised,
    cortico-cerebellar, MICrONS (families that are off are left out)."""
    panels = []
    if fmri is not None:
        panels.append(("fmri", lambda axis: draw_tau_extremity(axis, fmri)))
    if gradreg is not None:
        def gradreg_panel(axis: Axes) -> None:
            draw_variant_measure(axis, gradreg, "alignment")
            reference_line(axis, 0.0)
        panels.append(("gradreg", gradreg_panel))
    if cbrnn is not None:
        def cbrnn_panel(axis: Axes) -> None:
            draw_curriculum(axis, cbrnn)
            axis.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
            axis.legend(loc="best")
        panels.append(("cbrnn", cbrnn_panel))
    if microns is not None:
        panels.append(("microns", lambda axis: draw_ours_vs_reported(axis, microns)))
    if not panels:
        raise ValueError("overview_figure needs at least one family's results")
    columns = 1 if len(panels) == 1 else 2
    rows = -(-len(panels) // columns)
    width = DOUBLE_COLUMN_IN if columns == 2 else SINGLE_COLUMN_IN
    figure, axes = plt.subplots(rows, columns, figsize=(width, 2.7 * rows), squeeze=False)
    for axis, (_, draw) in zip(axes.flat, panels):
        draw(axis)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    label_panels(list(axes.flat)[:len(panels)], [OVERVIEW_TITLES[family] for family, _ in panels])
    return figure


# --- dispatch for the workflow ----------------------------------------------------------------

LOADERS = {"fmri": load_fmri, "gradreg": load_gradreg, "cbrnn": load_cbrnn, "microns": load_microns}
FAMILY_FIGURES = {"fmri": fmri_figure, "gradreg": gradreg_figure, "cbrnn": cbrnn_figure, "microns": microns_figure}
FamilyResults = FmriResults | GradregResults | CbrnnResults | MicronsResults


def load_families(inputs: Mapping[str, object], params: Mapping[str, Mapping[str, object]],
                  families: Sequence[str]) -> dict[str, FamilyResults]:
    """Load each family's results from inputs named '<family>__<table>' and the loader's
    parameters per family (subjects, history keys, variants)."""
    results = {}
    for family in families:
        if family not in LOADERS:
            raise ValueError(f"unknown model family '{family}' (known: {', '.join(LOADERS)})")
        tables = {name.split("__", 1)[1]: value for name, value in inputs.items() if name.startswith(f"{family}__")}
        results[family] = LOADERS[family](**tables, **params[family])
    return results


def families_figure(results: Mapping[str, FamilyResults]) -> Figure:
    """The family figure when one family is given, the overview page when several are."""
    if len(results) == 1:
        family, data = next(iter(results.items()))
        return FAMILY_FIGURES[family](data)
    return overview_figure(**results)
