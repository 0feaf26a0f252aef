"""Figures of the fMRI stages: gradient space, timescales along the hierarchy, gradient spread.

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
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from brainrnn.fmri.tables import read_region_tables
from brainrnn.plotting import (
    DOUBLE_COLUMN_IN,
    NEUTRAL,
    label_outer,
    label_panels,
    palette,
    panel_grid,
    reference_line,
    stat_box,
    strip,
    vector_colorbar,
)

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
    statistics: pd.DataFrame

    @property
    def groups(self) -> dict[str, str]:
        """Each subject's group."""
        return dict(zip(self.spread["subject"], self.spread["group"], strict=True))


def load(reference: str, gradients: Sequence[str], timescales: Sequence[str], spread: str, relation: str,
         statistics: str, subjects: Sequence[str]) -> FmriResults:
    """Read the fMRI stage's tables (per-subject tables in the order of ``subjects``)."""
    return FmriResults(
        reference=pd.read_csv(reference, sep="\t", index_col="region"),
        gradients=read_region_tables(list(gradients), list(subjects)),
        timescales=read_region_tables(list(timescales), list(subjects)),
        spread=pd.read_csv(spread, sep="\t", dtype={"subject": str}),
        relation=pd.read_csv(relation, sep="\t", dtype={"subject": str}),
        statistics=pd.read_csv(statistics, sep="\t"))


def _region_table(fmri: FmriResults) -> pd.DataFrame:
    """Every region of every subject: G1, gradient extremity |G1 − median|, τ (NaN where unresolved), group."""
    groups = fmri.relation.set_index("subject")["group"]
    rows = []
    for subject, gradients in fmri.gradients.items():
        g1 = gradients["G1"]
        tau = fmri.timescales[subject].reindex(g1.index)["tau_s"]
        rows.append(pd.DataFrame({"subject": subject, "group": groups[subject], "G1": g1.to_numpy(),
                                  "extremity": (g1 - g1.median()).abs().to_numpy(), "tau_s": tau.to_numpy()}))
    return pd.concat(rows, ignore_index=True)


def _mark_unresolved(axis: Axes, positions: pd.Series) -> None:
    """Regions without τ as grey crosses along the bottom edge at their position, so none is silently dropped."""
    if positions.empty:
        return
    axis.scatter(positions, np.zeros(len(positions)), transform=axis.get_xaxis_transform(), marker="x", s=10,
                 linewidths=0.6, color=NEUTRAL, clip_on=False, zorder=5, label=f"no τ ({len(positions)})")


def _binned_tau(axis: Axes, table: pd.DataFrame, column: str, n_bins: int) -> None:
    """Mean ± SEM of τ in equal-count bins of ``column``, drawn over the pooled points (regions with τ)."""
    table = table.dropna(subset=["tau_s"])
    edges = np.unique(np.quantile(table[column], np.linspace(0, 1, n_bins + 1)))
    binned = table.groupby(pd.cut(table[column], edges, include_lowest=True), observed=True)
    axis.errorbar(binned[column].mean(), binned["tau_s"].mean(), yerr=binned["tau_s"].sem(), color="black",
                  marker="o", ms=3, lw=1.0, capsize=0, zorder=4, label="binned mean ± SEM")


def _pooled_tau(axis: Axes, table: pd.DataFrame, column: str) -> None:
    """Every region of every subject as a faint point, coloured by the subject's group; regions without τ
    as crosses on the bottom edge."""
    colours = palette(sorted(table["group"].unique()))
    resolved = table.dropna(subset=["tau_s"])
    for group, part in resolved.groupby("group"):
        axis.scatter(part[column], part["tau_s"], s=4, alpha=0.35, linewidths=0, color=colours[group], label=group)
    _mark_unresolved(axis, table.loc[table["tau_s"].isna(), column])


def tau_range(fmri: FmriResults) -> Normalize:
    """One colour scale of τ for every gradient-space panel (2nd to 98th percentile of all regions)."""
    taus = np.concatenate([frame["tau_s"].to_numpy(dtype=float) for frame in fmri.timescales.values()])
    low, high = np.nanpercentile(taus, [2, 98])
    return Normalize(low, high)


def draw_gradient_space(axis: Axes, gradients: pd.DataFrame, tau: pd.Series, norm: Normalize,
                        *, size: float = 12) -> plt.cm.ScalarMappable:
    """Regions in G1 × G2 space coloured by their τ; regions without τ as grey crosses."""
    values = tau.reindex(gradients.index).to_numpy(dtype=float)
    resolved = np.isfinite(values)
    points = axis.scatter(gradients["G1"][resolved], gradients["G2"][resolved], c=values[resolved],
                          cmap="viridis", norm=norm, s=size, linewidths=0.3, edgecolors="white")
    if not resolved.all():
        axis.scatter(gradients["G1"][~resolved], gradients["G2"][~resolved], marker="x", s=size, linewidths=0.6,
                     color=NEUTRAL, label=f"no τ ({int((~resolved).sum())})")
    axis.set_xlabel("G1 (sensory → association)")
    axis.set_ylabel("G2")
    return points


