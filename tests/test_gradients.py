"""Connectivity, deterministic embeddings, orientation of G1 for any atlas, Procrustes alignment and spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from brainrnn.errors import InputError
from brainrnn.fmri import atlases
from brainrnn.fmri import gradients as gr
from brainrnn.fmri.connectivity import functional_connectivity, group_mean_fc
from brainrnn.fmri.tables import check_gradients

from conftest import section

N_REGIONS = 60
OPTIONS = gr.GradientOptions(n_components=4, approach="dm", kernel="normalized_angle", sparsity=0.9,
                             dense_max_regions=5000)
NAMES = gr.OrientationOptions(method="names", sensory_regions=("^sens",), association_regions=("^assoc",),
                              anchor_region=None)
TEMPLATE = gr.OrientationOptions(method="template", sensory_regions=("^sens",), association_regions=("^assoc",),
                                 anchor_region=None)


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


@pytest.fixture(scope="module")
def schaefer400():
    """BrainSpace's shipped Schaefer-400 group FC (λ1 ≈ λ2) and its parcel-mean principal gradient."""
    from brainspace.datasets import load_group_fc

    return load_group_fc("schaefer", scale=400), atlases.schaefer_table(400)


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


def test_options_come_from_the_config_section():
    assert gr.GradientOptions.from_config(section("gradients")).dense_max_regions == 5000
    assert gr.OrientationOptions.from_config(section("gradients.orientation")).method == "template"


def test_dense_diffusion_map_agrees_with_brainspace_where_eigenvalues_are_separated(planted):
    """Our solver changes how the eigenproblem is solved, not the embedding: on a matrix with separated
    eigenvalues every component equals BrainSpace's up to sign (|r| > 0.999) with the same eigenvalues."""
    from brainspace.gradient import GradientMaps

    axis, _, rng = planted
    fc = functional_connectivity(planted_series(axis, 600, rng))
    ours = gr.embed(fc, OPTIONS)
    theirs = GradientMaps(n_components=4, approach="dm", kernel="normalized_angle", random_state=0)
    theirs.fit(fc, sparsity=0.9)
    assert np.allclose(ours.eigenvalues[:2], theirs.lambdas_[:2], rtol=1e-3)
    r = abs(np.corrcoef(ours.gradients[:, 0], theirs.gradients_[:, 0])[0, 1])
    assert r > 0.999


@pytest.mark.parametrize("approach", ["dm", "le", "pca"])
def test_every_approach_is_deterministic_and_the_sparse_solver_agrees(planted, approach):
    axis, _, rng = planted
    fc = functional_connectivity(planted_series(axis, 600, rng))
    dense = gr.GradientOptions(4, approach, "normalized_angle", 0.9, dense_max_regions=5000)
    first, again = gr.embed(fc, dense), gr.embed(fc, dense)
    assert np.array_equal(first.gradients, again.gradients)
    assert abs(np.corrcoef(first.gradients[:, 0], axis)[0, 1]) > 0.9
    if approach != "pca":
        sparse = gr.embed(fc, gr.GradientOptions(4, approach, "normalized_angle", 0.9, dense_max_regions=10))
        assert np.allclose(sparse.eigenvalues, first.eigenvalues, rtol=1e-8)
        assert np.allclose(np.abs(sparse.gradients[:, 0]), np.abs(first.gradients[:, 0]), atol=1e-8)


