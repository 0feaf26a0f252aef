"""One figure style for every stage, and byte-stable vector PDF / PNG output.

Every figure rule calls :func:`apply_style` first, colours categories with :func:`palette` (the
same name gets the same colour in every figure that lists the same categories) and writes through
:func:`save_figure`. PDFs embed TrueType fonts (type 42) and carry no creation date or producer,
so rerunning a figure rule on the same data writes the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colorbar import Colorbar
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure, FigureBase
from matplotlib.typing import ColorType

from brainrnn.io import atomic_path
from brainrnn.stats import mean_ci

matplotlib.use("Agg")  # files only, never a window (switches pyplot's backend if it was loaded first)

# Okabe & Ito's colour-blind-safe qualitative palette (yellow last: weak on white).
CATEGORY_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
NEUTRAL = "0.55"
DOUBLE_COLUMN_IN = 7.1  # 180 mm, a journal's full page width
SINGLE_COLUMN_IN = 3.5


def apply_style(font_size: float = 8.0) -> None:
    """Set the shared rcParams: sizes in points, thin spines without top/right, the colour cycle,
    embedded TrueType fonts and constrained layout."""
    plt.rcParams.update({
        "font.family": "DejaVu Sans", "font.size": font_size, "axes.titlesize": font_size,
        "axes.labelsize": font_size, "xtick.labelsize": font_size - 1, "ytick.labelsize": font_size - 1,
        "legend.fontsize": font_size - 1, "legend.title_fontsize": font_size - 1, "legend.frameon": False,
        "legend.handlelength": 1.5, "legend.borderaxespad": 0.3,
        "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.6, "axes.titlepad": 4,
        "axes.prop_cycle": cycler(color=CATEGORY_COLOURS), "axes.labelpad": 2,
        "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.major.size": 2.5, "ytick.major.size": 2.5,
        "xtick.major.pad": 2, "ytick.major.pad": 2,
        "lines.linewidth": 1.2, "lines.markersize": 3.5, "image.cmap": "viridis",
        "pdf.fonttype": 42, "ps.fonttype": 42, "svg.hashsalt": "brainrnn", "svg.fonttype": "none",
        "figure.constrained_layout.use": True, "figure.constrained_layout.h_pad": 0.04,
        "figure.constrained_layout.w_pad": 0.04,
    })


def save_figure(figure: Figure, png: str | os.PathLike[str], pdf: str | os.PathLike[str], *, dpi: int) -> None:
    """Write the figure as PNG and PDF atomically, without timestamps, then close it."""
    with atomic_path(png) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    with atomic_path(pdf) as tmp:
        figure.savefig(tmp, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                                    "Creator": None})
    plt.close(figure)


def panel_grid(count: int, columns: int, *, panel_size: tuple[float, float],
               **subplots: Any) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels in rows of ``columns`` (unused cells hidden), panels in reading order."""
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(panel_size[0] * columns + 0.6, panel_size[1] * rows),
                                squeeze=False, **subplots)
    axes = list(grid.flat)
    for axis in axes[count:]:
        axis.set_visible(False)
    return figure, axes[:count]


def label_outer(axes: Sequence[Axes], columns: int) -> None:
    """Axis labels and tick labels only on the outer panels of a grid filled in reading order: x on the
    lowest panel of each column (also when the last row is incomplete), y on the first column."""
    count = len(axes)
    for index, axis in enumerate(axes):
        if index + columns < count:
            axis.set_xlabel("")
            axis.xaxis.set_tick_params(labelbottom=False)
        else:
            axis.xaxis.set_tick_params(labelbottom=True)
        if index % columns:
            axis.set_ylabel("")
            axis.yaxis.set_tick_params(labelleft=False)


def palette(names: Sequence[str]) -> dict[str, str]:
    """A colour per category, in the order given (the config's order), so that a variant or group
    has one colour in every figure; more than eight categories fall back to tab20."""
    names = list(dict.fromkeys(names))
    colours: tuple[str, ...]
    if len(names) <= len(CATEGORY_COLOURS):
        colours = CATEGORY_COLOURS
    else:
        tab20 = plt.get_cmap("tab20")
        assert isinstance(tab20, ListedColormap)  # a qualitative map: a list of colours
        listed = cast(Sequence[ColorType], tab20.colors)  # the stubs allow any ArrayLike; tab20 lists RGB tuples
        colours = tuple(matplotlib.colors.to_hex(colour) for colour in listed)
    return {name: colours[index % len(colours)] for index, name in enumerate(names)}


