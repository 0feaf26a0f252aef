"""Dimensionality of a matrix's singular-value spectrum: effective rank and exponential decay (numpy only).

The low-rank developmental framework writes the effective rank as (Σλ)² / Σλ², which is
ill-defined for the complex eigenvalues of a non-symmetric W. We use singular values σ and
report both readings:

* ``plain``: (Σσ)² / Σσ², the participation ratio of the singular values;
* ``squared``: (Σσ²)² / Σσ⁴, the participation ratio of the eigenvalues σ² of WᵀW (what the
  framework's own code computes; the same formula applied to a covariance matrix's eigenvalues
  is the usual participation ratio of activity).

Both lie between 1 (one direction) and the number of non-zero values (a flat spectrum);
``squared`` is the smaller one for any spectrum that is not flat.
"""

from __future__ import annotations

import numpy as np

RANK_DEFINITIONS = ("plain", "squared")


def effective_rank(values: np.ndarray, definition: str) -> float:
    """Effective rank of non-negative ``values`` (singular values) under one definition; 0 for all zeros."""
    values = np.abs(np.asarray(values, dtype=float))
    if definition not in RANK_DEFINITIONS:
        raise ValueError(f"unknown effective-rank definition '{definition}' (use one of {', '.join(RANK_DEFINITIONS)})")
    if definition == "squared":
        values = values**2
    total = values.sum()
    return float(total**2 / (values**2).sum()) if total > 0 else 0.0


def participation_ratio(activity: np.ndarray) -> float:
    """(Σλ)² / Σλ² of the covariance eigenvalues of samples × units activity."""
    centred = activity - activity.mean(axis=0)
    eigenvalues = np.clip(np.linalg.eigvalsh(centred.T @ centred / max(len(centred) - 1, 1)), 0, None)
    return effective_rank(eigenvalues, "plain")


def decay_rate(singular_values: np.ndarray, *, max_values: int, tolerance: float = 1e-4) -> float:
    """Fitted γ̂ of σ_i ≈ c·e^(−γ i): least-squares slope of −log σ_i against i (i = 0 for the largest).

    Uses the leading ``max_values`` values that exceed ``tolerance`` × the largest (the non-zero part
    of a rank-deficient spectrum: float32 leaves its zero singular values near 1e-7 × the largest);
    NaN with fewer than two.
    """
    values = np.sort(np.abs(np.asarray(singular_values, dtype=float)))[::-1]
    if values.size == 0 or values[0] <= 0:
        return float("nan")
    used = values[values > tolerance * values[0]][:max_values]
    if used.size < 2:
        return float("nan")
    slope = np.polyfit(np.arange(used.size), np.log(used), 1)[0]
    return float(-slope)