def test_g1_does_not_depend_on_a_solver_seed_on_a_near_tied_matrix(schaefer400):
    """REFERENCE.md §1: on the Schaefer-400 group FC λ1 ≈ λ2 and BrainSpace's G1 changes with random_state.
    Ours has no seed: repeated and solver-swapped runs give one G1, the eigengap (< 5%) is recorded, and the
    template picks and signs the component that matches the principal gradient."""
    from brainspace.gradient import GradientMaps

    fc, table = schaefer400
    principal = table["template"].to_numpy()
    brainspace_r = [abs(np.corrcoef(GradientMaps(5, approach="dm", kernel="normalized_angle", random_state=seed)
                                    .fit(fc, sparsity=0.9).gradients_[:, 0], principal)[0, 1]) for seed in range(4)]
    assert np.ptp(brainspace_r) > 0.02  # the problem: BrainSpace's first component moves with its seed
    options = gr.GradientOptions(5, "dm", "normalized_angle", 0.9, dense_max_regions=5000)
    names = [f"p{i}" for i in range(400)]
    template = pd.Series(principal, index=names)
    results = [gr.orient_reference(gr.embed(fc, options), names, TEMPLATE, template) for _ in range(2)]
    results.append(gr.orient_reference(gr.embed(fc, gr.GradientOptions(5, "dm", "normalized_angle", 0.9, 10)),
                                       names, TEMPLATE, template))
    g1 = [oriented.gradients[:, 0] for oriented, _ in results]
    assert np.array_equal(g1[0], g1[1]) and np.allclose(g1[0], g1[2], atol=1e-8)
    record = results[0][1]
    assert record["eigengap"] < gr.EIGENGAP_WARNING
    assert np.corrcoef(g1[0], principal)[0, 1] > 0.85 and record["score"] > 0.85


def test_g1_is_found_and_signed_on_generic_labels_with_a_template(planted):
    axis, _, rng = planted
    generic = [f"r{i:02d}" for i in range(N_REGIONS)]
    fc = functional_connectivity(planted_series(axis, 600, rng))
    native = gr.embed(fc, OPTIONS)
    flipped = gr.Embedding(native.gradients[:, ::-1].copy() * -1, native.eigenvalues[::-1].copy())
    template = pd.Series(axis + 0.3 * rng.standard_normal(N_REGIONS), index=generic)
    oriented, record = gr.orient_reference(flipped, generic, TEMPLATE, template)
    assert np.corrcoef(oriented.gradients[:, 0], axis)[0, 1] > 0.9  # found among reordered components, signed
    assert record["native_component"] == 4 and record["method"] == "template"


def test_g1_is_found_on_schaefer_names_with_network_patterns():
    rng = np.random.default_rng(2)
    networks = ["Vis", "SomMot", "DorsAttn", "SalVentAttn", "Limbic", "Cont", "Default"]
    position = {"Vis": -1.0, "SomMot": -0.8, "DorsAttn": -0.3, "SalVentAttn": -0.1, "Limbic": 0.3, "Cont": 0.6,
                "Default": 1.0}
    names = [f"7Networks_{hemi}_{net}_{i}" for hemi in ("LH", "RH") for net in networks for i in range(1, 5)]
    axis = np.array([position[name.split("_")[2]] for name in names]) + 0.05 * rng.standard_normal(len(names))
    native = gr.embed(functional_connectivity(planted_series(axis, 800, rng)),
                      gr.GradientOptions(4, "dm", "normalized_angle", 0.9, 5000))
    schaefer = gr.OrientationOptions(method="names", sensory_regions=("_Vis_", "_SomMot_"),
                                     association_regions=("_Default_", "_Cont_"), anchor_region=None)
    oriented, _ = gr.orient_reference(native, names, schaefer)
    g1 = oriented.gradients[:, 0]
    assert np.corrcoef(g1, axis)[0, 1] > 0.9
    assert g1[[n.startswith("7Networks_LH_Vis") for n in names]].mean() < 0 < g1[["Default" in n for n in names]].mean()


def test_orientation_by_eigenvalue_order_uses_the_anchor_for_the_sign(planted):
    axis, names, _ = planted
    native = gr.Embedding(np.stack([-axis, axis**2], axis=1), np.array([0.2, 0.1]))
    order = gr.OrientationOptions("order", ("^sens",), ("^assoc",), anchor_region=names[-1])
    oriented, record = gr.orient_reference(native, names, order)
    assert record["native_component"] == 1 and oriented.gradients[-1, 0] > 0