def draw_reference_space(axis: Axes, fmri: FmriResults) -> plt.cm.ScalarMappable:
    """Group reference gradient space, each region coloured by its τ averaged over subjects."""
    mean_tau = pd.concat([frame["tau_s"] for frame in fmri.timescales.values()], axis=1).mean(axis=1)
    return draw_gradient_space(axis, fmri.reference, mean_tau, tau_range(fmri))


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
    surrogate = fmri.relation.get("p_surrogate_tau_extremity", pd.Series(dtype=float))
    note = f"mean ρ = {rho.mean():.2f}\nρ > 0 in {int((rho > 0).sum())}/{int(rho.notna().sum())} subjects"
    if surrogate.notna().any():
        note += f"\np_surrogate < 0.05 in {int((surrogate < 0.05).sum())}/{int(surrogate.notna().sum())}"
    stat_box(axis, note)
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


def draw_group_statistics(axis: Axes, fmri: FmriResults) -> None:
    """Effect size with its 95% CI for every test of the declared family (q = FDR-adjusted p); a note when
    the study has one group and the tests were skipped."""
    table = fmri.statistics
    tested = table[table["status"] == "tested"] if "status" in table.columns else table.iloc[0:0]
    if tested.empty:
        status = str(table["status"].iloc[0]) if len(table) else "no group statistics"
        axis.text(0.5, 0.5, status.replace(": ", ":\n", 1), transform=axis.transAxes, ha="center", va="center",
                  wrap=True)
        axis.set_axis_off()
        return
    labels = [f"{row.measure if row.test == 'group_difference' else 'τ–extremity slope'} ({row.contrast})"
              for row in tested.itertuples()]
    positions = np.arange(len(tested))[::-1]
    significant = tested["q_fdr"].to_numpy(dtype=float) < 0.05
    effect = tested["effect_size"]
    axis.errorbar(effect, positions, xerr=[effect - tested["effect_ci_low"], tested["effect_ci_high"] - effect],
                  fmt="none", ecolor="black", elinewidth=0.8, capsize=0)
    axis.scatter(tested["effect_size"], positions, c=np.where(significant, "black", "white"), edgecolors="black",
                 s=14, zorder=3)
    reference_line(axis, 0.0, horizontal=False)
    axis.set_yticks(positions, labels)
    axis.set_xlabel("effect size (95% CI); filled: q < 0.05")


def group_statistics_figure(fmri: FmriResults) -> Figure:
    """The group tests: covariate-adjusted effect sizes with 95% CIs, FDR-significant ones filled."""
    figure, axis = plt.subplots(figsize=(5.6, 0.4 + 0.3 * max(3, len(fmri.statistics))))
    draw_group_statistics(axis, fmri)
    return figure


def family_figure(fmri: FmriResults) -> Figure:
    """Gradients, timescales and spread: A group gradient space coloured by τ; B τ along G1;
    C τ against extremity; D per-subject ρ(τ, extremity); E–G gradient spread per subject."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 4.8))
    top, bottom = figure.subfigures(2, 1, squeeze=False, height_ratios=[1.1, 1])[:, 0]
    axes = {**top.subplot_mosaic([["A", "B", "C"]], width_ratios=[1.15, 1, 1]),
            **bottom.subplot_mosaic([["D", "E", "F", "G"]])}
    points = draw_reference_space(axes["A"], fmri)
    vector_colorbar(top, points, ax=axes["A"], label="mean τ (s)", shrink=0.9, aspect=25, pad=0.02)
    draw_tau_along_g1(axes["B"], fmri)
    draw_tau_extremity(axes["C"], fmri)
    draw_rho_by_group(axes["D"], fmri)
    for key, measure in zip("EFG", SPREAD_MEASURES, strict=True):
        draw_spread(axes[key], fmri, measure)
    label_panels([axes[key] for key in "ABCDEFG"],
                 ["Group gradient space", "τ along G1", "τ against extremity", "ρ per subject", "Gradient spread",
                  None, None])
    return figure


def gradient_space_figure(fmri: FmriResults) -> Figure:
    """One panel per subject (sorted by group): regions in G1–G2 space coloured by τ."""
    groups = fmri.groups
    subjects = sorted(fmri.gradients, key=lambda subject: (groups[subject], subject))
    columns = min(4, len(subjects))
    figure, axes = panel_grid(len(subjects), columns, panel_size=(1.9, 1.8), sharex=True, sharey=True)
    norm, points = tau_range(fmri), None
    for axis, subject in zip(axes, subjects, strict=True):
        points = draw_gradient_space(axis, fmri.gradients[subject], fmri.timescales[subject]["tau_s"], norm, size=9)
        axis.set_title(f"sub-{subject} ({groups[subject]})")
    label_outer(axes, columns)
    if points is not None:
        vector_colorbar(figure, points, ax=axes, label="τ (s)", shrink=0.8)
    return figure


def spread_by_group_figure(fmri: FmriResults) -> Figure:
    """Each gradient spread measure per subject, by group."""
    figure, axes = panel_grid(len(SPREAD_MEASURES), len(SPREAD_MEASURES), panel_size=(2.0, 2.2))
    for axis, measure in zip(axes, SPREAD_MEASURES, strict=True):
        draw_spread(axis, fmri, measure)
    return figure


def timescale_extremity_figure(fmri: FmriResults) -> Figure:
    """τ against gradient extremity pooled over subjects, and the per-subject Spearman ρ by group."""
    figure, (pooled, per_subject) = plt.subplots(1, 2, figsize=(5.6, 2.4), width_ratios=[1.6, 1])
    draw_tau_extremity(pooled, fmri)
    draw_rho_by_group(per_subject, fmri)
    return figure


def overview_panel(axis: Axes, fmri: FmriResults) -> None:
    """The family's key result for the overview page."""
    draw_tau_extremity(axis, fmri)
