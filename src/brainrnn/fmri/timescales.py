"""Regional timescales of an Ornstein-Uhlenbeck (OU) process fitted to BOLD series.

A stationary OU process sampled every TR seconds is an AR(1) process with lag-k autocorrelation
exp(−k·TR/τ). Three estimators, all reported (``timescales.method`` picks the one in ``tau_s``):

* ``ar1``: τ = −TR / ln ρ₁ from the lag-1 autocorrelation ρ₁;
* ``acf_exp``: least-squares fit of exp(−lag/τ) to the autocorrelation function up to its first
  zero crossing or ``max_lag_s``;
* ``ou_noise``: OU process plus white measurement noise, whose ACF is A·exp(−lag/τ) at lags ≥ 1
  (A = the OU share of the variance, 1 at lag 0): least-squares fit of A and τ on lags 1 up to the
  first zero crossing or ``max_lag_s``. White noise lowers every ρ_k by the same factor A, so the
  other two estimators, whose amplitude is fixed at 1, shorten τ; this one does not.

The sample autocorrelation is biased low on short series (E[ρ̂₁] ≈ ρ₁ − (1 + 3ρ₁)/n, Kendall
1954), which shortens τ. ``bias_correction='kendall'`` inverts that first-order bias. It
removes most of it for a few hundred volumes; abcTau (Zeraati et al. 2022) removes the rest by
simulation and is not reproduced here.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, stats

from brainrnn.errors import InputError
from brainrnn.fmri.nulls import VariogramNull, spearman_rows, surrogate_p

METHODS = ("ar1", "acf_exp", "ou_noise")
"""Timescale estimators; each gets a column ``tau_<method>_s``."""
MIN_FIT_LAGS = 2
"""Fewest positive ACF lags an exponential fit needs; regions with fewer have no τ (NaN)."""


def simulate_ou(tau_s: float, tr_s: float, n_volumes: int, n_regions: int = 1,
                rng: np.random.Generator | None = None) -> np.ndarray:
    """Exact samples (volumes × regions) of a unit-variance stationary OU process."""
    rng = rng if rng is not None else np.random.default_rng(0)
    rho = np.exp(-tr_s / tau_s)
    noise = rng.standard_normal((n_volumes, n_regions)) * np.sqrt(1.0 - rho**2)
    series = np.empty((n_volumes, n_regions))
    series[0] = rng.standard_normal(n_regions)
    for step in range(1, n_volumes):
        series[step] = rho * series[step - 1] + noise[step]
    return series


def autocorrelation(series: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample ACF (lags 0..max_lag) per column, with the standard biased normalisation."""
    centred = np.asarray(series, dtype=float) - np.mean(series, axis=0)
    n_volumes = centred.shape[0]
    size = 1 << int(np.ceil(np.log2(2 * n_volumes - 1)))
    spectrum = np.fft.rfft(centred, n=size, axis=0)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=0)[: max_lag + 1]
    return acov / acov[0]


