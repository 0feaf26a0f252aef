"""Spatial-autocorrelation-preserving null maps (variogram matching, Burt et al. 2020, NeuroImage 220).

Neighbouring regions have similar values, so two unrelated brain maps correlate more often than
the parametric p-value of a correlation assumes. A surrogate map keeps the spatial autocorrelation
of the original (its variogram: half the mean squared difference of values as a function of the
distance between regions) but nothing else: the values are randomly permuted, smoothed with an
exponential kernel over the k nearest regions, then scaled and topped up with white noise so that
the surrogate's variogram matches the original's; of several neighbourhood sizes the best-matching
one is kept. Optionally (``keep_values``) the values are then replaced by the original values in
the same rank order; that keeps the value distribution but rescales the variogram (on a smooth
field to about 0.6 of the original at mid distances), so it is off by default, as in brainsmash.
Rank correlations, the ones we test, do not depend on it.

This is the algorithm of the ``brainsmash`` package's ``Base`` generator, written here in a vectorised
form (blocks of surrogates as matrix products) because the package generates them one at a time
(brainsmash 0.11.0 took 3.6 s for 200 surrogates of an 80-region map on our machine); the
per-subject nulls of every map correlation then cost seconds, and calibration can be tested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from scipy.spatial.distance import cdist

DELTAS = tuple(np.round(np.linspace(0.1, 0.9, 9), 2))
"""Neighbourhood sizes tried, as fractions of the regions (brainsmash's defaults)."""
DISTANCE_PERCENTILE = 25.0
"""The variogram is fitted on pairs closer than this percentile of all distances (brainsmash's ``pv``)."""
N_BINS = 25
"""Distances at which the smoothed variogram is evaluated (brainsmash's ``nh``)."""
CHUNK = 250
"""Surrogates generated per block (memory: block × pairs)."""


def distance_matrix(centroids: ArrayLike) -> np.ndarray:
    """Euclidean distances between region centroids (regions × 3, mm)."""
    return cdist(np.asarray(centroids, dtype=float), np.asarray(centroids, dtype=float))


@dataclass(frozen=True)
class VariogramNull:
    """Surrogate generator for maps on one set of regions (the distance-dependent parts precomputed)."""

    pair_rows: np.ndarray
    pair_columns: np.ndarray
    bin_weights: np.ndarray
    smoothers: tuple[np.ndarray, ...]

    @classmethod
    def from_distances(cls, distances: ArrayLike) -> VariogramNull:
        """Prepare the variogram bins and one smoothing matrix per neighbourhood size."""
        distances = np.asarray(distances, dtype=float)
        n_regions = distances.shape[0]
        if n_regions < 10:
            raise ValueError(f"{n_regions} regions are too few for variogram-matched surrogates")
        rows, columns = np.triu_indices(n_regions, k=1)
        pair_distances = distances[rows, columns]
        keep = pair_distances <= np.percentile(pair_distances, DISTANCE_PERCENTILE)
        rows, columns, pair_distances = rows[keep], columns[keep], pair_distances[keep]
        centres = np.linspace(pair_distances.min(), pair_distances.max(), N_BINS)
        bandwidth = 3.0 * (centres[1] - centres[0])
        weights = np.exp(-0.5 * (2.68 * (pair_distances[:, None] - centres[None, :]) / bandwidth) ** 2)
        weights /= weights.sum(axis=0, keepdims=True)
        smoothers = []
        order = np.argsort(distances, axis=1)
        for delta in DELTAS:
            neighbours = max(2, int(round(delta * n_regions)))
            nearest = order[:, :neighbours]
            reach = distances[np.arange(n_regions), nearest[:, -1]]
            kernel = np.zeros_like(distances)
            local = np.take_along_axis(distances, nearest, axis=1)
            np.put_along_axis(kernel, nearest, np.exp(-local / np.maximum(reach, 1e-12)[:, None]), axis=1)
            smoothers.append(kernel / kernel.sum(axis=1, keepdims=True))
        return cls(rows, columns, weights, tuple(smoothers))

    def variogram(self, maps: ArrayLike) -> np.ndarray:
        """Smoothed variogram (maps × bins) of one map or a stack of maps (maps × regions)."""
        maps = np.atleast_2d(np.asarray(maps, dtype=float))
        half_squares = 0.5 * (maps[:, self.pair_rows] - maps[:, self.pair_columns]) ** 2
        return half_squares @ self.bin_weights

    def surrogates(self, values: ArrayLike, count: int, rng: np.random.Generator, *,
                   keep_values: bool = False) -> np.ndarray:
        """``count`` surrogate maps (count × regions) with the variogram of ``values`` (and, with
        ``keep_values``, exactly its values in a new arrangement)."""
        values = np.asarray(values, dtype=float)
        target = self.variogram(values)[0]
        surrogates = np.concatenate([self._block(values, target, min(CHUNK, count - start), rng)
                                     for start in range(0, count, CHUNK)], axis=0)
        if keep_values:
            surrogates = np.sort(values)[np.argsort(np.argsort(surrogates, axis=1), axis=1)]
        return surrogates

    def _block(self, values: np.ndarray, target: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
        permuted = values[np.argsort(rng.random((count, values.size)), axis=1)]
        best = np.full(count, np.inf)
        chosen = np.empty((count, values.size))
        for smoother in self.smoothers:
            smoothed = permuted @ smoother.T
            variograms = self.variogram(smoothed)
            centred = variograms - variograms.mean(axis=1, keepdims=True)
            slope = centred @ (target - target.mean()) / np.maximum((centred**2).sum(axis=1), 1e-300)
            intercept = target.mean() - slope * variograms.mean(axis=1)
            residual = target[None, :] - intercept[:, None] - slope[:, None] * variograms
            error = (residual**2).sum(axis=1)
            candidate = (np.sqrt(np.abs(slope))[:, None] * smoothed
                         + np.sqrt(np.abs(intercept))[:, None] * rng.standard_normal(smoothed.shape))
            better = error < best
            chosen[better], best[better] = candidate[better], error[better]
        return chosen


def surrogate_p(observed: float, null: ArrayLike) -> float:
    """Two-sided p of a statistic against its null distribution: (k + 1) / (n + 1), never 0."""
    null = np.asarray(null, dtype=float)
    return float((np.sum(np.abs(null) >= abs(observed) - 1e-12) + 1) / (null.size + 1))


def spearman_rows(maps: np.ndarray, other: ArrayLike) -> np.ndarray:
    """Spearman ρ of each row of ``maps`` with ``other``."""
    ranks = stats.rankdata(maps, axis=1)
    ranks -= ranks.mean(axis=1, keepdims=True)
    reference = stats.rankdata(np.asarray(other, dtype=float))
    reference -= reference.mean()
    return ranks @ reference / np.sqrt((ranks**2).sum(axis=1) * (reference**2).sum())
