"""MICrONS controls and fixes: diagonal controls, the diagonal option, the faithful protocol, out-strength
communicability, degree-preserving nulls, the shipped field, and the summary's intervals and tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.linalg import expm

from brainrnn import microns as vocab
from brainrnn.config import MICRONS_SHIPPED, check_shipped_fields
from brainrnn.download import read_manifest
from brainrnn.errors import InputError
from brainrnn.microns import field as mf
from brainrnn.microns import model as mv
from brainrnn.microns import summary as ms
from brainrnn.microns.analysis import degree_preserving_nulls, graph_measures, null_statistics, strongest
from brainrnn.microns.train import MicronsSchedule, score_last_step, train_variant
from brainrnn.models.regularisers import communicability, wiring_cost
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.stats import holm
from brainrnn.tasks.registry import make_task
from brainrnn.training import TrainingOptions, train_ensemble

from conftest import ROOT, section

pytestmark = pytest.mark.usefixtures("one_torch_thread")
INF_MD = ROOT / "resources" / "microns" / "INF.md"
MANIFEST = ROOT / "resources" / "microns_manifest.tsv"


# ----------------------------------------------------------------------------- diagonal controls


def test_the_diagonal_controls_have_the_stated_diagonals():
    field = mf.synthetic_field(50, seed=1)
    off = ~np.eye(50, dtype=bool)
    member_seed = 123

    def start(name: str) -> np.ndarray:
        return mv.initial_weights(vocab.Variant.parse(name), field, np.random.default_rng(mv.init_seed(member_seed,
                                                                                                      name)))

    bio = start("W*D*C")
    assert (np.diag(bio) > 0).all() and (bio[off] > 0).any()
    zeroed = start("W*offD*C")
    assert np.all(np.diag(zeroed) == 0) and np.array_equal(zeroed[off], bio[off])
    shuffled = start("W*shufD*C")
    assert np.array_equal(np.diag(shuffled), np.diag(bio))
    assert np.array_equal(np.sort(shuffled[off]), np.sort(bio[off])) and not np.array_equal(shuffled[off], bio[off])
    alone = start("W*diagD*C")
    assert np.array_equal(np.diag(alone), np.diag(bio)) and np.all(alone[off] == 0)
    assert np.array_equal(start("W0D*C"), 0.95 * np.eye(50))
    # the C* controls are cut from the W* of W*D*C*, not of W*D*C
    assert np.array_equal(np.diag(start("W*diagD*C*")), np.diag(start("W*D*C*")))
    assert not np.array_equal(np.diag(start("W*diagD*C*")), np.diag(bio))


def test_controls_are_named_in_the_vocabulary_with_distinct_slugs():
    inits = {vocab.Variant.parse(name).init for name in vocab.CONTROLS}
    assert inits == set(vocab.DIAGONAL_INITS)
    assert vocab.Variant.parse("W*shufD*C*") == vocab.Variant("W*shuf", "D*", "C*")
    assert vocab.slug("W*offD*C") == "Wbiooff-Dsoma-Ccomm" and vocab.slug("W*diagD*C*") == "Wbiodiag-Dsoma-Cemd"
    slugs = [vocab.slug(name) for name in vocab.VARIANTS + vocab.CONTROLS]
    assert len(set(slugs)) == len(slugs)
    with pytest.raises(InputError, match="unknown MICrONS variant"):
        vocab.Variant.parse("W*offD")  # a combination that is not declared


def test_on_field_6_6_2_the_bio_init_is_mostly_its_diagonal():
    """The reason for the controls (issue 15): W* puts ~99% of its squared norm on the diagonal."""
    field = mf.load_field(ROOT / MICRONS_SHIPPED, "6_6_2", INF_MD)
    from brainrnn.microns.train import initial_structure

    bio = initial_structure(mv.bio_init(field, np.random.default_rng(0)))
    assert bio["init_diagonal_share"] > 0.97 and bio["init_spectral_radius"] == pytest.approx(0.95)


# ----------------------------------------------------------------------------- the penalties' diagonal


def test_the_diagonal_option_frees_it_in_every_penalty():
    field = mf.synthetic_field(30, seed=2)
    diagonal_only = torch.diag_embed(torch.rand(1, 30) + 0.5)
    off_diagonal = torch.rand(1, 30, 30) * (1 - torch.eye(30))
    for name in ("W", "WD*", "WD", "WD*C", "W*D*C*"):
        for mode in ("faithful", "corrected"):
            as_source = mv.make_penalty(vocab.Variant.parse(name), field, mode, strength=0.3, emd_strength=0.1,
                                        diagonal="as_source")
            free = mv.make_penalty(vocab.Variant.parse(name), field, mode, strength=0.3, emd_strength=0.1,
                                   diagonal="free")
            with torch.no_grad():
                # off the diagonal the two treatments agree; self-connections cost nothing when free
                assert float(free(off_diagonal)) == pytest.approx(float(as_source(off_diagonal)), rel=1e-6)
                if name != "W*D*C*":  # the C* term compares distributions, not entries
                    assert float(free(diagonal_only)) == 0.0, (name, mode)
    # matched mode matches the free L1 penalty (its own factor) to the reference at the matching point
    point = mv.matching_point(field, 5)
    reference = mv.make_penalty(vocab.Variant.parse("W*D*C"), field, "corrected", strength=0.3, emd_strength=0.1,
                                diagonal="free")
    matched = mv.make_penalty(vocab.Variant.parse("W"), field, "matched", strength=0.3, emd_strength=0.1,
                              diagonal="free", match_seed=5)
    assert float(matched(point)) == pytest.approx(float(reference(point)), rel=1e-5)
    l1 = mv.make_penalty(vocab.Variant.parse("W"), field, "corrected", strength=0.3, emd_strength=0.1,
                         diagonal="as_source")
    assert float(l1(diagonal_only)) == pytest.approx(0.3 * float(diagonal_only.sum()))  # the notebook charges it
    with pytest.raises(InputError, match="penalty_diagonal"):
        mv.make_penalty(vocab.Variant.parse("W"), field, "corrected", strength=0.3, emd_strength=0.1,
                        diagonal="charged")


# ----------------------------------------------------------------------------- communicability orientation


def _hand_communicability(presynaptic_rows: np.ndarray, strength: str) -> np.ndarray:
    """expm(S^-½ A S^-½) with zero diagonal, A with rows presynaptic; S out- (row sums) or in-strengths."""
    sums = presynaptic_rows.sum(axis=1 if strength == "out" else 0)
    scale = np.diag(sums**-0.5)
    value = expm(scale @ presynaptic_rows @ scale)
    np.fill_diagonal(value, 0.0)
    return value


@pytest.mark.parametrize("strength", ["out", "in"])
def test_communicability_matches_a_hand_computation_in_both_orientations(strength):
    # 0 → 1 (2.0), 0 → 2 (0.5), 1 → 2 (1.0), 2 → 0 (3.0), 1 → 0 (0.25): out-strengths 2.5, 1.25, 3.0
    presynaptic_rows = np.array([[0.0, 2.0, 0.5], [0.25, 0.0, 1.0], [3.0, 0.0, 0.0]])
    hand = _hand_communicability(presynaptic_rows, strength)
    as_connectome = communicability(torch.tensor(presynaptic_rows).unsqueeze(0), orientation="pre_post",
                                    strength=strength)[0].numpy()
    assert np.allclose(as_connectome, hand, rtol=1e-10)
    # the same network as a LeakyRNN matrix (W[i, j] from j to i): the same values, transposed
    as_rnn = communicability(torch.tensor(presynaptic_rows.T).unsqueeze(0), orientation="post_pre",
                             strength=strength)[0].numpy()
    assert np.allclose(as_rnn, hand.T, rtol=1e-10)
    other = "in" if strength == "out" else "out"
    assert not np.allclose(hand, _hand_communicability(presynaptic_rows, other))  # the choice matters here


def test_microns_penalties_use_out_strengths_and_gradreg_keeps_in_strengths():
    weight = torch.rand(1, 8, 8, dtype=torch.float64) * torch.tensor([1.0, 3.0, 0.2, 1.0, 5.0, 1.0, 0.5, 2.0])
    out_strength = communicability(weight, orientation="post_pre", strength="out")
    assert torch.equal(mv.model_communicability(weight), out_strength)
    # LeakyRNN's out-strength of unit j is the sum of column j: the transpose read with rows presynaptic
    assert torch.allclose(out_strength, communicability(weight.transpose(1, 2), orientation="pre_post",
                                                        strength="out").transpose(1, 2))
    distance = torch.rand(1, 8, 8, dtype=torch.float64)
    in_strength = communicability(weight, orientation="post_pre", strength="in")
    cost = wiring_cost(weight, distance, torch.tensor([0.3], dtype=torch.float64), with_communicability=True)
    assert torch.allclose(cost, 0.3 * (weight.abs() * distance * in_strength).sum(dim=(-2, -1)))


# ----------------------------------------------------------------------------- the faithful protocol


def _schedule(mode: str, *, train_trials: int = 40, noise: float = 0.05, task: str = "go_nogo") -> MicronsSchedule:
    settings = section("microns", input_noise=noise, training={"batch_size": 16, "eval_trials": 64,
                                                               "train_trials": train_trials})
    return MicronsSchedule.build(task, settings, [11, 12], mode=mode, eval_seed=5)


def test_faithful_mode_scores_the_last_step_only():
    schedule = _schedule("faithful")
    batch, task = schedule.sample()
    for scored in (batch.mask.bool(), batch.decision, schedule.held_out.mask.bool(), schedule.held_out.decision):
        assert scored[-1].all() and not scored[:-1].any()
    # the loss is the cross-entropy of the final step alone: changing any earlier output leaves it unchanged
    outputs = torch.randn(batch.n_steps, 2, 16, 2)
    final = torch.nn.functional.cross_entropy(outputs[-1].reshape(-1, 2), batch.labels.reshape(-1),
                                              reduction="none").reshape(2, 16).mean(dim=-1)
    assert torch.allclose(task.loss(outputs, batch), final)
    earlier = outputs.clone()
    earlier[:-1] = torch.randn_like(earlier[:-1])
    assert torch.equal(task.loss(earlier, batch), task.loss(outputs, batch))
    corrected, _ = _schedule("corrected").sample()
    assert int(corrected.mask[:, 0, 0].sum()) == 5  # the whole response epoch (5 steps of Go/NoGo)


def test_faithful_mode_trains_on_one_fixed_set_in_the_notebooks_order():
    schedule = _schedule("faithful", train_trials=40, noise=0.0)
    assert schedule.batches_per_epoch == 3  # 16 + 16 + 8 trials, as tf.data's batch(16) cuts 40
    epoch = [schedule.sample()[0] for _ in range(3)]
    again = [schedule.sample()[0] for _ in range(3)]
    assert [batch.labels.shape[-1] for batch in epoch] == [16, 16, 8]  # (members, trials)
    for first, second in zip(epoch, again, strict=True):
        assert torch.equal(first.inputs, second.inputs) and torch.equal(first.labels, second.labels)
    assert not torch.equal(epoch[0].labels, epoch[1].labels)  # different trials within an epoch
    assert not torch.equal(epoch[0].inputs[:, 0], epoch[0].inputs[:, 1])  # each member has its own set
    fresh = _schedule("corrected", noise=0.0)
    batches = [fresh.sample()[0] for _ in range(4)]
    assert not torch.equal(batches[0].labels, batches[3].labels)  # corrected mode: new trials every step


def test_input_noise_is_drawn_at_training_only_and_fresh_every_epoch():
    for mode in vocab.MODES:
        schedule = _schedule(mode, noise=0.05)
        held_out = schedule.held_out.inputs
        assert set(held_out.unique().tolist()) <= {0.0, 1.0}, mode  # Go/NoGo inputs without noise
        batch = schedule.sample()[0]
        noise = batch.inputs - batch.inputs.round()
        assert float(noise.std()) == pytest.approx(0.05, rel=0.1), mode
    faithful = _schedule("faithful", noise=0.05)
    first = [faithful.sample()[0] for _ in range(faithful.batches_per_epoch)][0]
    second = faithful.sample()[0]
    difference = second.inputs - first.inputs  # the same clean trials, two independent noise draws
    assert torch.equal(first.inputs.round(), second.inputs.round())
    assert float(difference.std()) == pytest.approx(0.05 * np.sqrt(2), rel=0.1)


def test_the_fixed_set_survives_a_resumed_run(tmp_path):
    """A checkpoint stores the position in the fixed set: resuming ends where an uninterrupted run ends."""
    settings = section("microns", training={"batch_size": 16, "eval_trials": 64, "train_trials": 40, "steps": 5,
                                            "eval_every": 5, "checkpoint_every": 2})

    def run(steps: int, checkpoint) -> torch.Tensor:
        schedule = MicronsSchedule.build("go_nogo", settings, [3], mode="faithful", eval_seed=1)
        model = LeakyRNN(RNNShape(n_inputs=3, n_hidden=12, n_outputs=2, activation="relu", dt_ms=1.0, tau_ms=1.0),
                         [3])
        options = TrainingOptions.from_config({**settings["training"], "steps": steps})
        train_ensemble(model, schedule, options, checkpoint=checkpoint)
        return model.recurrent.detach().clone()

    whole = run(5, None)
    run(3, tmp_path / "checkpoint.pt")  # stops after the checkpoint at step 2 and one more step
    assert torch.allclose(run(5, tmp_path / "checkpoint.pt"), whole, atol=1e-6)


def test_faithful_runs_learn_go_nogo_from_the_fixed_set_and_are_scored_on_the_last_step():
    field = mf.synthetic_field(40, seed=3)
    settings = section("microns", n_degree_nulls=2, training={"steps": 60, "batch_size": 32, "eval_every": 20,
                                                              "eval_trials": 256, "train_trials": 320})
    nulls = null_statistics(field.n_neurons, 0.1, n_nulls=2)
    run = train_variant(field, "W0D*C", "go_nogo", "faithful", [0], 7, settings, nulls)
    assert run.metrics[0]["final_accuracy"] > 0.9  # the diagonal control solves Go/NoGo in 60 steps
    assert run.metrics[0]["test_trials"] == 256 and run.metrics[0]["chance_level"] == 0.5


def test_matched_runs_of_the_references_penalty_are_the_corrected_runs():
    field = mf.synthetic_field(30, seed=4)
    settings = section("microns", n_degree_nulls=2, training={"steps": 3, "batch_size": 16, "eval_every": 3,
                                                              "eval_trials": 32})
    nulls = null_statistics(field.n_neurons, 0.1, n_nulls=2)
    corrected = train_variant(field, "W*diagD*C", "go_nogo", "corrected", [0], 2, settings, nulls)
    matched = train_variant(field, "W*diagD*C", "go_nogo", "matched", [0], 2, settings, nulls)
    assert matched.metrics[0]["lambda"] == corrected.metrics[0]["lambda"] == 0.3
    assert torch.equal(matched.model.recurrent, corrected.model.recurrent)


# ----------------------------------------------------------------------------- degree-preserving nulls


def test_degree_preserving_nulls_keep_every_degree_and_rewire():
    rng = np.random.default_rng(0)
    binary = (strongest(rng.random((60, 60))) > 0).astype(float)
    nulls = degree_preserving_nulls(binary, 4, seed=9)
    for null in nulls:
        assert np.array_equal(null, null.T) and not np.diag(null).any()
        assert np.array_equal(null.sum(axis=0), binary.sum(axis=0))
        assert (null != binary).mean() > 0.05
    assert not np.array_equal(nulls[0], nulls[1])
    assert all(np.array_equal(a, b) for a, b in zip(nulls, degree_preserving_nulls(binary, 4, seed=9), strict=True))


def test_a_hub_graph_is_small_world_against_erdos_renyi_but_not_against_its_degrees():
    """Clustering that only follows from a heavy-tailed degree sequence: σ > 1 against ER nulls, ≈ 1 against
    degree-preserving ones; a ring lattice with shortcuts is small-world against both."""
    rng = np.random.default_rng(3)
    n = 80
    propensity = rng.pareto(1.5, n) + 1.0
    hubs = rng.random((n, n)) < np.clip(0.04 * np.outer(propensity, propensity), 0, 1)
    hubs = np.triu(hubs, 1)
    weight = (hubs | hubs.T) * (1.0 + rng.random((n, n)))
    density = (strongest(weight) > 0).sum() / (n * (n - 1))
    er = null_statistics(n, density, n_nulls=10, seed=1)
    measures = graph_measures(weight, er, seed=2, n_degree_nulls=10)
    assert measures["small_worldness"] > 1.3 and measures["small_worldness_degree"] == pytest.approx(1.0, abs=0.2)
    lattice = np.zeros((n, n))
    for offset in range(1, 5):
        lattice[np.arange(n), (np.arange(n) + offset) % n] = 1.0
    lattice = np.maximum(lattice, lattice.T) * (1.0 + 0.01 * rng.random((n, n)))
    shortcuts = rng.choice(n, size=(6, 2))
    lattice[shortcuts[:, 0], shortcuts[:, 1]] = lattice[shortcuts[:, 1], shortcuts[:, 0]] = 1.0
    density = (strongest(lattice) > 0).sum() / (n * (n - 1))
    ring = graph_measures(lattice, null_statistics(n, density, n_nulls=10, seed=1), seed=2, n_degree_nulls=10)
    assert ring["small_worldness"] > 1.5 and ring["small_worldness_degree"] > 1.5


# ----------------------------------------------------------------------------- the shipped field


def test_the_shipped_field_matches_its_manifest_checksums_and_loads_offline(tmp_path):
    manifest = read_manifest(MANIFEST, ("field", "file", "url", "sha256"), ("field", "file"))
    rows = manifest[manifest["field"] == "6_6_2"]
    assert sorted(rows["file"]) == sorted(name.format(field="6_6_2") for name in vocab.FIELD_FILES)
    shipped = ROOT / MICRONS_SHIPPED
    mf.verify_checksums(shipped, "6_6_2", dict(zip(rows["file"], rows["sha256"], strict=True)), manifest="m.tsv")
    assert (shipped / "6_6_2" / "LICENSE").read_text().startswith("MIT License")
    assert "arXiv:2606.14975" in (shipped / "6_6_2" / "ATTRIBUTION.md").read_text()
    field = mf.load_field(shipped, "6_6_2", INF_MD)
    quality = field.quality()
    assert field.n_neurons == 312 and field.grid == (12, 13, 2)
    assert quality["mean_distance_connected_um"] < 0.5 * quality["mean_distance_all_um"]
    # a damaged copy is refused with the file named
    (tmp_path / "6_6_2").mkdir()
    for name in rows["file"]:
        (tmp_path / "6_6_2" / name).write_bytes((shipped / "6_6_2" / name).read_bytes())
    with open(tmp_path / "6_6_2" / "corr_matrix.npy", "ab") as stream:
        stream.write(b"\0")
    with pytest.raises(InputError, match="checksum mismatch.*corr_matrix.npy|corr_matrix.npy.*checksum mismatch"):
        mf.verify_checksums(tmp_path, "6_6_2", dict(zip(rows["file"], rows["sha256"], strict=True)), manifest="m")


def test_the_shipped_source_refuses_a_field_that_is_not_shipped(monkeypatch):
    monkeypatch.chdir(ROOT)
    manifest = read_manifest(MANIFEST, ("field", "file", "url", "sha256"), ("field", "file"))
    check_shipped_fields(["6_6_2", "synthetic"], manifest, str(MANIFEST))
    with pytest.raises(InputError, match="field 6_6_8 is not shipped.*6_6_2"):
        check_shipped_fields(["6_6_8"], manifest, str(MANIFEST))


# ----------------------------------------------------------------------------- summary: intervals and tests


def _runs(values: dict[tuple[str, str], np.ndarray], *, mode: str = "corrected") -> pd.DataFrame:
    """Per-run rows shaped like the workflow's for (variant, task) → accuracies, one per seed."""
    rows = []
    for (variant, task), accuracies in values.items():
        for seed, accuracy in enumerate(accuracies):
            rows.append({"mode": mode, "field": "6_6_2", "variant": variant, "task": task, "seed": seed,
                         "final_accuracy": accuracy, "test_trials": 1024, "chance_level": 0.5, "lambda": 0.3,
                         "lambda_emd": 0.1, "penalty_diagonal": "as_source",
                         **{measure: 0.5 + 0.01 * seed for measure in ms.MEASURES if measure != "final_accuracy"}})
    return pd.DataFrame(rows)


