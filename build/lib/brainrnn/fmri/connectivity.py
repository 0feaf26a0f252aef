"""Functional connectivity: Pearson correlation between regional series, and the group mean."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FISHER_CLIP = 1.0 - 1e-7
"""Correlations are clipped below ±1 before arctanh so the diagonal stays finite."""


def functional_connectivity(series: np.ndarray) -> np.ndarray:
    """Pearson FC of a volumes × regions array; unit diagonal, exactly symmetric."""
    fc = np.corrcoef(np.asarray(series, dtype=float), rowvar=False)
    fc = (fc + fc.T) / 2.0
    np.fill_diagonal(fc, 1.0)
    return fc


def group_mean_fc(matrices: Sequence[np.ndarray], *, fisher_z: bool = True) -> np.ndarray:
    """Average FC across subjects, in Fisher-z space by default (the unbiased way to average r)."""
    stack = np.stack([np.asarray(matrix, dtype=float) for matrix in matrices])
    if stack.ndim != 3 or stack.shape[1] != stack.shape[2]:
        raise ValueError(f"expected square FC matrices of one size, got shapes {[m.shape for m in matrices]}")
    if fisher_z:
        mean = np.tanh(np.arctanh(np.clip(stack, -FISHER_CLIP, FISHER_CLIP)).mean(axis=0))
    else:
        mean = stack.mean(axis=0)
    np.fill_diagonal(mean, 1.0)
    return mean