def test_orientation_picks_the_separating_component_not_index_zero(planted):
    axis, names, _ = planted
    rng = np.random.default_rng(3)
    other = rng.standard_normal(N_REGIONS)
    native = gr.Embedding(np.stack([other, -axis + 0.05 * rng.standard_normal(N_REGIONS)], axis=1),
                          np.array([0.2, 0.1]))
    oriented, record = gr.orient_reference(native, names, NAMES)
    assert record["native_component"] == 2
    assert np.corrcoef(oriented.gradients[:, 0], axis)[0, 1] > 0.99
    assert list(oriented.eigenvalues) == [0.1, 0.2]
    assert np.isclose(record["eigengap"], 1.0)


@pytest.mark.parametrize("options, template, field", [
    (TEMPLATE, None, "gradients.orientation.template"),
    (TEMPLATE, pd.Series([1.0, 2.0], index=["x", "y"]), "gradients.orientation.template"),
    (gr.OrientationOptions("names", ("^Calcarine",), ("^assoc",), None), None,
     "gradients.orientation.sensory_regions"),
    (gr.OrientationOptions("order", ("^s",), ("^a",), "Precuneus_L"), None, "gradients.orientation.anchor_region"),
])
def test_orientation_that_cannot_work_is_a_clear_error(planted, options, template, field):
    axis, names, _ = planted
    native = gr.Embedding(np.stack([axis, axis**2], axis=1), np.array([0.2, 0.1]))
    with pytest.raises(InputError, match=field.replace(".", r"\.")) as caught:
        gr.orient_reference(native, names, options, template)
    assert "Fix:" in str(caught.value)


def test_subject_gradient_aligned_to_reference_recovers_the_planted_axis(planted):
    axis, names, rng = planted
    reference_fc = group_mean_fc([functional_connectivity(planted_series(axis, 600, rng)) for _ in range(3)])
    reference, _ = gr.orient_reference(gr.embed(reference_fc, OPTIONS), names, NAMES)
    subject = gr.embed(functional_connectivity(planted_series(axis, 400, rng)), OPTIONS)
    aligned, rotation = gr.align_to_reference(subject, reference.gradients)
    assert np.corrcoef(aligned[:, 0], axis)[0, 1] > 0.9  # sign fixed by the alignment
    assert np.allclose(rotation @ rotation.T, np.eye(rotation.shape[0]), atol=1e-10)
    # a rotation keeps distances in the full embedding ...
    assert np.isclose(gr.gradient_spread(aligned, 4)["dispersion"],
                      gr.gradient_spread(subject.gradients, 4)["dispersion"])
    share = gr.explained_share(subject.eigenvalues, rotation)
    assert np.isclose(share.sum(), 1.0) and (share > 0).all()


def test_rotation_free_spread_does_not_follow_the_reference_rotation():
    """Aligned G1 range and 2-D dispersion change with the reference's rotation; the native measures do not."""
    rng = np.random.default_rng(4)
    native = gr.Embedding(rng.standard_normal((50, 4)) * np.array([3.0, 2.0, 1.0, 0.5]), np.array([4, 3, 2, 1.0]))
    measures, aligned_ranges = [], []
    for angle in (0.0, 0.4):
        rotation = np.eye(4)
        rotation[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
        reference = native.gradients @ rotation
        aligned, _ = gr.align_to_reference(native, reference)
        aligned_ranges.append(gr.gradient_spread(aligned, 2)["g1_range"])
        measures.append(gr.native_spread(native, reference[:, 0], dims=2))
    assert abs(aligned_ranges[0] - aligned_ranges[1]) > 0.05 * aligned_ranges[0]
    for key in ("g1_range_matched", "dispersion_native", "dispersion_full"):
        assert measures[0][key] == measures[1][key]
    assert np.isclose(measures[0]["dispersion_full"], gr.dispersion(native.gradients @ np.linalg.qr(
        rng.standard_normal((4, 4)))[0]))


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
