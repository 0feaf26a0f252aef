"""Gradient-regularised RNNs: variant geometry, wiring cost, bad input, summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from brainrnn import gradreg as gradreg_family
from brainrnn.errors import InputError
from brainrnn.gradreg import PRIMARY_MEASURES
from brainrnn.gradreg import model as gr
from brainrnn.gradreg.analysis import alignment
from brainrnn.gradreg.summary import contrast_tests
from brainrnn.gradreg.train import train_variant
from brainrnn.models.regularisers import communicability, pairwise_distances, wiring_cost
from brainrnn.stats import spearman_permutation

from conftest import section

REGIONS = [f"r{i}" for i in range(12)]


def _geometry(scale=1.0, seed=0, taus=None):
    coordinates = scale * np.random.default_rng(seed).standard_normal((len(REGIONS), 3))
    return gr.SubjectGeometry(REGIONS, coordinates, taus)


def test_variant_distances():
    subject, group = _geometry(), _geometry(seed=1)
    own, penalised = gr.variant_distances("gradreg", subject, group, seed=0)
    assert penalised and np.allclose(own, pairwise_distances(subject.coordinates))
    none, penalised = gr.variant_distances("unregularised", subject, group, seed=0)
    assert not penalised and not none.any()
    flat, _ = gr.variant_distances("l1", subject, group, seed=0)
    off = ~np.eye(len(REGIONS), dtype=bool)
    assert np.allclose(flat[off], own[off].mean()) and np.allclose(np.diag(flat), 0)
    shuffled, _ = gr.variant_distances("shuffled", subject, group, seed=3)
    assert np.allclose(np.sort(shuffled[off]), np.sort(own[off])) and not np.allclose(shuffled, own)
    average, _ = gr.variant_distances("groupavg", subject, group, seed=0)
    assert np.allclose(average, pairwise_distances(group.coordinates))


def test_distances_keep_the_spread():
    """A subject with a twice wider gradient pays twice the wiring cost for the same weights."""
    narrow, wide = _geometry(1.0), _geometry(2.0)
    weight = torch.randn(1, len(REGIONS), len(REGIONS))
    costs = [wiring_cost(weight, torch.tensor(gr.variant_distances("gradreg", g, g, 0)[0])[None].float(),
                         torch.tensor([0.1])) for g in (narrow, wide)]
    assert torch.allclose(costs[1], 2 * costs[0])


def test_unknown_variant_is_a_clear_error():
    with pytest.raises(InputError, match="unknown variant 'gradient'.*gradreg"):
        gr.variant_distances("gradient", _geometry(), _geometry(), seed=0)


def test_communicability_is_symmetric_for_a_symmetric_matrix_with_zero_diagonal():
    weight = torch.rand(1, 6, 6)
    weight = weight + weight.transpose(1, 2)
    value = communicability(weight, orientation="post_pre", strength="in")
    assert torch.allclose(value, value.transpose(1, 2), atol=1e-6) and torch.all(torch.diagonal(value[0]) == 0)
    assert torch.all(value[0][~torch.eye(6, dtype=torch.bool)] > 0)


def _write_gradients(path, values, regions=REGIONS):
    frame = pd.DataFrame(values, index=pd.Index(regions, name="region"),
                         columns=[f"G{i + 1}" for i in range(values.shape[1])])
    frame.to_csv(path, sep="\t")


def test_load_geometry_checks(tmp_path):
    with pytest.raises(InputError, match="no gradients for this subject") as caught:
        gr.load_geometry(tmp_path / "absent.tsv", 3, subject="07")
    assert "subject 07" in str(caught.value)
    values = np.random.default_rng(0).standard_normal((len(REGIONS), 4))
    _write_gradients(tmp_path / "g.tsv", values)
    pd.DataFrame({"region": REGIONS[:-1], "tau_s": 1.0}).to_csv(tmp_path / "t.tsv", sep="\t", index=False)
    with pytest.raises(InputError, match="11 timescale regions but 12 gradient regions"):
        gr.load_geometry(tmp_path / "g.tsv", 3, subject="07", timescales_path=tmp_path / "t.tsv")
    values[2, 1] = np.nan
    _write_gradients(tmp_path / "nan.tsv", values)
    with pytest.raises(InputError, match="NaN"):
        gr.load_geometry(tmp_path / "nan.tsv", 3, subject="07")
    geometry = gr.load_geometry(tmp_path / "g.tsv", 3, subject="07")
    assert geometry.coordinates.shape == (12, 3)


def test_unit_time_constants_follow_timescales():
    taus = gr.unit_time_constants(np.array([1.0, 2.0, 4.0, np.nan]), 100.0, 20.0)
    assert torch.allclose(taus, torch.tensor([50.0, 100.0, 200.0, 100.0]))


def test_alignment_is_positive_when_strong_connections_are_short():
    distances = pairwise_distances(_geometry().coordinates)
    aligned = np.exp(-distances)
    assert alignment(aligned, distances) > 0.9
    assert abs(alignment(np.random.default_rng(0).random(distances.shape), distances)) < 0.3


def test_trained_gradreg_network_learns_and_aligns_to_its_geometry(tmp_path):
    """Small end-to-end check of the library path: the penalised network still solves DMS."""
    torch.set_num_threads(1)
    settings = section("gradreg", task="dms", dt_ms=40.0, tasks={"dms": {"n_stimuli": 2}},
                       timing={"delays_ms": [400, 600]}, model={"time_constants": "timescales"},
                       training={"steps": 250, "learning_rate": 0.01, "eval_trials": 128, "checkpoint_every": 1000},
                       **{"lambda": 0.001})
    regions = [f"r{i}" for i in range(80)]
    coordinates = np.random.default_rng(2).standard_normal((80, 3)) * 0.1
    geometry = gr.SubjectGeometry(regions, coordinates, np.linspace(1, 5, 80))
    trained = train_variant(variant="gradreg", subject="01", seeds=[0], base_seed=20261125, geometry=geometry,
                            group_geometry=geometry, section=settings)
    metrics = trained.metrics[0]
    assert metrics["final_accuracy"] > 0.85, metrics
    assert metrics["alignment"] > 0.1
    assert not torch.allclose(trained.model.alpha[0], trained.model.alpha[0, 0].expand(80))


def test_spearman_permutation_detects_a_monotone_relation():
    rng = np.random.default_rng(0)
    x = np.arange(10.0)
    rho, p_value = spearman_permutation(x, x**2, 999, rng)
    assert rho == pytest.approx(1.0) and p_value < 0.01
    _, p_null = spearman_permutation(x, rng.permutation(10).astype(float), 999, rng)
    assert p_null > 0.01
    assert np.isnan(spearman_permutation(x, np.ones(10), 99, rng)[0])


# ----------------------------------------------------------------------------- controls and declared tests

def test_the_normalised_penalty_does_not_depend_on_the_subject_s_spread():
    """Scale a subject's gradient by 3: the raw penalty triples, the normalised one is unchanged."""
    rng = np.random.default_rng(5)
    narrow = gr.SubjectGeometry(REGIONS, rng.standard_normal((len(REGIONS), 3)), None)
    wide = gr.SubjectGeometry(REGIONS, 3.0 * narrow.coordinates, None)
    weight = torch.tensor(rng.standard_normal((1, len(REGIONS), len(REGIONS))))
    strength = torch.tensor([1.0], dtype=torch.float64)

    def cost(variant, geometry):
        distances = torch.tensor(gr.variant_distances(variant, geometry, geometry, seed=0)[0]).unsqueeze(0)
        return float(wiring_cost(weight, distances, strength)[0])

    assert cost("normalised", wide) == pytest.approx(cost("normalised", narrow), rel=1e-12)
    assert cost("gradreg", wide) == pytest.approx(3.0 * cost("gradreg", narrow), rel=1e-12)
    distances = gr.variant_distances("normalised", wide, wide, seed=0)[0]
    assert distances[~np.eye(len(REGIONS), dtype=bool)].mean() == pytest.approx(1.0)