def test_the_declared_contrasts_pair_bio_variants_with_w_and_their_own_controls():
    contrasts = ms.declared_contrasts(["W*D*C", "W", "W0D*C", "W*diagD*C", "W*D*C*", "W*offD*C*", "WD*", "W!D*C"])
    pairs = {(c.variant, c.baseline, c.kind) for c in contrasts}
    assert pairs == {("W*D*C", "W", "baseline W"), ("W*D*C", "W0D*C", "diagonal control"),
                     ("W*D*C", "W*diagD*C", "diagonal control"), ("W*D*C*", "W", "baseline W"),
                     ("W*D*C*", "W*offD*C*", "diagonal control"), ("W!D*C", "W", "baseline W"),
                     ("W!D*C", "W0D*C", "diagonal control"), ("W!D*C", "W*diagD*C", "diagonal control")}


def test_a_planted_advantage_is_found_and_a_diagonal_that_explains_it_is_not_a_difference():
    rng = np.random.default_rng(1)
    runs = _runs({("W*D*C", "go_nogo"): np.clip(rng.normal(0.97, 0.02, 12), 0, 1),
                  ("W*diagD*C", "go_nogo"): np.clip(rng.normal(0.97, 0.02, 12), 0, 1),
                  ("W", "go_nogo"): np.clip(rng.normal(0.5, 0.01, 12), 0, 1)})
    tests = ms.contrast_tests(runs, seed=3, n_permutations=2000)
    accuracy = tests[tests["family"] == "accuracy"].set_index("baseline")
    assert accuracy.loc["W", "significant"] and accuracy.loc["W", "difference"] == pytest.approx(0.47, abs=0.03)
    assert accuracy.loc["W", "difference_ci_low"] > 0.4 and accuracy.loc["W", "difference_ci_high"] < 0.55
    assert not accuracy.loc["W*diagD*C", "significant"]
    assert accuracy.loc["W*diagD*C", "difference_ci_low"] < 0 < accuracy.loc["W*diagD*C", "difference_ci_high"]
    # Holm: the adjusted p is at least the raw one, and the graph family is corrected on its own
    assert (tests["p_holm"] >= tests["p"] - 1e-12).all()
    graph = tests[tests["family"] == "graph"]
    assert set(graph["measure"]) == set(ms.FAMILIES["graph"]) and set(graph["baseline"]) == {"W"}
    for family in ms.FAMILIES:
        chosen = tests[tests["family"] == family]
        assert np.allclose(chosen["p_holm"], holm(chosen["p"].to_numpy()))


