"""Figures of the low-rank family: spectra, effective rank, adaptation, two-stage stay probabilities, NLL vs units.

Each panel is one ``draw_*`` function on one axis; the family figure, the stage figures and the
overview only arrange them. :func:`load` reads the workflow's tables. Premature and mature networks
keep one colour each in every panel; the tiny GRUs share one colour with a marker per size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.typing import FillStyleType

from brainrnn.lowrank import DEVELOPMENTAL, STAY_CONDITIONS
from brainrnn.plotting import (
    DOUBLE_COLUMN_IN,
    NEUTRAL,
    label_panels,
    mean_sem_line,
    palette,
    panel_grid,
    reference_line,
    stat_box,
)

TASK_LABELS = {"reversal": "reversal", "two_stage": "two-stage", "bandit": "bandit"}
STAY_LABELS = {"common_rewarded": "common\nrew.", "rare_rewarded": "rare\nrew.", "common_unrewarded": "common\nunrew.",
               "rare_unrewarded": "rare\nunrew."}
RANK_FILLS: dict[str, FillStyleType] = {"effective_rank_squared": "full", "effective_rank_plain": "none"}
RANK_LABELS = {"effective_rank_squared": "(Σσ²)²/Σσ⁴", "effective_rank_plain": "(Σσ)²/Σσ²"}


@dataclass(frozen=True)
class LowrankResults:
    """The family's tables: summary over seeds, per-run measures, predictions, singular values and
    adaptation curves per run, and the LDS bridge (None when it was not run)."""

    summary: pd.DataFrame
    runs: pd.DataFrame
    predictions: pd.DataFrame
    spectra: pd.DataFrame
    curves: pd.DataFrame
    bridge: pd.DataFrame | None
    configurations: list[str]
    tasks: list[str]
    modes: list[str]

    @property
    def primary_mode(self) -> str:
        """The mode the behavioural panels show: act (what the predictions are about) when it ran."""
        return "act" if "act" in self.modes else self.modes[0]

    def colours(self) -> dict[str, str]:
        return palette([*DEVELOPMENTAL, "gru", "agent", "cognitive"])


def load(summary: str, runs: str, predictions: str, spectra: str, curves: str, configurations: Sequence[str],
         tasks: Sequence[str], modes: Sequence[str], bridge: str | None = None) -> LowrankResults:
    """Read the family's tables."""
    def read(path: str) -> pd.DataFrame:
        return pd.read_csv(path, sep="\t")

    return LowrankResults(summary=read(summary), runs=read(runs), predictions=read(predictions), spectra=read(spectra),
                          curves=read(curves), bridge=None if bridge is None else read(bridge),
                          configurations=list(configurations), tasks=list(tasks), modes=list(modes))


def _family(configuration: str) -> str:
    return "gru" if configuration.startswith("gru") else configuration


def _empty(axis: Axes, text: str) -> None:
    axis.text(0.5, 0.5, text, ha="center", va="center", transform=axis.transAxes, color=NEUTRAL)
    axis.set_xticks([])
    axis.set_yticks([])


def draw_spectra(axis: Axes, lowrank: LowrankResults, mode: str, task: str) -> None:
    """Singular values of W by index (log scale), mean ± SEM over seeds, with the targets σ_0 e^(−γ i) dashed."""
    colours = lowrank.colours()
    block = lowrank.spectra[(lowrank.spectra["mode"] == mode) & (lowrank.spectra["task"] == task)]
    runs = lowrank.runs
    drawn = False
    for configuration in DEVELOPMENTAL:
        values = block[block["configuration"] == configuration]
        values = values[values["singular_values"] > 1e-6]
        if values.empty:
            continue
        grouped = values.groupby("index")["singular_values"]
        mean, sem = grouped.mean(), grouped.sem().fillna(0.0)
        mean_sem_line(axis, mean.index.to_numpy(), mean.to_numpy(), sem.to_numpy(), colours[configuration],
                      configuration)
        axis.plot(mean.index, mean.iloc[0] * np.exp(-_decay_target(runs, configuration) * mean.index.to_numpy()),
                  color=colours[configuration], ls="--", lw=0.8)
        drawn = True
    if not drawn:
        _empty(axis, "no low-rank networks")
        return
    axis.set_yscale("log")
    axis.set_xlabel("singular value index i")
    axis.set_ylabel(f"σ_i ({mode}, {TASK_LABELS.get(task, task)})")


