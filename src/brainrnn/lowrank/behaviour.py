"""Behavioural signatures of a player (agent, network or animal) from its choices (no torch).

* Two-stage stay probabilities by the previous trial's transition (common / rare) × outcome
  (rewarded / unrewarded), and the one-trial-back logistic regression
  logit P(stay) = b0 + b_r R + b_t T + b_rt R·T with R, T = ±1 (rewarded, common): the model-free
  index is the reward main effect b_r, the model-based index the reward × transition interaction
  b_rt (Daw et al. 2011; Miller et al. 2017). A model-based player repeats a rewarded action after
  a common transition and switches after a rare one; a model-free player repeats rewarded actions
  whatever the transition.
* Reversal adaptation: P(choosing the new best arm) at each lag from a reversal, averaged over the
  reversals followed by at least ``window`` trials of the same block; trials to adapt = the first
  lag at which it reaches 0.5 (linear interpolation), τ = the time constant of an exponential fit
  p(k) = p∞ − (p∞ − p0) e^(−k/τ). Both are NaN for a player that did not prefer the old arm before
  the reversal (mean P(new best) over the lags before it ≥ 0.5): it has no switch to make.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from brainrnn.lowrank import STAY_CONDITIONS

RIDGE = 1e-3
"""Ridge on the logistic-regression coefficients: keeps them finite when a player always stays."""


def stay_probabilities(actions: np.ndarray, options: np.ndarray, rewards: np.ndarray,
                       valid: np.ndarray) -> dict[str, float]:
    """P(repeat the previous action) after each transition × outcome (sessions × trials arrays; the common
    state of action a is state a)."""
    stay, common, rewarded, pairs = _two_stage_pairs(actions, options, rewards, valid)
    result = {}
    for name in STAY_CONDITIONS:
        wanted = (common == name.startswith("common")) & (rewarded == name.endswith("_rewarded")) & pairs
        result[name] = float(stay[wanted].mean()) if wanted.any() else float("nan")
    return result


def two_stage_indices(actions: np.ndarray, options: np.ndarray, rewards: np.ndarray,
                      valid: np.ndarray) -> dict[str, float]:
    """Model-free (reward) and model-based (reward × transition) coefficients of the stay regression."""
    stay, common, rewarded, pairs = _two_stage_pairs(actions, options, rewards, valid)
    reward_code = np.where(rewarded[pairs], 1.0, -1.0)
    transition_code = np.where(common[pairs], 1.0, -1.0)
    design = np.stack([np.ones_like(reward_code), reward_code, transition_code, reward_code * transition_code], axis=1)
    coefficients = logistic_regression(design, stay[pairs].astype(float))
    return {"mf_index": float(coefficients[1]), "transition_effect": float(coefficients[2]),
            "mb_index": float(coefficients[3])}


def _two_stage_pairs(actions: np.ndarray, options: np.ndarray, rewards: np.ndarray,
                     valid: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per trial t ≥ 1: stayed, previous transition common, previous trial rewarded, and whether both trials exist."""
    stay = actions[:, 1:] == actions[:, :-1]
    common = options[:, :-1] == actions[:, :-1]
    rewarded = rewards[:, :-1] > 0.5
    return stay, common, rewarded, valid[:, 1:] & valid[:, :-1]


def logistic_regression(design: np.ndarray, outcome: np.ndarray) -> np.ndarray:
    """Maximum-likelihood coefficients of logit P(outcome) = design @ b, with a small ridge (exact gradient)."""
    def objective(coefficients: np.ndarray) -> tuple[float, np.ndarray]:
        linear = design @ coefficients
        loss = float(np.sum(np.logaddexp(0.0, linear) - outcome * linear) + 0.5 * RIDGE * coefficients @ coefficients)
        gradient = design.T @ (1.0 / (1.0 + np.exp(-linear)) - outcome) + RIDGE * coefficients
        return loss, gradient

    return optimize.minimize(objective, np.zeros(design.shape[1]), jac=True, method="L-BFGS-B").x


def adaptation_curve(actions: np.ndarray, best: np.ndarray, reversals: np.ndarray, valid: np.ndarray, *,
                     before: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Lags −before … window − 1 and P(choose the arm that is best after the reversal) at each lag.

    Only reversals with ``before`` trials of the previous block and ``window`` trials of the new one
    (no other reversal in between, all valid) count; NaN where none does.
    """
    lags = np.arange(-before, window)
    hits, count = np.zeros(len(lags)), 0
    for session, trial in zip(*np.nonzero(reversals), strict=True):
        first, last = trial - before, trial + window
        if first < 0 or last > actions.shape[1] or not valid[session, first:last].all():
            continue
        if reversals[session, first + 1:trial].any() or reversals[session, trial + 1:last].any():
            continue
        hits += actions[session, first:last] == best[session, trial]
        count += 1
    return lags, hits / count if count else np.full(len(lags), np.nan)


def preferred_old_arm(lags: np.ndarray, curve: np.ndarray) -> bool:
    """Whether the player chose the new best arm less than half the time before the reversal (else there is
    no switch to measure: a player at chance would "adapt" at lag 0)."""
    before = curve[lags < 0]
    return bool(before.size and np.isfinite(before).all() and before.mean() < 0.5)


def trials_to_adapt(lags: np.ndarray, curve: np.ndarray, level: float = 0.5) -> float:
    """First lag ≥ 0 at which the curve reaches ``level`` (linearly interpolated between lags); NaN if never, or
    if the player did not prefer the old arm before the reversal."""
    if not preferred_old_arm(lags, curve):
        return float("nan")
    after = lags >= 0
    lags, curve = lags[after], curve[after]
    reached = np.flatnonzero(curve >= level)
    if not reached.size:
        return float("nan")
    index = reached[0]
    if index == 0:
        return float(lags[0])
    low, high = curve[index - 1], curve[index]
    return float(lags[index - 1] + (level - low) / (high - low))


def adaptation_time_constant(lags: np.ndarray, curve: np.ndarray) -> float:
    """τ (trials) of p(k) = p∞ − (p∞ − p0) e^(−k/τ) fitted to the curve at lags ≥ 0; NaN if the fit fails or the
    player did not prefer the old arm before the reversal."""
    if not preferred_old_arm(lags, curve):
        return float("nan")
    after = (lags >= 0) & np.isfinite(curve)
    k, p = lags[after].astype(float), curve[after]
    if k.size < 3 or np.ptp(p) == 0:
        return float("nan")

    def model(lag: np.ndarray, final: float, start: float, tau: float) -> np.ndarray:
        return final - (final - start) * np.exp(-lag / tau)

    try:
        fitted, _ = optimize.curve_fit(model, k, p, p0=(p[-1], p[0], max(1.0, k[-1] / 4)),
                                       bounds=([0.0, 0.0, 1e-2], [1.0, 1.0, 1e3]), maxfev=5000)
    except (RuntimeError, ValueError):
        return float("nan")
    return float(fitted[2]) if math.isfinite(fitted[2]) else float("nan")
