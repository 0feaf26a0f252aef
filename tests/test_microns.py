"""MICrONS fields: connectome order, geometry, STTC, grid; the synthetic field; the workflow stage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from brainrnn import microns as vocab
from brainrnn.errors import InputError
from brainrnn.microns import field as mf
from brainrnn.microns import model as mv
from brainrnn.microns.analysis import graph_measures, null_statistics, strongest, weight_entropy
from brainrnn.microns.train import train_variant
from brainrnn.models import expm
from brainrnn.models.regularisers import communicability
from brainrnn.tasks.registry import make_task

from conftest import ROOT, make_workdir, run_snakemake, section

SHARED = ROOT.parent / "shared" / "data" / "microns"
FIELDS = ["5_3_4", "6_6_2", "6_6_8"]
needs_shared = pytest.mark.skipif(not (SHARED / "info").is_dir(),
                                  reason=f"the real MICrONS fields are not present at {SHARED}")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@needs_shared
@pytest.mark.parametrize("name", FIELDS)
def test_connectome_order_matches_the_derived_permutation(name):
    root_ids = np.load(SHARED / "info" / name / f"root_ids_{name}.npy")
    expected = np.load(SHARED / "derived" / f"connectome_row_to_functional_index_{name}.npy")
    assert np.array_equal(mf.connectome_row_order(root_ids), expected)


@needs_shared
@pytest.mark.parametrize("name", FIELDS)
def test_real_fields_load_in_functional_order_with_real_geometry(name):
    field = mf.load_field(SHARED / "info", name, ROOT / "resources" / "microns" / "INF.md")
    quality = field.quality()
    # after reordering, connected neurons lie far closer than random pairs (91-137 µm against ~320 µm)
    assert quality["mean_distance_connected_um"] < 0.5 * quality["mean_distance_all_um"]
    as_shipped = pd.read_csv(SHARED / "info" / name / f"connectome_{name}.csv", index_col=0).to_numpy()
    naive = mf.Field(name, field.positions_um, as_shipped, field.corr, field.sttc, field.precision, field.grid)
    assert naive.quality()["mean_distance_connected_um"] > 0.8 * quality["mean_distance_all_um"]
    # positions in µm: a cortical column spans hundreds of µm, not voxels
    extent = field.positions_um.max(axis=0) - field.positions_um.min(axis=0)
    assert (extent > 10).all() and (extent < 2000).all()
    assert np.allclose(field.sttc, field.sttc.T) and np.allclose(np.diag(field.sttc), 1.0)
    assert np.prod(field.grid) == field.n_neurons
    assert field.connectome.sum() == as_shipped.sum()


def test_functional_order_moves_rows_and_columns_together():
    matrix = np.arange(9).reshape(3, 3)
    ordered = mf.to_functional_order(matrix, np.array([2, 0, 1]))
    assert ordered[2, 0] == matrix[0, 1] and ordered[1, 2] == matrix[2, 0]


def test_grid_parsing_and_unknown_fields():
    inf = ROOT / "resources" / "microns" / "INF.md"
    assert mf.parse_grid(inf, "6_6_2") == (12, 13, 2)
    with pytest.raises(InputError, match="not listed"):
        mf.parse_grid(inf, "99_9_9")
    with pytest.raises(InputError, match="not a field name"):
        mf.load_field(ROOT, "../etc", inf)


def test_synthetic_field_is_column_like_and_deterministic(tmp_path):
    field = mf.synthetic_field(100, seed=3)
    again = mf.synthetic_field(100, seed=3)
    assert np.array_equal(field.connectome, again.connectome) and np.allclose(field.corr, again.corr)
    quality = field.quality()
    assert quality["mean_distance_connected_um"] < 0.75 * quality["mean_distance_all_um"]
    assert np.allclose(field.corr, field.corr.T) and np.allclose(field.sttc, field.sttc.T)
    assert np.all(np.linalg.eigvalsh(field.precision) > 0) and np.prod(field.grid) == 100
    field.save(tmp_path / "f.npz")
    loaded = mf.Field.load(tmp_path / "f.npz")
    assert np.array_equal(loaded.connectome, field.connectome) and loaded.grid == field.grid


def test_grid_factorisation_is_near_cubic():
    assert mf.grid_factorisation(120) == (6, 5, 4)
    assert mf.grid_factorisation(13) == (13, 1, 1)


def test_zero_strength_neurons_do_not_blow_up_communicability():
    weight = torch.tensor([[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.5, 0.0]]])  # rows presynaptic: 1 sends nothing
    value = communicability(weight, orientation="pre_post", strength="out")
    assert torch.isfinite(value).all() and value.max() < 10  # the 1e-10 trick gives entries ~1e5


@needs_shared
def test_workflow_prepares_a_real_field_from_a_folder(tmp_path):
    workdir = make_workdir(tmp_path, {"microns": {"source": "folder", "fields": ["5_3_4"],
                                                  "folder": str(SHARED / "info")}})
    result = run_snakemake(workdir, "results/microns/5_3_4/quality.json")
    assert result.returncode == 0, result.stdout[-3000:]
    quality = json.loads((workdir / "results/microns/5_3_4/quality.json").read_text())
    assert quality["grid"] == [7, 5, 2] and quality["n_neurons"] == 70
    assert quality["mean_distance_connected_um"] < 0.5 * quality["mean_distance_all_um"]


@needs_shared
def test_workflow_downloads_a_field_with_checksums(tmp_path):
    from test_download import Server

    server = Server()
    try:
        manifest = (ROOT / "resources" / "microns_manifest.tsv").read_text().splitlines()
        rewritten = [line if line.startswith(("#", "field")) else _local(line, server) for line in manifest]
        workdir = make_workdir(tmp_path, {"microns": {"source": "download", "fields": ["5_3_4"],
                                                      "manifest": "config/microns.tsv"}})
        (workdir / "config" / "microns.tsv").write_text("\n".join(rewritten) + "\n")
        result = run_snakemake(workdir, "results/microns/5_3_4/quality.json")
        assert result.returncode == 0, result.stdout[-3000:]
        assert len(list((workdir / "results/downloads/microns/5_3_4").iterdir())) == 6
    finally:
        server.close()


@needs_shared
def test_workflow_unpacks_a_field_archive_after_verifying_it(tmp_path):
    import hashlib
    import io
    import zipfile

    from test_download import Server

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in sorted((SHARED / "info" / "5_3_4").iterdir()):
            bundle.write(path, f"DATA/info/5_3_4/{path.name}")
    server = Server()
    server.files["/DATA.zip"] = buffer.getvalue()
    try:
        workdir = make_workdir(tmp_path, {"microns": {"source": "download", "fields": ["5_3_4"],
                                                      "manifest": "config/microns.tsv"}})
        (workdir / "config" / "microns.tsv").write_text(
            "field\tfile\turl\tsha256\textract\n"
            f"5_3_4\tDATA.zip\t{server.url('/DATA.zip')}\t{hashlib.sha256(buffer.getvalue()).hexdigest()}\tDATA/info\n")
        result = run_snakemake(workdir, "results/microns/5_3_4/quality.json")
        assert result.returncode == 0, result.stdout[-3000:]
        quality = json.loads((workdir / "results/microns/5_3_4/quality.json").read_text())
        assert quality["n_neurons"] == 70 and quality["grid"] == [7, 5, 2]
        assert (workdir / "results/extracted/microns/5_3_4/DATA.zip/DATA/info/5_3_4/corr_matrix.npy").is_file()
        assert server.hits["/DATA.zip"] == 1
    finally:
        server.close()


def _local(line: str, server) -> str:
    field, name, _, digest = line.split("\t")
    return "\t".join([field, name, server.url(f"/shared/{field}/{name}"), digest])


# ----------------------------------------------------------------------------- tasks, variants, metrics


def test_cortical_tasks_follow_their_definitions():
    generator = torch.Generator().manual_seed(0)
    choice = make_task("one_choice", input_noise=0.0).sample(200, generator)
    assert choice.inputs.shape == (50, 200, 8)
    goal = choice.inputs[choice.epochs["goal"]].reshape(20, 200, 8)[0, :, :4].argmax(-1)
    assert torch.equal(goal, choice.labels)
    offered = choice.inputs[-1, :, 4:]
    assert (offered.sum(-1) == 2).all() and (offered[torch.arange(200), choice.labels] == 1).all()
    go = make_task("go_nogo", input_noise=0.0).sample(200, generator)
    stimulus = go.inputs[5]
    assert torch.equal(stimulus[:, 1].long(), go.labels) and torch.equal(stimulus[:, 2].long(), 1 - go.labels)
    decision = make_task("perceptual_dm", input_noise=0.0).sample(2000, generator)
    evidence = decision.inputs[5:35, :, 1] - decision.inputs[5:35, :, 2]
    agree = (evidence.mean(0) > 0).long() == decision.labels
    assert agree.float().mean() > 0.7  # coherence 0 trials are coin flips
    assert decision.mask.sum(0).eq(6).all()



@pytest.mark.parametrize("distractor,ignore_the_goal", [("other", 0.5), ("any", 0.625)])
def test_one_choice_distractor_sets_the_ignore_the_goal_level(distractor, ignore_the_goal):
    trials = make_task("one_choice", input_noise=0.0, distractor=distractor).sample(20000,
                                                                                   torch.Generator().manual_seed(3))
    offered = trials.inputs[-1, :, 4:]
    assert set(offered.unique().tolist()) == {0.0, 1.0} and (offered[torch.arange(20000), trials.labels] == 1).all()
    # a policy that ignores the goal picks one of the lit locations at random
    assert float((1.0 / offered.sum(-1)).mean()) == pytest.approx(ignore_the_goal, abs=0.01)
    with pytest.raises(ValueError, match="unknown one_choice distractor"):
        make_task("one_choice", distractor="nearest")


def test_variant_names_and_slugs():
    assert vocab.Variant.parse("W*D*C") == vocab.Variant("W*", "D*", "C")
    assert vocab.Variant.parse("W") == vocab.Variant("W", None, None)
    assert vocab.slug("W!D*C*") == "Wperm-Dsoma-Cemd" and vocab.slug("W") == "Worth"
    with pytest.raises(InputError, match="unknown MICrONS variant"):
        vocab.Variant.parse("W*X")


def test_bio_initialisation_statistics_and_the_permuted_control():
    field = mf.synthetic_field(60, seed=2)
    bio = mv.initial_weights(vocab.Variant.parse("W*D*C"), field, np.random.default_rng(0))
    assert np.abs(np.linalg.eigvals(bio)).max() == pytest.approx(0.95)
    assert (bio >= 0).all()
    permuted = mv.initial_weights(vocab.Variant.parse("W!D*C"), field, np.random.default_rng(0))
    assert np.allclose(np.sort(permuted.ravel()), np.sort(bio.ravel())) and not np.allclose(permuted, bio)
    orthogonal = mv.initial_weights(vocab.Variant.parse("W"), field, np.random.default_rng(0))
    assert np.allclose(orthogonal @ orthogonal.T, np.eye(60), atol=1e-8)


def _penalty(name: str, field: mf.Field, mode: str, **settings) -> mv.Penalty:
    """The penalty of a variant at the source's λ (0.3, λ_EMD 0.1) and the notebook's diagonal treatment."""
    return mv.make_penalty(vocab.Variant.parse(name), field, mode, **{"strength": 0.3, "emd_strength": 0.1,
                                                                     "diagonal": "as_source", **settings})


def test_penalties_match_direct_computation_and_the_faithful_defects():
    field = mf.synthetic_field(40, seed=4)
    weight = torch.randn(1, 40, 40, dtype=torch.float32)
    l1 = _penalty("W", field, "corrected")
    faithful_l1 = _penalty("W", field, "faithful")
    direct = float(np.abs(weight[0].numpy()).sum())
    assert float(l1(weight)) == pytest.approx(0.3 * direct, rel=1e-5)
    assert float(faithful_l1(weight)) == pytest.approx(direct, rel=1e-5)  # the notebook ignores λ
    spatial = _penalty("WD*", field, "corrected")
    soma = np.linalg.norm(field.positions_um[:, None] - field.positions_um[None], axis=-1)
    assert float(spatial(weight)) == pytest.approx(0.3 * float((np.abs(weight[0].numpy()) * soma / soma.max()).sum()),
                                                   rel=1e-4)
    grid_faithful = mv.distances(vocab.Variant.parse("WD"), field, "faithful")
    assert grid_faithful.max() > 1 and mv.distances(vocab.Variant.parse("WD"), field, "corrected").max() == 1


def test_faithful_zero_strength_creates_the_1e5_artifact_and_corrected_does_not():
    field = mf.synthetic_field(30, seed=5)
    field.connectome[3] = 0  # a neuron that sends no synapse
    faithful = mv.target_communicability(field, "faithful")
    corrected = mv.target_communicability(field, "corrected")
    assert float(faithful.max()) > 1e3 and float(corrected.max()) < 100


def test_communicability_gradient_matches_finite_differences():
    weight = (torch.rand(1, 6, 6, dtype=torch.float64) + 0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda w: mv.model_communicability(w).sum(), (weight,), eps=1e-6, atol=1e-5)


def test_graph_measures_see_planted_modules_and_random_graphs_are_not_small_world():
    rng = np.random.default_rng(0)
    nulls = null_statistics(80, 0.1, n_nulls=10, seed=1)
    modular = np.kron(np.eye(4), np.ones((20, 20))) * (1 + rng.random((80, 80)))
    random = rng.random((80, 80))
    assert graph_measures(modular, nulls, seed=0, n_degree_nulls=2)["modularity"] > 0.5
    measures = graph_measures(random, nulls, seed=0, n_degree_nulls=4)
    assert measures["modularity"] < 0.4 and measures["small_worldness"] == pytest.approx(1.0, abs=0.25)
    assert measures["small_worldness_degree"] == pytest.approx(1.0, abs=0.25)
    graph = strongest(random)
    assert np.allclose(graph, graph.T) and (graph > 0).sum() == pytest.approx(0.1 * 80 * 79, rel=0.05)


def _field_534_or_skip() -> mf.Field:
    if not (SHARED / "info").is_dir():
        pytest.skip(f"the real MICrONS fields are not present at {SHARED}")
    return mf.load_field(SHARED / "info", "5_3_4", ROOT / "resources" / "microns" / "INF.md")


TINY = section("microns", n_degree_nulls=2,
               training={"steps": 2, "batch_size": 16, "eval_every": 1, "eval_trials": 32, "train_trials": 48})


@pytest.mark.parametrize("mode", vocab.MODES)
def test_every_variant_and_control_trains_on_every_task_of_field_5_3_4(mode):
    field = _field_534_or_skip()
    nulls = null_statistics(field.n_neurons, 0.1, n_nulls=2)
    for name in vocab.VARIANTS + vocab.CONTROLS:
        for task in ("one_choice", "go_nogo", "perceptual_dm"):
            run = train_variant(field, name, task, mode, [0, 1], 1, TINY, nulls)
            assert len(run.metrics) == 2 and len(run.history) == 2 * 2, (name, task)
            assert np.isfinite(run.history[["train_loss", "penalty", "eval_loss"]].to_numpy()).all(), (name, task)
            weights = run.model.recurrent_weight.detach().numpy()
            assert np.isfinite(weights).all() and weights.shape == (2, 70, 70)
            assert run.metrics[0]["member_seed"] != run.metrics[1]["member_seed"]
            for member, metrics in enumerate(run.metrics):
                # started from the variant's initialisation and took two Adam steps of at most ~lr = 1e-3
                rng = np.random.default_rng(mv.init_seed(metrics["member_seed"], name))
                moved = np.abs(weights[member] - mv.initial_weights(vocab.Variant.parse(name), field, rng))
                assert 0 < moved.max() < 3e-3, (name, task, moved.max())
                assert metrics["variant"] == name and metrics["mode"] == mode and metrics["task"] == task
                # scored on exactly the eval_trials held-out trials; the last training accuracy is the history's
                assert metrics["final_accuracy"] * TINY["training"]["eval_trials"] == pytest.approx(
                    round(metrics["final_accuracy"] * TINY["training"]["eval_trials"]), abs=1e-6)
                last = run.history.loc[run.history["member"] == member, "train_accuracy"].iloc[-1]
                assert metrics["train_accuracy_last"] == pytest.approx(last)
                assert metrics["lambda"] > 0 and np.isfinite(metrics["lambda_emd"])
                for key in ("modularity", "clustering", "global_efficiency", "weight_entropy_bits",
                            "small_worldness_degree", "init_spectral_radius"):
                    assert np.isfinite(metrics[key]), (name, task, key)


def test_every_variant_trains_on_the_synthetic_field():
    """The same smoke test without the shared data (CI): every variant and control, one task each."""
    field = mf.synthetic_field(40, seed=0)
    nulls = null_statistics(field.n_neurons, 0.1, n_nulls=2)
    tasks = ("one_choice", "go_nogo", "perceptual_dm")
    for index, name in enumerate(vocab.VARIANTS + vocab.CONTROLS):
        run = train_variant(field, name, tasks[index % 3], vocab.MODES[index % 3], [0], 1, TINY, nulls)
        held_out = run.metrics[0]["final_accuracy"] * TINY["training"]["eval_trials"]
        assert held_out == pytest.approx(round(held_out), abs=1e-6) and np.isfinite(run.metrics[0]["modularity"]), name


# ----------------------------------------------------------------------------- matched mode


def test_matched_penalties_equal_the_reference_at_the_matching_point():
    field = mf.synthetic_field(50, seed=6)
    point = mv.matching_point(field, 11)
    for reference in ("W*D*C", "WD*"):
        wanted = float(mv.make_penalty(vocab.Variant.parse(reference), field, "corrected", strength=0.3,
                                       emd_strength=0.1, diagonal="as_source")(point))
        for name in vocab.VARIANTS + vocab.CONTROLS:
            variant = vocab.Variant.parse(name)
            matched = mv.make_penalty(variant, field, "matched", strength=0.3, emd_strength=0.1,
                                      diagonal="as_source", reference=reference, match_seed=11)
            assert float(matched(point)) == pytest.approx(wanted, rel=1e-5), (reference, name)
            corrected = mv.make_penalty(variant, field, "corrected", strength=0.3, emd_strength=0.1,
                                        diagonal="as_source", reference=reference, match_seed=11)
            assert torch.equal(matched.distance, corrected.distance)  # the corrected choices
            # one factor for λ and λ_EMD; the reference's own penalty kind keeps λ
            assert matched.emd_strength / matched.strength == pytest.approx(0.1 / 0.3)
            same_kind = (variant.distance, variant.communicability) == (vocab.Variant.parse(reference).distance,
                                                                        vocab.Variant.parse(reference).communicability)
            assert (matched.strength == pytest.approx(0.3, rel=1e-6)) == same_kind, (reference, name)
    # the penalties differ by orders of magnitude before matching: the reason for this mode
    plain = {name: float(mv.make_penalty(vocab.Variant.parse(name), field, "corrected", strength=0.3,
                                         emd_strength=0.1, diagonal="as_source")(point)) for name in ("WD*", "WD*C")}
    assert plain["WD*"] > 10 * plain["WD*C"]


def test_matched_penalties_stay_matched_along_the_matching_direction():
    field = mf.synthetic_field(40, seed=7)
    point = mv.matching_point(field, 3)
    for name in ("W", "WD", "WD*C", "WDC"):  # L1, distance and communicability penalties are 1-homogeneous
        matched = mv.make_penalty(vocab.Variant.parse(name), field, "matched", strength=0.3, emd_strength=0.1,
                                  diagonal="as_source", match_seed=3)
        assert float(matched(2.5 * point)) == pytest.approx(2.5 * float(matched(point)), rel=1e-5), name


def test_matched_mode_needs_a_positive_lambda_and_faithful_numbers_ignore_it():
    field = mf.synthetic_field(30, seed=8)
    with pytest.raises(InputError, match="microns.lambda"):
        _penalty("WD*", field, "matched", strength=0.0)
    with pytest.raises(InputError, match="unknown MICrONS mode"):
        _penalty("WD*", field, "fair")
    weight = torch.randn(1, 30, 30)
    for mode in ("faithful", "corrected"):
        a = _penalty("WD*C", field, mode, reference="W")
        b = _penalty("WD*C", field, mode)
        assert float(a(weight)) == float(b(weight)) and a.strength == 0.3


# ----------------------------------------------------------------------------- fast matrix exponential

@pytest.mark.parametrize("scale", [0.0, 0.01, 0.5, 3.0, 40.0])
def test_taylor_matrix_exp_matches_torch(scale):
    generator = torch.Generator().manual_seed(0)
    matrix = scale * torch.randn(3, 25, 25, dtype=torch.float64, generator=generator) / 5
    truth = torch.linalg.matrix_exp(matrix)
    assert torch.allclose(expm.matrix_exp(matrix), truth, rtol=1e-11, atol=1e-11 * float(truth.abs().max()))
    # float32: as accurate as torch's own float32 exponential at the 1-norms of communicability (~1-2);
    # beyond, the extra squarings of the degree-8 polynomial add rounding (torch's degree 18 needs fewer)
    error = float((expm.matrix_exp(matrix.float()).double() - truth).norm() / truth.norm())
    reference = float((torch.linalg.matrix_exp(matrix.float()).double() - truth).norm() / truth.norm())
    assert error < max(2e-6, (3 if scale <= 3 else 10) * reference)


def test_taylor_matrix_exp_members_are_independent():
    generator = torch.Generator().manual_seed(1)
    small, large = torch.randn(1, 20, 20, generator=generator) / 20, 5 * torch.randn(1, 20, 20, generator=generator)
    together = expm.matrix_exp(torch.cat([small, large]))
    assert torch.allclose(together[:1], expm.matrix_exp(small), rtol=1e-6, atol=1e-7)


def _torch_communicability(weight: torch.Tensor) -> torch.Tensor:
    """The definition with torch's own matrix exponential, as a reference (rows presynaptic, out-strengths)."""
    strength = weight.abs().sum(dim=-1)
    scale = torch.where(strength > 0, strength.clamp(min=1e-12).rsqrt(), torch.zeros_like(strength))
    value = torch.linalg.matrix_exp(scale.unsqueeze(-1) * weight.abs() * scale.unsqueeze(-2))
    return value * (1.0 - torch.eye(weight.shape[-1], dtype=weight.dtype))