def group_colour(groups: list[str], group: str) -> str:
    """A stable colour per subject group (sorted order)."""
    return palette(sorted(set(groups)))[group]


def panel_label(axis: Axes, letter: str, title: str | None = None) -> None:
    """Bold panel letter at the top left of an axis (outside the spines), with an optional title."""
    axis.annotate(letter, xy=(0.0, 1.0), xycoords="axes fraction", xytext=(-22, 7), textcoords="offset points",
                  ha="left", va="bottom", fontweight="bold", fontsize=plt.rcParams["font.size"] + 2)
    if title:
        axis.set_title(title, loc="left", x=0.02)


def label_panels(axes: Sequence[Axes], titles: Sequence[str | None] | None = None) -> None:
    """Letter panels A, B, C ... in reading order."""
    titles = list(titles) if titles is not None else [None] * len(axes)
    for index, (axis, title) in enumerate(zip(axes, titles, strict=True)):
        panel_label(axis, chr(ord("A") + index), title)


def vector_colorbar(figure: FigureBase, mappable: ScalarMappable, **kwargs: Any) -> Colorbar:
    """A colour bar drawn as vector patches (matplotlib rasterises long colour bars by default,
    which would put a bitmap into the PDF)."""
    colorbar = figure.colorbar(mappable, **kwargs)
    assert colorbar.solids is not None  # drawn for every mappable the figures pass (no contour sets)
    colorbar.solids.set_rasterized(False)
    colorbar.outline.set_linewidth(0.6)
    return colorbar


def mean_sem_line(axis: Axes, x: np.ndarray, mean: np.ndarray, sem: np.ndarray, colour: str, label: str, *,
                  steps: bool = False) -> None:
    """A mean curve with a shaded ± SEM band (drawn as steps for a discrete quantity)."""
    step: Literal["post"] | None = "post" if steps else None
    axis.plot(x, mean, color=colour, label=label, drawstyle="steps-post" if steps else "default")
    axis.fill_between(x, mean - sem, mean + sem, color=colour, alpha=0.2, lw=0, step=step)


def strip(axis: Axes, values: Mapping[str, np.ndarray], colours: Mapping[str, str], *,
          offset: float = 0.0, width: float = 0.3, marker: str = "o", seed: int = 0) -> None:
    """One column of points per category with a horizontal bar at the mean and a vertical line spanning
    its 95% CI (expanded bootstrap, :func:`brainrnn.stats.mean_ci`) where there is more than one point
    (points jittered and CIs resampled with fixed seeds, so the figure is the same on every run)."""
    rng = np.random.default_rng(seed)
    for position, (name, data) in enumerate(values.items()):
        data = np.asarray(data, dtype=float)
        data = data[np.isfinite(data)]
        centre = position + offset
        if data.size:
            jitter = rng.uniform(-width / 3, width / 3, size=data.size) if data.size > 1 else np.zeros(1)
            axis.scatter(centre + jitter, data, s=12 if data.size > 1 else 18, color=colours[name], alpha=0.75,
                         linewidths=0, marker=marker, zorder=3)
            if data.size > 1:
                axis.hlines(data.mean(), centre - width / 2, centre + width / 2, color=colours[name], lw=1.6,
                            zorder=4)
                low, high = mean_ci(data, seed=seed + position)
                axis.vlines(centre + width / 2, low, high, color=colours[name], lw=1.0, zorder=4)
    axis.set_xticks(range(len(values)), list(values))
    axis.set_xlim(-0.6, len(values) - 0.4)


def stat_box(axis: Axes, text: str) -> None:
    """A short statistics note placed where it covers the fewest data points (a legend with only a
    title, so matplotlib's 'best' placement applies)."""
    box = axis.legend(handles=[], title=text, loc="best", alignment="left")
    box.get_title().set_fontsize(plt.rcParams["font.size"] - 1)


def reference_line(axis: Axes, value: float, *, horizontal: bool = True, label: str | None = None) -> None:
    """A thin dashed grey line marking chance or zero."""
    draw = axis.axhline if horizontal else axis.axvline
    draw(value, color=NEUTRAL, lw=0.7, ls="--", zorder=1, label=label)