def ar1_timescale(series: np.ndarray, tr_s: float, *, bias_correction: str = "kendall") -> np.ndarray:
    """τ (seconds) per column from the lag-1 autocorrelation; NaN where ρ₁ ≤ 0 (τ unresolvable)."""
    rho = autocorrelation(series, 1)[1]
    if bias_correction == "kendall":
        n_volumes = np.asarray(series).shape[0]
        rho = (n_volumes * rho + 1.0) / (n_volumes - 3.0)
    elif bias_correction != "none":
        raise ValueError(f"unknown bias correction '{bias_correction}'")
    rho = np.minimum(rho, 1.0 - 1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = np.where(rho > 0, -tr_s / np.log(np.where(rho > 0, rho, 0.5)), np.nan)
    return tau


def acf_exp_timescale(series: np.ndarray, tr_s: float, *, max_lag_s: float = 20.0,
                      bias_correction: str = "kendall") -> np.ndarray:
    """τ (seconds) per column from an exponential fit of the ACF up to its first zero crossing."""
    series = np.asarray(series, dtype=float)
    max_lag = max(2, min(int(round(max_lag_s / tr_s)), series.shape[0] // 4))
    acf = autocorrelation(series, max_lag)
    initial = ar1_timescale(series, tr_s, bias_correction=bias_correction)
    taus = np.full(series.shape[1], np.nan)
    for column in range(series.shape[1]):
        values = acf[:, column]
        negative = np.flatnonzero(values <= 0)
        stop = int(negative[0]) if negative.size else max_lag + 1
        if stop < 2:
            continue
        lags_s = np.arange(stop) * tr_s
        guess = initial[column] if np.isfinite(initial[column]) else tr_s
        fitted, _ = optimize.curve_fit(lambda lag, tau: np.exp(-lag / tau), lags_s, values[:stop],
                                       p0=[guess], bounds=(1e-6, np.inf))
        taus[column] = fitted[0]
    return taus


def simulate_ou_with_noise(tau_s: float, tr_s: float, n_volumes: int, n_regions: int, ou_share: float,
                           rng: np.random.Generator) -> np.ndarray:
    """Unit-variance OU process (share ``ou_share`` of the variance) plus white measurement noise."""
    ou = simulate_ou(tau_s, tr_s, n_volumes, n_regions, rng)
    return np.sqrt(ou_share) * ou + np.sqrt(1.0 - ou_share) * rng.standard_normal((n_volumes, n_regions))


def ou_noise_timescale(series: np.ndarray, tr_s: float, *, max_lag_s: float = 20.0) -> tuple[np.ndarray, np.ndarray]:
    """τ (seconds) and amplitude A per column from a fit of A·exp(−lag/τ) to the ACF at lags ≥ 1.

    The fit uses lags 1 up to the last lag before the first non-positive ACF value (at most
    ``max_lag_s``); with fewer than ``MIN_FIT_LAGS`` such lags τ and A are NaN. A is bounded to (0, 1].
    """
    series = np.asarray(series, dtype=float)
    max_lag = max(MIN_FIT_LAGS + 1, min(int(round(max_lag_s / tr_s)), series.shape[0] // 4))
    acf = autocorrelation(series, max_lag)
    taus, amplitudes = np.full(series.shape[1], np.nan), np.full(series.shape[1], np.nan)
    for column in range(series.shape[1]):
        values = acf[1:, column]
        negative = np.flatnonzero(values <= 0)
        stop = int(negative[0]) if negative.size else max_lag
        if stop < MIN_FIT_LAGS:
            continue
        lags_s = np.arange(1, stop + 1) * tr_s
        slope, intercept = np.polyfit(lags_s, np.log(values[:stop]), 1)
        guess = [min(max(float(np.exp(intercept)), 1e-3), 1.0), -1.0 / slope if slope < 0 else float(lags_s[-1])]
        with warnings.catch_warnings():  # A at its bound of 1 (no white noise) leaves no covariance estimate
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            fitted, _ = optimize.curve_fit(lambda lag, amplitude, tau: amplitude * np.exp(-lag / tau), lags_s,
                                           values[:stop], p0=guess, bounds=([1e-6, 1e-6], [1.0, np.inf]))
        amplitudes[column], taus[column] = fitted
    return taus, amplitudes


def estimate_timescales(series: pd.DataFrame, tr_s: float, *, method: str, bias_correction: str,
                        max_lag_s: float, min_volumes: int, subject: str = "", file: str = "") -> pd.DataFrame:
    """Per-region τ (seconds) by every estimator, the chosen one as ``tau_s``, the OU amplitude and ρ₁.

    Columns: ``tau_s`` (= ``tau_<method>_s``), ``tau_ar1_s``, ``tau_acf_exp_s``, ``tau_ou_noise_s``,
    ``ou_share`` (the fitted A of ``ou_noise``) and ``rho1``; NaN where an estimator resolves no τ.
    """
    if not np.isfinite(tr_s) or tr_s <= 0:
        raise InputError(f"TR must be positive, got {tr_s}.", file=file, subject=subject, field="tr",
                         fix="give the repetition time in seconds.")
    if series.shape[0] < min_volumes:
        raise InputError(f"{series.shape[0]} volumes; the timescale estimators need at least {min_volumes}.",
                         file=file, subject=subject, field="volumes",
                         fix="use a longer run or lower timescales.min_volumes (the estimate gets biased).")
    if method not in METHODS:
        raise InputError(f"unknown timescale method '{method}'.", field="timescales.method",
                         fix=f"use one of {', '.join(METHODS)}.")
    values = series.to_numpy(dtype=float)
    ou_tau, ou_share = ou_noise_timescale(values, tr_s, max_lag_s=max_lag_s)
    taus = {"ar1": ar1_timescale(values, tr_s, bias_correction=bias_correction),
            "acf_exp": acf_exp_timescale(values, tr_s, max_lag_s=max_lag_s, bias_correction=bias_correction),
            "ou_noise": ou_tau}
    return pd.DataFrame({"tau_s": taus[method], **{f"tau_{name}_s": taus[name] for name in METHODS},
                         "ou_share": ou_share, "rho1": autocorrelation(values, 1)[1]},
                        index=pd.Index([str(name) for name in series.columns], name="region"))


def timescale_gradient_relation(tau: ArrayLike, g1: ArrayLike, *, distances: np.ndarray | None = None,
                                n_surrogates: int = 0, rng: np.random.Generator | None = None) -> dict[str, float]:
    """Spearman ρ of τ with gradient extremity |G1 − median G1| and with G1 itself, with two p-values each.

    ``p_parametric_*`` is scipy's (it assumes independent regions); ``p_surrogate_*`` compares ρ with
    the ρ of ``n_surrogates`` variogram-matched surrogates of the τ map (region ``distances`` given),
    which keep its spatial autocorrelation (NaN without distances). Regions without τ are left out.
    """
    tau, g1 = np.asarray(tau, dtype=float), np.asarray(g1, dtype=float)
    if tau.shape != g1.shape:
        raise ValueError(f"{tau.size} timescales for {g1.size} gradient values")
    usable = np.isfinite(tau) & np.isfinite(g1)
    extremity = np.abs(g1 - np.median(g1[usable]))
    result: dict[str, float] = {"n_regions": int(usable.sum()), "n_unresolved": int((~usable).sum()),
                                "n_surrogates": n_surrogates if distances is not None else 0}
    surrogates = None
    if distances is not None and n_surrogates > 0:
        null = VariogramNull.from_distances(np.asarray(distances, dtype=float)[np.ix_(usable, usable)])
        surrogates = null.surrogates(tau[usable], n_surrogates, rng if rng is not None else np.random.default_rng(0))
    for name, other in (("extremity", extremity), ("g1", g1)):
        test = stats.spearmanr(tau[usable], other[usable])
        result[f"rho_tau_{name}"] = float(test.statistic)
        result[f"p_parametric_tau_{name}"] = float(test.pvalue)
        result[f"p_surrogate_tau_{name}"] = (
            surrogate_p(float(test.statistic), spearman_rows(surrogates, other[usable]))
            if surrogates is not None else float("nan"))
    return result
