"""The bridge to the fMRI stages: a linear dynamical system per subject, measured like the networks' weights.

x_(t+1) = A x_t + η is fitted to a subject's parcellated time series by ridge regression,
A = Y Xᵀ (X Xᵀ + λ I)⁻¹ with X = x_(0…T−2), Y = x_(1…T−1) (regions × volumes). λ is chosen from a
grid by one-step prediction error on the last ``validation_fraction`` of the volumes (fitted on
the rest), then A is refitted on every volume with that λ. A's singular values give the same
measures as a network's recurrent weights: effective rank under both definitions and the fitted
decay γ̂ (:mod:`brainrnn.spectra`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from brainrnn.spectra import RANK_DEFINITIONS, decay_rate, effective_rank


def ridge_dynamics(series: np.ndarray, ridge: float) -> np.ndarray:
    """A (regions × regions) of x_(t+1) = A x_t by ridge regression on volumes × regions ``series``."""
    before, after = series[:-1].T, series[1:].T
    gram = before @ before.T + ridge * np.eye(before.shape[0])
    return np.linalg.solve(gram, before @ after.T).T


def fit_lds(series: np.ndarray, ridges: Sequence[float], validation_fraction: float) -> tuple[np.ndarray, float, float]:
    """A fitted on every volume with the ridge λ that best predicts the held-out last volumes one step ahead;
    returns A, λ and the held-out R² of the one-step prediction at that λ."""
    cut = int(round(len(series) * (1 - validation_fraction)))
    if cut < 3 or len(series) - cut < 2:
        raise ValueError(f"{len(series)} volumes are too few to hold out {validation_fraction:.0%} for choosing λ")
    train, held_out = series[:cut], series[cut - 1:]
    target = held_out[1:]
    errors = [float(((held_out[:-1] @ ridge_dynamics(train, ridge).T - target) ** 2).sum()) for ridge in ridges]
    best = int(np.argmin(errors))
    explained = 1.0 - errors[best] / float(((target - target.mean(axis=0)) ** 2).sum())
    return ridge_dynamics(series, ridges[best]), float(ridges[best]), explained


def lds_measures(dynamics: np.ndarray, *, decay_values: int) -> dict[str, float]:
    """Effective rank (both definitions), fitted decay and spectral radius of a dynamics matrix."""
    singular = np.linalg.svd(dynamics, compute_uv=False)
    return {**{f"effective_rank_{definition}": effective_rank(singular, definition) for definition in RANK_DEFINITIONS},
            "decay_gamma": decay_rate(singular, max_values=decay_values),
            "spectral_radius": float(np.abs(np.linalg.eigvals(dynamics)).max()),
            "largest_singular_value": float(singular[0])}
