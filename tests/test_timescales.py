"""Ornstein-Uhlenbeck timescales: known τ recovered, the short-series bias, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from brainrnn.errors import InputError
from brainrnn.fmri import nulls
from brainrnn.fmri import timescales as tsc

TR = 0.72


@pytest.mark.parametrize("method", tsc.METHODS)
@pytest.mark.parametrize("tau", [2.0, 6.0])
def test_known_timescale_is_fitted_within_ten_percent_on_a_long_series(method, tau):
    series = pd.DataFrame(tsc.simulate_ou(tau, TR, 40_000, 3, np.random.default_rng(11)))
    table = tsc.estimate_timescales(series, TR, method=method, bias_correction="kendall", max_lag_s=30,
                                    min_volumes=50)
    assert np.all(np.abs(table["tau_s"] / tau - 1) < 0.10), table["tau_s"].tolist()
    assert table["tau_s"].equals(table[f"tau_{method}_s"])
    assert list(table.columns) == ["tau_s", "tau_ar1_s", "tau_acf_exp_s", "tau_ou_noise_s", "ou_share", "rho1"]


def test_ou_plus_noise_estimator_recovers_tau_where_lag_one_is_biased():
    """OU (τ = 3 s, 60% of the variance) plus white measurement noise, 1,200 volumes at TR 0.72 s, 200 regions:
    the noise lowers every ρ_k by the factor 0.6, so ar1 reads τ ≈ 0.96 s (median error −68%) and acf_exp
    ≈ −44%; ou_noise fits the amplitude and keeps the median error within ±10% (measured +2%), with A ≈ 0.6."""
    series = pd.DataFrame(tsc.simulate_ou_with_noise(3.0, TR, 1200, 200, 0.6, np.random.default_rng(1)))
    table = tsc.estimate_timescales(series, TR, method="ou_noise", bias_correction="kendall", max_lag_s=20,
                                    min_volumes=50)
    error = table[["tau_ar1_s", "tau_acf_exp_s", "tau_ou_noise_s"]].median() / 3.0 - 1
    assert error["tau_ar1_s"] < -0.5 and error["tau_acf_exp_s"] < -0.3
    assert abs(error["tau_ou_noise_s"]) < 0.10
    assert abs(table["ou_share"].median() - 0.6) < 0.05


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


def test_timescales_longer_at_gradient_extremes_are_detected_against_spatial_surrogates():
    rng = np.random.default_rng(0)
    g1 = np.linspace(-1, 1, 41)
    tau = 1.0 + 4.0 * np.abs(g1) + 0.1 * rng.standard_normal(g1.size)
    tau[3] = np.nan  # an unresolved region is left out and counted
    positions = np.column_stack([g1 * 50, rng.uniform(0, 20, (41, 2))])
    relation = tsc.timescale_gradient_relation(tau, g1, distances=nulls.distance_matrix(positions),
                                               n_surrogates=199, rng=rng)
    assert relation["rho_tau_extremity"] > 0.9 and relation["p_parametric_tau_extremity"] < 1e-6
    assert relation["p_surrogate_tau_extremity"] < 0.05
    assert abs(relation["rho_tau_g1"]) < 0.3
    assert relation["n_regions"] == 40 and relation["n_unresolved"] == 1 and relation["n_surrogates"] == 199
    assert np.isnan(tsc.timescale_gradient_relation(tau, g1)["p_surrogate_tau_g1"])
