"""Gradient-regularised RNNs: variant geometry, wiring cost, bad input, summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from brainrnn.errors import InputError
from brainrnn.gradreg import model as gr
from brainrnn.gradreg.analysis import alignment
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
    value = communicability(weight)
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