def _decay_target(runs: pd.DataFrame, configuration: str) -> float:
    values = runs.loc[runs["configuration"] == configuration, "decay_target"]
    return float(values.iloc[0]) if len(values) else float("nan")


def draw_effective_rank(axis: Axes, lowrank: LowrankResults, mode: str) -> None:
    """Effective rank of W per task and configuration: (Σσ²)²/Σσ⁴ filled, (Σσ)²/Σσ² open; one point per seed."""
    colours = lowrank.colours()
    runs = lowrank.runs[(lowrank.runs["mode"] == mode) & lowrank.runs["configuration"].isin(DEVELOPMENTAL)]
    if runs.empty:
        _empty(axis, "no low-rank networks")
        return
    rng = np.random.default_rng(0)
    for index, task in enumerate(lowrank.tasks):
        for offset, configuration in zip((-0.2, 0.2), DEVELOPMENTAL, strict=True):
            block = runs[(runs["task"] == task) & (runs["configuration"] == configuration)]
            for column, fill in RANK_FILLS.items():
                values = block[column].to_numpy(dtype=float)
                x = index + offset + rng.uniform(-0.06, 0.06, values.size)
                axis.plot(x, values, ls="", marker="o", ms=3.5, color=colours[configuration], fillstyle=fill)
    axis.set_xticks(range(len(lowrank.tasks)), [TASK_LABELS.get(task, task) for task in lowrank.tasks])
    axis.set_xlim(-0.6, len(lowrank.tasks) - 0.4)
    axis.set_ylabel(f"effective rank of W ({mode})")
    handles = [plt.Line2D([], [], ls="", marker="o", color=colours[c], label=c) for c in DEVELOPMENTAL]
    handles += [plt.Line2D([], [], ls="", marker="o", color="0.3", fillstyle=fill, label=RANK_LABELS[column])
                for column, fill in RANK_FILLS.items()]
    axis.legend(handles=handles, loc="best")


def draw_adaptation(axis: Axes, lowrank: LowrankResults, mode: str) -> None:
    """P(choosing the new best arm) around a reversal per configuration (mean ± SEM over seeds)."""
    colours = lowrank.colours()
    block = lowrank.curves[(lowrank.curves["mode"] == mode) & (lowrank.curves["task"] == "reversal")]
    if block.empty:
        _empty(axis, f"no reversal runs ({mode})")
        return
    for configuration in dict.fromkeys(block["configuration"]):
        if _family(configuration) == "gru" and configuration != _largest_gru(block):
            continue
        grouped = block[block["configuration"] == configuration].groupby("lag")["adaptation_curve"]
        mean, sem = grouped.mean(), grouped.sem().fillna(0.0)
        mean_sem_line(axis, mean.index.to_numpy(), mean.to_numpy(), sem.to_numpy(),
                      colours[_family(configuration)], configuration)
    reference_line(axis, 0.5)
    reference_line(axis, 0.0, horizontal=False)
    axis.set_xlabel("trials from reversal")
    axis.set_ylabel(f"P(new best arm) ({mode})")
    axis.set_ylim(0, 1)
    axis.legend(loc="lower right")


def _largest_gru(block: pd.DataFrame) -> str | None:
    sizes = [name for name in dict.fromkeys(block["configuration"]) if name.startswith("gru")]
    return max(sizes, key=lambda name: int(name.split("-")[1])) if sizes else None