def test_compression_rescales_g1_about_its_mean_and_nothing_else():
    geometry = _geometry()
    compressed = gr.compress_gradient(geometry, 0.5)
    assert np.ptp(compressed.coordinates[:, 0]) == pytest.approx(0.5 * np.ptp(geometry.coordinates[:, 0]))
    assert compressed.coordinates[:, 0].mean() == pytest.approx(geometry.coordinates[:, 0].mean())
    np.testing.assert_array_equal(compressed.coordinates[:, 1:], geometry.coordinates[:, 1:])
    assert gradreg_family.parse_variant(gradreg_family.compression_variant("normalised", 0.75)) == ("normalised", 0.75)
    assert gradreg_family.parse_variant("l1") == ("l1", None)
    with pytest.raises(ValueError):
        gradreg_family.parse_variant("l1-x0.5")  # only gradreg and normalised are compressed
    variant, run = gr.run_geometry("gradreg-x1.5", geometry)
    assert variant == "gradreg" and np.ptp(run.coordinates[:, 0]) == pytest.approx(1.5 * np.ptp(
        geometry.coordinates[:, 0]))


def _simulated_summary(effect: float, slope: float, *, subjects: int = 12, seeds: int = 3, seed: int = 0):
    """Runs of gradreg and l1 for simulated subjects: gradreg − l1 = effect + slope × spread_z + a subject's own
    offset (the random intercept) + noise."""
    rng = np.random.default_rng(seed)
    dispersion = rng.uniform(0.05, 0.15, subjects)
    spread_z = (dispersion - dispersion.mean()) / dispersion.std(ddof=1)
    rows = []
    for subject in range(subjects):
        level, offset = rng.normal(0, 0.5), rng.normal(0, 0.1)
        for run_seed in range(seeds):
            base = level + rng.normal(0, 0.2)
            for variant, value in (("l1", base), ("gradreg", base + effect + slope * spread_z[subject] + offset
                                                   + rng.normal(0, 0.05))):
                rows.append({"subject": f"s{subject}", "seed": run_seed, "variant": variant, "base_variant": variant,
                             "g1_scale": 1.0, "dispersion": dispersion[subject],
                             **dict.fromkeys(PRIMARY_MEASURES, value)})
    return pd.DataFrame(rows)


