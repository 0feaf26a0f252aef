"""One figure style for every stage, and byte-stable PNG/PDF output.

PDFs embed TrueType fonts (type 42) and carry no creation date, so rerunning a figure rule on
the same data writes the same bytes.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from brainrnn.io import atomic_path  # noqa: E402

GROUP_COLOURS = ("#1b6ca8", "#d1495b", "#2e933c", "#edae49", "#6c4f9c", "#7a7a7a")


def apply_style(font_size: float = 8.0) -> None:
    """Set the shared rcParams (sizes in points, no top/right spines, embedded fonts)."""
    plt.rcParams.update({
        "font.size": font_size, "axes.titlesize": font_size + 1, "axes.labelsize": font_size,
        "xtick.labelsize": font_size - 1, "ytick.labelsize": font_size - 1, "legend.fontsize": font_size - 1,
        "axes.spines.top": False, "axes.spines.right": False, "pdf.fonttype": 42, "ps.fonttype": 42,
        "svg.hashsalt": "brainrnn", "figure.constrained_layout.use": True,
    })


def save_figure(figure: Figure, png: str | os.PathLike[str], pdf: str | os.PathLike[str], *, dpi: int) -> None:
    """Write the figure as PNG and PDF atomically, without timestamps, then close it."""
    with atomic_path(png) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    with atomic_path(pdf) as tmp:
        figure.savefig(tmp, format="pdf", metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                                    "Creator": None})
    plt.close(figure)


def group_colour(groups: list[str], group: str) -> str:
    """A stable colour per group (sorted order)."""
    return GROUP_COLOURS[sorted(set(groups)).index(group) % len(GROUP_COLOURS)]