def test_fast_communicability_agrees_with_the_reference_and_its_gradient_is_exact():
    weight = torch.randn(2, 30, 30, dtype=torch.float64)
    weight[:, 4] = 0.0  # a neuron that sends nothing

    def fast(matrix: torch.Tensor) -> torch.Tensor:
        return communicability(matrix, orientation="pre_post", strength="out")

    assert torch.allclose(fast(weight), _torch_communicability(weight), rtol=1e-10, atol=1e-12)
    small = (torch.rand(1, 6, 6, dtype=torch.float64) + 0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda w: fast(w).sum(), (small,), eps=1e-6, atol=1e-5)
    single = weight.float().requires_grad_(True)
    double = weight.clone().requires_grad_(True)
    direction = torch.randn(2, 30, 30, dtype=torch.float64)
    (approximate,) = torch.autograd.grad((fast(single) * direction.float()).sum(), single)
    (exact,) = torch.autograd.grad((_torch_communicability(double) * direction).sum(), double)
    assert float((approximate.double() - exact).norm() / exact.norm()) < 1e-5


def test_weight_entropy_on_a_grid_matches_the_exact_kde():
    from scipy import stats


    rng = np.random.default_rng(0)
    for values in (rng.lognormal(-3, 1, 3000), np.abs(rng.standard_normal(3000)),
                   np.concatenate([0.01 * rng.random(2000), [5.0]])):
        exact = float(-np.mean(np.log2(stats.gaussian_kde(values)(values))))
        assert weight_entropy(values) == pytest.approx(exact, abs=1e-5)
    assert np.isnan(weight_entropy(np.zeros((5, 5))))
