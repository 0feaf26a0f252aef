"""Connectivity, BrainSpace gradients, orientation, Procrustes alignment and spread."""

from __future__ import annotations

import numpy as np
import pytest

from brainrnn.errors import InputError
from brainrnn.fmri import gradients as gr
from brainrnn.fmri.connectivity import functional_connectivity, group_mean_fc
from brainrnn.fmri.tables import check_gradients

N_REGIONS = 60
OPTIONS = gr.GradientOptions(n_components=4, approach="dm", kernel="normalized_angle", sparsity=0.9)


def planted_series(axis: np.ndarray, n_volumes: int, rng: np.random.Generator) -> np.ndarray:
    """Series whose FC has a planted gradient: regions mix two latent signals by their position on ``axis``."""
    latent = rng.standard_normal((n_volumes, 2))
    weights = np.stack([(1 + axis) / 2, (1 - axis) / 2], axis=1)  # one end follows latent 0, the other latent 1
    return latent @ weights.T + 0.6 * rng.standard_normal((n_volumes, axis.size))


@pytest.fixture()
def planted():
    rng = np.random.default_rng(7)
    axis = np.linspace(-1, 1, N_REGIONS)
    names = [f"sens_{i}" if value < -0.5 else f"assoc_{i}" if value > 0.5 else f"mid_{i}"
             for i, value in enumerate(axis)]
    return axis, names, rng


def test_functional_connectivity_is_a_symmetric_correlation_matrix():
    series = np.random.default_rng(0).standard_normal((300, 10))
    fc = functional_connectivity(series)
    assert np.allclose(fc, fc.T) and np.allclose(np.diag(fc), 1.0)
    assert np.isclose(fc[0, 1], np.corrcoef(series[:, 0], series[:, 1])[0, 1])


def test_group_mean_in_fisher_z_space():
    a, b = np.full((2, 2), 0.9), np.full((2, 2), 0.1)
    mean = group_mean_fc([a, b], fisher_z=True)
    assert np.isclose(mean[0, 1], np.tanh((np.arctanh(0.9) + np.arctanh(0.1)) / 2))
    assert np.isclose(group_mean_fc([a, b], fisher_z=False)[0, 1], 0.5)
    assert np.allclose(np.diag(mean), 1.0)


def test_planted_gradient_is_recovered_and_oriented(planted):
    axis, names, rng = planted
    fc = functional_connectivity(planted_series(axis, 600, rng))
    native = gr.embed(fc, OPTIONS, seed=0)
    oriented, _ = gr.orient_reference(native, names, ["^sens"], ["^assoc"])
    g1 = oriented.gradients[:, 0]
    assert abs(np.corrcoef(g1, axis)[0, 1]) > 0.9
    # sensory end negative, association end positive
    assert g1[axis < -0.5].mean() < 0 < g1[axis > 0.5].mean()


def test_orientation_picks_the_separating_component_not_index_zero(planted):
    axis, names, _ = planted
    rng = np.random.default_rng(3)
    other = rng.standard_normal(N_REGIONS)
    native = gr.Embedding(np.stack([other, -axis + 0.05 * rng.standard_normal(N_REGIONS)], axis=1),
                          np.array([0.2, 0.1]))
    oriented, first = gr.orient_reference(native, names, ["^sens"], ["^assoc"])
    assert first == 1
    assert np.corrcoef(oriented.gradients[:, 0], axis)[0, 1] > 0.99
    assert list(oriented.eigenvalues) == [0.1, 0.2]


def test_orientation_without_matching_regions_is_a_clear_error(planted):
    axis, names, _ = planted
    native = gr.Embedding(np.stack([axis, axis**2], axis=1), np.array([0.2, 0.1]))
    with pytest.raises(InputError, match="gradients.sensory_regions"):
        gr.orient_reference(native, names, ["^Calcarine"], ["^assoc"])


def test_subject_gradient_aligned_to_reference_recovers_the_planted_axis(planted):
    axis, names, rng = planted
    reference_fc = group_mean_fc([functional_connectivity(planted_series(axis, 600, rng)) for _ in range(3)])
    reference, _ = gr.orient_reference(gr.embed(reference_fc, OPTIONS), names, ["^sens"], ["^assoc"])
    subject = gr.embed(functional_connectivity(planted_series(axis, 400, rng)), OPTIONS)
    aligned, rotation = gr.align_to_reference(subject, reference.gradients)
    assert np.corrcoef(aligned[:, 0], axis)[0, 1] > 0.9  # sign fixed by the alignment
    assert np.allclose(rotation @ rotation.T, np.eye(rotation.shape[0]), atol=1e-10)
    # a rotation keeps every region's distance to the centroid, hence the spread
    assert np.isclose(gr.gradient_spread(aligned, 4)["dispersion"],
                      gr.gradient_spread(subject.gradients, 4)["dispersion"])
    share = gr.explained_share(subject.eigenvalues, rotation)
    assert np.isclose(share.sum(), 1.0) and (share > 0).all()


def test_alignment_undoes_a_known_permutation_and_sign_flip():
    rng = np.random.default_rng(1)
    reference = rng.standard_normal((50, 3))
    shuffled = gr.Embedding(reference[:, [2, 0, 1]] * np.array([1, -1, 1]), np.array([0.3, 0.2, 0.1]))
    aligned, _ = gr.align_to_reference(shuffled, reference)
    assert np.allclose(aligned, reference, atol=1e-10)


def test_spread_of_a_known_configuration():
    grads = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    spread = gr.gradient_spread(grads, dims=2)
    assert spread["g1_range"] == 2.0 and np.isclose(spread["dispersion"], 1.0)
    wider = gr.gradient_spread(3 * grads, dims=2)
    assert np.isclose(wider["dispersion"], 3.0)


def test_check_gradients_refuses_nan(tmp_path):
    frame = gr.gradients_frame(np.array([[0.1, np.nan], [0.2, 0.3]]), ["a", "b"])
    with pytest.raises(InputError, match="NaN") as caught:
        check_gradients(frame, file="g.tsv", subject="01")
    assert "g.tsv" in str(caught.value) and "subject 01" in str(caught.value)
