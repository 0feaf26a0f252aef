"""Measures of a trained gradient-regularised network's wiring."""

from __future__ import annotations

import numpy as np
from scipy import stats


def alignment(weight: np.ndarray, distances: np.ndarray) -> float:
    """How much the learned wiring follows the geometry: −Spearman ρ(|W_ij|, d_ij) off the diagonal.

    Positive when strong connections are short (aligned), about 0 when unrelated.
    """
    off_diagonal = ~np.eye(len(distances), dtype=bool)
    return float(-stats.spearmanr(np.abs(weight[off_diagonal]), distances[off_diagonal]).statistic)
