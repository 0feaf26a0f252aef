"""Ornstein-Uhlenbeck timescales: known τ recovered, the short-series bias, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from brainrnn.errors import InputError
from brainrnn.fmri import timescales as tsc

TR = 0.72


@pytest.mark.parametrize("method", ["ar1", "acf_exp"])
@pytest.mark.parametrize("tau", [2.0, 6.0])
def test_known_timescale_is_fitted_within_ten_percent_on_a_long_series(method, tau):
    series = pd.DataFrame(tsc.simulate_ou(tau, TR, 40_000, 3, np.random.default_rng(11)))
    fitted = tsc.estimate_timescales(series, TR, method=method, bias_correction="kendall", max_lag_s=30,
                                     min_volumes=50)["tau_s"]
    assert np.all(np.abs(fitted / tau - 1) < 0.10), fitted.tolist()


def test_short_series_bias_is_low_and_kendall_correction_reduces_it():
    """Documented bias: with 100 volumes the plain AR(1) τ is ~10% low; the correction shrinks the error."""
    tau = 3.0
    series = tsc.simulate_ou(tau, TR, 100, 500, np.random.default_rng(5))
    plain = np.nanmean(tsc.ar1_timescale(series, TR, bias_correction="none")) / tau - 1
    corrected = np.nanmean(tsc.ar1_timescale(series, TR, bias_correction="kendall")) / tau - 1
    assert plain < -0.05
    assert abs(corrected) < abs(plain)


def test_white_noise_has_an_unresolvable_timescale_when_rho_is_negative():
    series = np.array([[1.0], [-1.0]] * 100)
    assert np.isnan(tsc.ar1_timescale(series, TR, bias_correction="none")[0])


def test_autocorrelation_matches_the_direct_estimate():
    x = np.random.default_rng(2).standard_normal((500, 1))
    centred = x[:, 0] - x.mean()
    direct = np.sum(centred[3:] * centred[:-3]) / np.sum(centred**2)
    assert np.isclose(tsc.autocorrelation(x, 5)[3, 0], direct)


def test_too_few_volumes_and_bad_tr_are_refused():
    series = pd.DataFrame(np.random.default_rng(0).standard_normal((20, 2)))
    with pytest.raises(InputError, match="at least 50"):
        tsc.estimate_timescales(series, TR, method="ar1", bias_correction="none", max_lag_s=10, min_volumes=50,
                                subject="01", file="ts.tsv")
    with pytest.raises(InputError, match="TR must be positive"):
        tsc.estimate_timescales(series, 0.0, method="ar1", bias_correction="none", max_lag_s=10, min_volumes=5)


def test_timescales_longer_at_gradient_extremes_are_detected():
    g1 = np.linspace(-1, 1, 41)
    tau = 1.0 + 4.0 * np.abs(g1) + 0.1 * np.random.default_rng(0).standard_normal(g1.size)
    relation = tsc.timescale_gradient_relation(tau, g1)
    assert relation["rho_tau_extremity"] > 0.9 and relation["p_tau_extremity"] < 1e-6
    assert abs(relation["rho_tau_g1"]) < 0.3
    assert relation["n_regions"] == 41 and relation["n_unresolved"] == 0