def test_null_contrasts_keep_the_family_wise_error_rate():
    """On data without any difference, at most ~5% of studies (Holm over their contrasts) claim one."""
    rng = np.random.default_rng(4)
    claims = 0
    studies = 150
    for study in range(studies):
        values = {(variant, task): rng.normal(0.8, 0.05, 8) for variant in ("W*D*C", "W!D*C", "W", "W0D*C")
                  for task in ("go_nogo", "one_choice")}
        tests = ms.contrast_tests(_runs(values), seed=study, n_permutations=200)
        claims += bool(tests.loc[tests["family"] == "accuracy", "significant"].any())
    assert claims / studies < 0.1


def test_the_difference_interval_covers_the_true_difference_at_about_the_nominal_rate():
    rng = np.random.default_rng(5)
    covered = 0
    repeats = 400
    for repeat in range(repeats):
        first, second = rng.normal(1.0, 1.0, 10), rng.normal(0.3, 2.0, 12)
        low, high = ms.difference_ci(first, second, seed=repeat, n_resamples=1000)
        covered += low <= 0.7 <= high
    assert 0.9 <= covered / repeats <= 0.99


def test_the_summary_carries_intervals_and_the_above_chance_rate():
    runs = _runs({("W*D*C", "go_nogo"): np.array([1.0, 0.99, 0.5, 1.0]), ("W", "go_nogo"): np.full(4, 0.5)})
    summary = ms.describe_conditions(runs.assign(above_chance=[ms.above_chance(a, 1024, 0.5)
                                                               for a in runs["final_accuracy"]]), seed=1)
    bio = summary.set_index("variant").loc["W*D*C"]
    assert bio["final_accuracy_mean"] == pytest.approx(0.8725)
    assert bio["final_accuracy_ci_low"] < bio["final_accuracy_mean"] < bio["final_accuracy_ci_high"]
    assert bio["above_chance_rate"] == 0.75 and bio["above_chance_ci_low"] < 0.75 < bio["above_chance_ci_high"]
    assert summary.set_index("variant").loc["W", "above_chance_rate"] == 0.0
    for measure in ms.MEASURES:
        assert {f"{measure}_{part}" for part in ("mean", "sem", "ci_low", "ci_high")} <= set(summary.columns)
    # 0.53 of 1024 trials beats 0.5 (one-sided p ≈ 0.03) only at a looser level than ours; 0.55 does
    assert not ms.above_chance(0.53, 1024, 0.5) and ms.above_chance(0.55, 1024, 0.5)
    assert ms.above_chance(0.7, 1024, 0.625) and not ms.above_chance(0.63, 1024, 0.625)


