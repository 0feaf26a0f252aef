"""Every figure by name, and the overview page that puts one key panel of each enabled family together.

The families' ``figures`` modules draw; this module only loads their results, looks figures up
by name (``<family>_<stem>`` → ``brainrnn.<family>.figures.<stem>_figure``, ``family_<family>`` →
its ``family_figure``) and composes the overview from each family's ``overview_panel``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from brainrnn.cbrnn import figures as cbrnn_figures
from brainrnn.fmri import figures as fmri_figures
from brainrnn.gradreg import figures as gradreg_figures
from brainrnn.jedi import figures as jedi_figures
from brainrnn.lowrank import figures as lowrank_figures
from brainrnn.microns import figures as microns_figures
from brainrnn.plotting import DOUBLE_COLUMN_IN, SINGLE_COLUMN_IN, label_panels

FIGURE_MODULES = {"fmri": fmri_figures, "gradreg": gradreg_figures, "cbrnn": cbrnn_figures,
                  "microns": microns_figures, "lowrank": lowrank_figures, "jedi": jedi_figures}
"""Every family with figures, in the overview's order."""
FAMILIES = tuple(FIGURE_MODULES)
OVERVIEW_TITLES = {"fmri": "fMRI: timescale against gradient extremity",
                   "gradreg": "Gradient-regularised RNNs: wiring against geometry",
                   "cbrnn": "Cortico-cerebellar RNNs: curriculum progress",
                   "microns": "MICrONS-constrained RNNs: ours vs the paper",
                   "lowrank": "Low-rank RNNs: adaptation after a reversal",
                   "jedi": "JEDI: held-out R² per context against baselines"}


def figures_module(family: str) -> ModuleType:
    """``brainrnn.<family>.figures``; an unknown family is refused by name."""
    if family not in FIGURE_MODULES:
        raise ValueError(f"unknown model family '{family}' (known: {', '.join(FAMILIES)})")
    return FIGURE_MODULES[family]


def load_families(inputs: Mapping[str, Any], params: Mapping[str, Mapping[str, Any]],
                  families: Sequence[str]) -> dict[str, Any]:
    """Each family's results from inputs named '<family>__<table>' and its loader parameters."""
    results = {}
    for family in families:
        tables = {name.split("__", 1)[1]: value for name, value in inputs.items() if name.startswith(f"{family}__")}
        results[family] = figures_module(family).load(**tables, **params[family])
    return results


def overview_figure(results: Mapping[str, Any]) -> Figure:
    """One page with the key result of every family given, in the order of :data:`FAMILIES`."""
    families = [family for family in FAMILIES if family in results]
    if not families:
        raise ValueError("the overview needs at least one family's results")
    columns = 1 if len(families) == 1 else 2
    rows = -(-len(families) // columns)
    width = DOUBLE_COLUMN_IN if columns == 2 else SINGLE_COLUMN_IN
    figure, axes = plt.subplots(rows, columns, figsize=(width, 2.7 * rows), squeeze=False)
    for axis, family in zip(axes.flat, families, strict=False):  # more cells than families
        figures_module(family).overview_panel(axis, results[family])
    for axis in list(axes.flat)[len(families):]:
        axis.set_visible(False)
    label_panels(list(axes.flat)[:len(families)], [OVERVIEW_TITLES[family] for family in families])
    return figure


def figure_function(name: str) -> tuple[str | None, Callable[[Any], Figure]]:
    """The family and drawing function of a figure name (family None: the overview of every family given)."""
    if name == "overview":
        return None, overview_figure
    if name.startswith("family_"):
        family = name.removeprefix("family_")
        return family, figures_module(family).family_figure
    family, _, stem = name.partition("_")
    function = getattr(figures_module(family), f"{stem}_figure", None)
    if function is None:
        raise ValueError(f"unknown figure '{name}'")
    return family, function


def draw_figure(name: str, inputs: Mapping[str, Any], params: Mapping[str, Mapping[str, Any]],
                families: Sequence[str]) -> Figure:
    """Load the families' results and draw the named figure."""
    family, function = figure_function(name)
    results = load_families(inputs, params, families)
    return function(results) if family is None else function(results[family])