def draw_stay(axis: Axes, lowrank: LowrankResults, mode: str) -> None:
    """Two-stage stay probabilities by previous transition × outcome per configuration (and the generating
    agent in fit mode); bar = mean over seeds, line = 95% CI."""
    colours = lowrank.colours()
    summary = lowrank.summary[(lowrank.summary["mode"] == mode) & (lowrank.summary["task"] == "two_stage")]
    shown = summary[summary["kind"].isin(["network", "generating agent"])]
    shown = shown[~shown["configuration"].str.startswith("gru") | (shown["configuration"] == _largest_gru(shown))]
    if shown.empty or shown["common_rewarded"].isna().all():
        _empty(axis, f"no two-stage runs ({mode})")
        return
    width = 0.8 / len(shown)
    for index, row in enumerate(shown.itertuples()):
        colour = colours["agent" if row.kind == "generating agent" else _family(row.configuration)]
        x = np.arange(len(STAY_CONDITIONS)) - 0.4 + width * (index + 0.5)
        means = np.array([getattr(row, condition) for condition in STAY_CONDITIONS])
        low = np.array([getattr(row, f"{condition}_ci_low") for condition in STAY_CONDITIONS])
        high = np.array([getattr(row, f"{condition}_ci_high") for condition in STAY_CONDITIONS])
        axis.bar(x, means, width * 0.9, color=colour, label=row.configuration)
        finite = np.isfinite(low) & np.isfinite(high)
        axis.vlines(x[finite], low[finite], high[finite], color="black", lw=0.8)
    axis.set_xticks(range(len(STAY_CONDITIONS)), [STAY_LABELS[c] for c in STAY_CONDITIONS])
    axis.set_ylim(0, 1.3)
    axis.set_yticks(np.linspace(0, 1, 6))
    axis.set_ylabel(f"P(stay) ({mode})")
    axis.legend(loc="upper center", ncols=3, columnspacing=0.8, handlelength=1.0)


def draw_nll(axis: Axes, lowrank: LowrankResults, task: str) -> None:
    """Held-out NLL per trial against tiny-GRU size (mean and 95% CI over seeds), with the low-rank networks,
    the best cognitive model, the generating agent's own NLL (ceiling) and chance as lines."""
    colours = lowrank.colours()
    summary = lowrank.summary[(lowrank.summary["mode"] == "fit") & (lowrank.summary["task"] == task)]
    if summary.empty:
        _empty(axis, f"no fit-mode runs ({TASK_LABELS.get(task, task)})")
        return
    grus = summary[summary["configuration"].str.startswith("gru")].sort_values("units")
    if len(grus):
        axis.errorbar(grus["units"], grus["nll"], yerr=[grus["nll"] - grus["nll_ci_low"],
                                                       grus["nll_ci_high"] - grus["nll"]],
                      color=colours["gru"], marker="o", ms=3.5, capsize=2, label="tiny GRU")
    for configuration in DEVELOPMENTAL:
        row = summary[summary["configuration"] == configuration]
        if len(row):
            axis.axhline(float(row["nll"].iloc[0]), color=colours[configuration], lw=1.0, label=configuration)
    cognitive = summary[summary["kind"] == "cognitive model"]
    if len(cognitive):
        best = cognitive.loc[cognitive["nll"].idxmin()]
        axis.axhline(float(best["nll"]), color=colours["cognitive"], lw=1.0, ls="-.", label=f"{best['configuration']}")
    ceiling = float(summary["nll_ceiling"].iloc[0])
    if np.isfinite(ceiling):
        axis.axhline(ceiling, color="black", lw=0.8, ls=":", label="generating agent")
    chance = float(summary["nll_chance"].iloc[0])
    reference_line(axis, chance, label="chance")
    lowest = float(np.nanmin([summary["nll"].min(), ceiling]))
    axis.set_ylim(max(0.0, lowest - 0.1), chance + 0.15)  # wide intervals of few seeds are clipped
    axis.set_xlabel("GRU units")
    axis.set_ylabel(f"held-out NLL / trial ({TASK_LABELS.get(task, task)})")
    if len(grus):
        axis.set_xticks(grus["units"].astype(int).tolist())
    axis.legend(loc="best")


