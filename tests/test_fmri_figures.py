"""fMRI figure panels: regions without τ are marked, not dropped; the group-statistics panel."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize

from brainrnn.fmri import figures


def _results(tau_nan: int) -> figures.FmriResults:
    regions = pd.Index([f"r{i}" for i in range(20)], name="region")
    g1 = np.linspace(-1, 1, 20)
    gradients = pd.DataFrame({"G1": g1, "G2": np.cos(3 * g1)}, index=regions)
    tau = pd.DataFrame({"tau_s": 1 + np.abs(g1)}, index=regions)
    tau.iloc[:tau_nan, 0] = np.nan
    spread = pd.DataFrame({"subject": ["01"], "group": ["control"], "g1_range": [2.0], "dispersion": [0.5],
                           "explained_G1": [0.3]})
    relation = pd.DataFrame({"subject": ["01"], "group": ["control"], "rho_tau_extremity": [0.9],
                             "p_surrogate_tau_extremity": [0.01]})
    statistics = pd.DataFrame({"status": ["skipped: one group (control), no group contrast to test"]})
    return figures.FmriResults(reference=gradients, gradients={"01": gradients}, timescales={"01": tau},
                               spread=spread, relation=relation, statistics=statistics)


def _marked(axis) -> list[str]:
    return [collection.get_label() for collection in axis.collections if collection.get_label().startswith("no τ")]


def test_regions_without_tau_are_drawn_as_crosses_in_every_tau_panel():
    results = _results(tau_nan=3)
    figure, (space, extremity, along) = plt.subplots(1, 3)
    figures.draw_gradient_space(space, results.gradients["01"], results.timescales["01"]["tau_s"], Normalize(1, 2))
    figures.draw_tau_extremity(extremity, results)
    figures.draw_tau_along_g1(along, results)
    assert _marked(space) == _marked(extremity) == _marked(along) == ["no τ (3)"]
    plt.close(figure)
    figure, axis = plt.subplots()
    figures.draw_tau_extremity(axis, _results(tau_nan=0))
    assert _marked(axis) == []
    plt.close(figure)


def test_group_statistics_panel_says_why_it_is_empty():
    figure = figures.group_statistics_figure(_results(tau_nan=0))
    texts = [text.get_text() for axis in figure.axes for text in axis.texts]
    assert any("one group (control)" in text for text in texts)
    plt.close(figure)
