"""Regional timescales of an Ornstein-Uhlenbeck (OU) process fitted to BOLD series.

A stationary OU process sampled every TR seconds is an AR(1) process with lag-k autocorrelation
exp(−k·TR/τ). Two estimators:

* ``ar1``: τ = −TR / ln ρ₁ from the lag-1 autocorrelation ρ₁;
* ``acf_exp``: least-squares fit of exp(−lag/τ) to the autocorrelation function up to its first
  zero crossing or ``max_lag_s``.

The sample autocorrelation is biased low on short series (E[ρ̂₁] ≈ ρ₁ − (1 + 3ρ₁)/n, Kendall
1954), which shortens τ. ``bias_correction='kendall'`` inverts that first-order bias. It
removes most of it for a few hundred volumes; abcTau (Zeraati et al. 2022) removes the rest by
simulation and is not reproduced here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, stats

from brainrnn.errors import InputError

METHODS = ("ar1", "acf_exp")


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


def estimate_timescales(series: pd.DataFrame, tr_s: float, *, method: str, bias_correction: str,
                        max_lag_s: float, min_volumes: int, subject: str = "", file: str = "") -> pd.DataFrame:
    """Per-region τ (seconds) and lag-1 autocorrelation as a table indexed by region."""
    if not np.isfinite(tr_s) or tr_s <= 0:
        raise InputError(f"TR must be positive, got {tr_s}.", file=file, subject=subject, field="tr",
                         fix="give the repetition time in seconds.")
    if series.shape[0] < min_volumes:
        raise InputError(f"{series.shape[0]} volumes; the timescale estimators need at least {min_volumes}.",
                         file=file, subject=subject, field="volumes",
                         fix="use a longer run or lower timescales.min_volumes (the estimate gets biased).")
    values = series.to_numpy(dtype=float)
    if method == "ar1":
        tau = ar1_timescale(values, tr_s, bias_correction=bias_correction)
    elif method == "acf_exp":
        tau = acf_exp_timescale(values, tr_s, max_lag_s=max_lag_s, bias_correction=bias_correction)
    else:
        raise InputError(f"unknown timescale method '{method}'.", field="timescales.method",
                         fix=f"use one of {', '.join(METHODS)}.")
    return pd.DataFrame({"tau_s": tau, "rho1": autocorrelation(values, 1)[1]},
                        index=pd.Index([str(name) for name in series.columns], name="region"))


def timescale_gradient_relation(tau: ArrayLike, g1: ArrayLike) -> dict[str, float]:
    """Spearman ρ of τ with gradient extremity |G1 − median G1| and with G1 itself."""
    tau, g1 = np.asarray(tau, dtype=float), np.asarray(g1, dtype=float)
    if tau.shape != g1.shape:
        raise ValueError(f"{tau.size} timescales for {g1.size} gradient values")
    usable = np.isfinite(tau) & np.isfinite(g1)
    extremity = np.abs(g1 - np.median(g1[usable]))
    rho_extremity = stats.spearmanr(tau[usable], extremity[usable])
    rho_g1 = stats.spearmanr(tau[usable], g1[usable])
    return {"rho_tau_extremity": float(rho_extremity.statistic), "p_tau_extremity": float(rho_extremity.pvalue),
            "rho_tau_g1": float(rho_g1.statistic), "p_tau_g1": float(rho_g1.pvalue),
            "n_regions": int(usable.sum()), "n_unresolved": int((~usable).sum())}
