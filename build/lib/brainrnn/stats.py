"""Small statistics used by the summaries."""

from __future__ import annotations

import numpy as np
from scipy import stats


def spearman_permutation(x: np.ndarray, y: np.ndarray, n_permutations: int,
                         rng: np.random.Generator) -> tuple[float, float]:
    """Spearman ρ and its two-sided permutation p-value ((k + 1) / (n + 1), never 0).

    Pairs with a NaN are dropped; fewer than three pairs or a constant variable give (NaN, NaN).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    usable = np.isfinite(x) & np.isfinite(y)
    x, y = x[usable], y[usable]
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    observed = float(stats.spearmanr(x, y).statistic)
    ranks_x, ranks_y = stats.rankdata(x), stats.rankdata(y)
    permuted = np.array([np.corrcoef(ranks_x, rng.permutation(ranks_y))[0, 1] for _ in range(n_permutations)])
    extreme = int((np.abs(permuted) >= abs(observed) - 1e-12).sum())
    return observed, (extreme + 1) / (n_permutations + 1)