def test_chance_levels_are_the_ignore_the_cue_levels():
    assert vocab.chance_level("go_nogo", "any") == 0.5 and vocab.chance_level("one_choice", "other") == 0.5
    assert vocab.chance_level("one_choice", "any") == 0.625
    trials = make_task("one_choice", input_noise=0.0, distractor="any").sample(4000, torch.Generator().manual_seed(1))
    last = score_last_step(trials)
    assert last.decision[-1].all() and float((1.0 / trials.inputs[-1, :, 4:].sum(-1)).mean()) == pytest.approx(
        vocab.chance_level("one_choice", "any"), abs=0.02)


def test_every_mode_has_a_protocol_and_only_faithful_departs_from_ours():
    assert set(vocab.PROTOCOLS) == set(vocab.MODES)
    assert vocab.PROTOCOLS["faithful"] == vocab.Protocol("last", True)
    assert {vocab.PROTOCOLS[mode] for mode in ("corrected", "matched")} == {vocab.Protocol("response", False)}


# ----------------------------------------------------------------------------- figures show the intervals


def test_the_figures_draw_each_interval_and_mark_the_significant_contrasts():
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    from brainrnn.microns.figures import MicronsResults, draw_contrasts, draw_microns_measure
    from brainrnn.stats import mean_ci

    accuracies = {"W*D*C": [0.9, 0.95, 1.0], "W": [0.48, 0.5, 0.53]}
    runs = pd.DataFrame([{"mode": "corrected", "variant": variant, "task": "go_nogo", "seed": seed,
                          "final_accuracy": value} for variant, values in accuracies.items()
                         for seed, value in enumerate(values)])
    summary = pd.DataFrame([{"mode": "corrected", "variant": "W*D*C", "task": "go_nogo", "final_accuracy_mean": 0.95,
                             "final_accuracy_ci_low": 0.9, "final_accuracy_ci_high": 0.99},
                            {"mode": "corrected", "variant": "W", "task": "go_nogo", "final_accuracy_mean": 0.5,
                             "final_accuracy_ci_low": 0.48, "final_accuracy_ci_high": 0.52}])
    tests = pd.DataFrame([{"family": "accuracy", "mode": "corrected", "task": "go_nogo", "measure": "final_accuracy",
                           "variant": "W*D*C", "baseline": baseline, "difference": difference,
                           "difference_ci_low": difference - 0.05, "difference_ci_high": difference + 0.05,
                           "significant": significant}
                          for baseline, difference, significant in (("W", 0.45, True), ("W0D*C", 0.0, False))])
    microns = MicronsResults(summary=summary, runs=runs, tests=tests, reported=pd.DataFrame(),
                             variants=["W*D*C", "W"], tasks=["go_nogo"])
    figure, (left, right) = plt.subplots(1, 2)
    draw_microns_measure(left, microns, "final_accuracy", "accuracy")
    spans = sorted(tuple(np.round(segment[:, 1], 6)) for collection in left.collections
                   if isinstance(collection, LineCollection) for segment in collection.get_segments()
                   if segment[0, 0] == segment[1, 0])
    # one interval per variant: the expanded-bootstrap CI of its seeds (strip's seed: task index + position)
    expected = sorted(tuple(np.round(mean_ci(np.array(values), seed=position), 6))
                      for position, values in enumerate(accuracies.values()))
    assert spans == expected and all(low < high for low, high in spans)
    draw_contrasts(right, microns, "accuracy")
    points = [line for line in right.lines if np.size(line.get_xdata()) == 1]
    assert [(float(line.get_xdata()[0]), line.get_fillstyle()) for line in points] == [(0.45, "full"), (0.0, "none")]
    assert [label.get_text() for label in right.get_yticklabels()] == ["go nogo, corrected: W*D*C − W",
                                                                       "go nogo, corrected: W*D*C − W0D*C"]
    plt.close(figure)


@pytest.mark.parametrize("task_name", ["go_nogo", "parametric"])
def test_chunked_evaluation_equals_one_pass(task_name):
    """evaluate() runs 256 trials at a time (memory); a 600-trial batch scores as one forward pass does."""
    from brainrnn.tasks.base import stack_batches
    from brainrnn.training import EVAL_CHUNK_TRIALS, evaluate

    task = make_task(task_name)
    model = LeakyRNN(RNNShape(n_inputs=task.n_inputs, n_hidden=20, n_outputs=task.n_outputs), [1, 2])
    batch = stack_batches([task.sample(600, torch.Generator().manual_seed(seed)) for seed in (3, 4)])
    assert batch.labels.shape[-1] > 2 * EVAL_CHUNK_TRIALS
    accuracy, loss = evaluate(model, task, batch)
    with torch.no_grad():
        outputs, _ = model(batch.inputs, running=batch.running)
    assert torch.equal(accuracy, task.accuracy(outputs, batch))
    assert torch.allclose(loss, task.loss(outputs, batch), rtol=1e-5)