def draw_bridge(axis: Axes, lowrank: LowrankResults) -> None:
    """Effective rank of each subject's fitted fMRI dynamics A against gradient dispersion, with Spearman ρ."""
    bridge = lowrank.bridge
    if bridge is None or bridge.empty:
        _empty(axis, "fMRI bridge not run")
        return
    groups = sorted(bridge["group"].astype(str).unique())
    colours = palette(groups)
    for group in groups:
        part = bridge[bridge["group"].astype(str) == group]
        axis.scatter(part["dispersion"], part["effective_rank_squared"], s=14, color=colours[group], label=group,
                     linewidths=0)
    if len(bridge) >= 3:
        rho = pd.Series(bridge["dispersion"]).rank().corr(pd.Series(bridge["effective_rank_squared"]).rank())
        stat_box(axis, f"Spearman ρ = {rho:.2f} (n = {len(bridge)})")
    axis.set_xlabel("gradient dispersion")
    axis.set_ylabel("effective rank of A (Σσ²)²/Σσ⁴")


def family_figure(lowrank: LowrankResults) -> Figure:
    """A spectra of W; B effective rank; C adaptation after reversals; D two-stage stay probabilities;
    E held-out NLL against GRU size; F the fMRI bridge."""
    figure = plt.figure(figsize=(DOUBLE_COLUMN_IN, 5.2))
    axes = figure.subplot_mosaic([["A", "B", "C"], ["D", "E", "F"]])
    mode = lowrank.primary_mode
    draw_spectra(axes["A"], lowrank, mode, lowrank.tasks[0])
    if axes["A"].get_legend_handles_labels()[0]:
        axes["A"].legend(loc="best")
    draw_effective_rank(axes["B"], lowrank, mode)
    draw_adaptation(axes["C"], lowrank, mode)
    draw_stay(axes["D"], lowrank, mode)
    draw_nll(axes["E"], lowrank, lowrank.tasks[0])
    draw_bridge(axes["F"], lowrank)
    label_panels([axes[key] for key in "ABCDEF"], ["Spectra", "Effective rank", "Adaptation", "Two-stage",
                                                    "Held-out NLL", "fMRI dynamics"])
    return figure


def spectra_figure(lowrank: LowrankResults) -> Figure:
    """Singular values per mode (rows) and task (columns)."""
    figure, axes = panel_grid(len(lowrank.modes) * len(lowrank.tasks), len(lowrank.tasks), panel_size=(2.3, 2.0))
    for axis, (mode, task) in zip(axes, [(m, t) for m in lowrank.modes for t in lowrank.tasks], strict=True):
        draw_spectra(axis, lowrank, mode, task)
    if axes[0].get_legend_handles_labels()[0]:
        axes[0].legend(loc="best")
    return figure


def _per_mode(lowrank: LowrankResults, draw: Callable[[Axes, LowrankResults, str], None], width: float) -> Figure:
    """One panel per mode, each drawn by ``draw``."""
    figure, axes = panel_grid(len(lowrank.modes), len(lowrank.modes), panel_size=(width, 2.4))
    for axis, mode in zip(axes, lowrank.modes, strict=True):
        draw(axis, lowrank, mode)
    return figure


def rank_figure(lowrank: LowrankResults) -> Figure:
    """Effective rank under both definitions per task, one panel per mode."""
    return _per_mode(lowrank, draw_effective_rank, 3.0)


def adaptation_figure(lowrank: LowrankResults) -> Figure:
    """P(new best arm) around reversals, one panel per mode."""
    return _per_mode(lowrank, draw_adaptation, 3.0)


def two_stage_figure(lowrank: LowrankResults) -> Figure:
    """Two-stage stay probabilities, one panel per mode."""
    return _per_mode(lowrank, draw_stay, 3.4)


def nll_figure(lowrank: LowrankResults) -> Figure:
    """Held-out NLL against tiny-GRU size per task (fit mode), with the ceiling and chance."""
    figure, axes = panel_grid(len(lowrank.tasks), len(lowrank.tasks), panel_size=(2.6, 2.4))
    for axis, task in zip(axes, lowrank.tasks, strict=True):
        draw_nll(axis, lowrank, task)
    return figure


def overview_panel(axis: Axes, lowrank: LowrankResults) -> None:
    """The family's key result for the overview page: adaptation after reversals, premature vs mature."""
    draw_adaptation(axis, lowrank, lowrank.primary_mode)