def test_declared_contrasts_recover_a_planted_effect_and_its_dependence_on_spread():
    tests = contrast_tests(_simulated_summary(effect=0.4, slope=0.2), n_permutations=2000, seed=1)
    contrast = tests[(tests["analysis"] == "contrast") & (tests["measure"] == "plateau_loss")].iloc[0]
    assert contrast["estimate"] == pytest.approx(0.4, abs=0.1) and contrast["ci_low"] < 0.4 < contrast["ci_high"]
    assert contrast["p_corrected"] < 0.01 and contrast["correction"] == "holm"
    versus = tests[(tests["analysis"] == "contrast_vs_spread") & (tests["measure"] == "plateau_loss")].iloc[0]
    assert versus["ci_low"] < 0.2 < versus["ci_high"] and versus["p_corrected"] < 0.01
    assert versus["method"].startswith("mixed model") and versus["correction"] == "fdr_bh"
    assert set(tests["measure"]) == set(PRIMARY_MEASURES)


def test_declared_contrasts_hold_their_error_rate_on_null_data():
    false_positives = 0
    for index in range(40):
        tests = contrast_tests(_simulated_summary(effect=0.0, slope=0.0, seed=100 + index), n_permutations=500,
                               seed=index)
        row = tests[(tests["analysis"] == "contrast_vs_spread") & (tests["measure"] == "alignment")].iloc[0]
        false_positives += int(row["p"] < 0.05)
    assert false_positives <= 6  # nominal 2 of 40; a binomial 95% bound is 6


def test_a_difference_that_never_varies_is_no_evidence_of_a_dependence_on_spread():
    """Both variants reach the criterion at the same step in every run: the difference is constant, and a slope
    fitted to its rounding error must not come out significant (it gave p = 0 on the demo)."""
    summary = _simulated_summary(effect=0.0, slope=0.0)
    summary.loc[summary["variant"] == "gradreg", "steps_to_criterion"] = 125.0
    summary.loc[summary["variant"] == "l1", "steps_to_criterion"] = 125.0 - 1e-14
    tests = contrast_tests(summary, n_permutations=500, seed=0)
    row = tests[(tests["analysis"] == "contrast_vs_spread") & (tests["measure"] == "steps_to_criterion")].iloc[0]
    assert row["p"] == 1.0 and row["p_corrected"] == 1.0 and row["method"] == "no variation in the response"
