"""Cortico-cerebellar RNNs: parameter matching, task labels, curriculum, freezing, ablation, dimensionality."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from brainrnn.cbrnn import analysis, summary
from brainrnn.cbrnn import model as cbm
from brainrnn.cbrnn.train import CurriculumOptions, LevelCurriculum, pad_left, run_group
from brainrnn.models.cerebellum import Cerebellum
from brainrnn.persistence import load_member, save_member
from brainrnn.tasks.registry import make_task
from brainrnn.training import train_ensemble

from conftest import section

CONFIG = cbm.CBConfig.from_config(section("cbrnn"))


def options(**overrides):
    """Curriculum options at the schema defaults, some overridden."""
    return CurriculumOptions.from_config(section("cbrnn.curriculum", **overrides))


def curriculum(model, settings, seeds, *, frozen=None, start=None, checkpoint=None, config_hash=""):
    """Train ``model`` through the ndms curriculum with the one trainer; return the schedule."""
    schedule = LevelCurriculum(model, "ndms", seeds, settings, start_level=start or settings.start_level,
                               frozen_core=frozen)
    train_ensemble(model, schedule, settings.trainer(), checkpoint=checkpoint, config_hash=config_hash)
    return schedule


SMALL = options(epochs=12, train_steps=20, test_steps=4, optimiser="adam", learning_rate=1e-3)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_parameter_counts_match_within_one_percent_and_the_source_sizes():
    config = CONFIG
    with_cerebellum = cbm.count_parameters(cbm.build_model("cbrnn", config, [0]))
    plain = cbm.build_model("rnn", config, [0])
    plain_count = cbm.count_parameters(plain)
    assert abs(plain_count - with_cerebellum) / with_cerebellum < 0.01
    # the source counts 41,922 with PyTorch's two recurrent biases; we keep one (64 fewer)
    assert with_cerebellum == 41_922 - 64
    assert plain.shape.n_hidden in (202, 203)
    neighbours = [cbm.plain_rnn_parameters(h, 1, 2) for h in (plain.shape.n_hidden - 1, plain.shape.n_hidden + 1)]
    assert all(abs(count - with_cerebellum) >= abs(plain_count - with_cerebellum) for count in neighbours)


@pytest.mark.parametrize("name", ["ndms", "parity"])
@pytest.mark.parametrize("n_back", [1, 2, 3, 5])
def test_sequence_labels_match_a_brute_force_definition(name, n_back):
    task = make_task(name, n_back=n_back)
    batch = task.sample(300, torch.Generator().manual_seed(n_back))
    lengths = batch.running.sum(dim=0)
    assert lengths.min() >= n_back + 2 and lengths.max() < 4 * n_back + 2
    for trial in range(300):
        sequence = [int(bit > 0) for bit in batch.inputs[batch.running[:, trial], trial, 0].tolist()]
        assert len(sequence) == int(lengths[trial])
        expected = int(sequence[-n_back] == sequence[-1]) if name == "ndms" else sum(sequence[-n_back:]) % 2
        assert int(batch.labels[trial]) == expected
    assert (batch.mask[:-1] == 0).all() and (batch.mask[-1] == 1).all()


def test_padding_holds_the_state_so_members_at_other_levels_do_not_interfere():
    config = CONFIG
    model = cbm.build_model("cbrnn", config, [0])
    task = make_task("ndms", n_back=2)
    batch = task.sample(8, torch.Generator().manual_seed(0))
    padded = pad_left(batch, batch.n_steps + 7)
    short, _ = model(batch.inputs, running=batch.running)
    long, _ = model(padded.inputs, running=padded.running)
    assert torch.allclose(short[-1], long[-1], atol=1e-6)


def test_a_short_curriculum_gets_past_n_equals_3_on_dms():
    model = cbm.build_model("cbrnn", CONFIG, [0])
    schedule = curriculum(model, SMALL, [0])
    assert max(schedule.levels) > 3, schedule.history(schedule.HISTORY).tail()
    assert schedule.level_one_epoch[0] is not None


def test_freezing_keeps_the_core_bitwise_and_trains_the_cerebellum():
    config = CONFIG
    model = cbm.build_model("cbrnn", config, [0, 1])
    core_before = {name: value.detach().clone() for name, value in model.named_parameters()
                   if not name.startswith("bias_hook") and not name.startswith("readout")}
    cerebellum_before = {name: value.detach().clone() for name, value in model.bias_hook.named_parameters()}
    curriculum(model, options(epochs=2, train_steps=5, test_steps=1), [0, 1], frozen="reservoir", start=3)
    for name, value in model.named_parameters():
        if name in core_before:
            assert torch.equal(value, core_before[name]), name
    assert any(not torch.equal(value, cerebellum_before[name]) for name, value in model.bias_hook.named_parameters())


def test_interleaved_opens_the_core_only_on_its_levels():
    def schedule(frozen):
        return LevelCurriculum(cbm.build_model("cbrnn", CONFIG, [0]), "ndms", [0], options(interleave_every=10),
                               start_level=2, frozen_core=frozen)

    assert not schedule("reservoir").core_learns(12)
    interleaved = schedule("interleaved")
    assert [level for level in range(2, 30) if interleaved.core_learns(level)] == [12, 22]
    assert schedule(None).core_learns(3)


def test_ablation_changes_the_outputs_of_a_trained_cb_rnn(tmp_path):
    model = cbm.build_model("cbrnn", CONFIG, [0])
    curriculum(model, options(epochs=3, train_steps=20, test_steps=2, optimiser="adam", learning_rate=1e-3), [0])
    save_member(model, 0, tmp_path / "m.pt", config_hash="x", meta={})
    reloaded, _ = load_member(tmp_path / "m.pt")
    assert isinstance(reloaded.bias_hook, Cerebellum)
    batch = make_task("ndms", n_back=3).sample(64, torch.Generator().manual_seed(1))
    intact, _ = reloaded(batch.inputs, running=batch.running)
    reloaded.bias_hook.enabled = False
    ablated, _ = reloaded(batch.inputs, running=batch.running)
    assert not torch.allclose(intact, ablated, atol=1e-4)
    reloaded.bias_hook.enabled = True
    table = analysis.ablation_accuracy(reloaded, "ndms", range(2, 4), trials=64, seed=0)
    assert set(table["condition"]) == {"intact", "no_cerebellum", "reinitialised_cerebellum"}
    assert len(table) == 6 and table["accuracy"].between(0, 1).all()
    assert torch.equal(reloaded(batch.inputs, running=batch.running)[0], intact)  # restored afterwards


def test_participation_ratio_and_timescale_of_known_signals():
    rng = np.random.default_rng(0)
    isotropic = rng.standard_normal((5000, 10))
    assert analysis.participation_ratio(isotropic) == pytest.approx(10, rel=0.05)
    one_dimensional = np.outer(rng.standard_normal(5000), rng.standard_normal(10))
    assert analysis.participation_ratio(one_dimensional) == pytest.approx(1.0, rel=1e-6)
    rho = np.exp(-1 / 4.0)
    series = np.zeros((400, 50, 3))
    for t in range(1, 400):
        series[t] = rho * series[t - 1] + np.sqrt(1 - rho**2) * rng.standard_normal((50, 3))
    running = np.ones((400, 50), dtype=bool)
    assert analysis.lag_one_timescale(series, running) == pytest.approx(4.0, rel=0.1)


def test_curriculum_metrics_and_epochs_to_level():
    levels = np.array([2, 2, 3, 3, 4, 6])
    metrics = summary.curriculum_metrics(levels)
    assert metrics["max_level"] == 6 and metrics["final_level"] == 6
    assert metrics["mean_level"] == pytest.approx(levels.mean()) and metrics["auc"] == pytest.approx(
        np.trapezoid(levels))
    assert summary.epochs_to_level(levels, 3) == 3 and np.isnan(summary.epochs_to_level(levels, 7))


def test_dimensionality_reports_every_module():
    model = cbm.build_model("cbrnn", CONFIG, [0])
    table = analysis.dimensionality(model, "ndms", 3, trials=64, seed=0)
    assert list(table["module"]) == ["core", "granule", "purkinje"]
    assert (table["participation_ratio"] >= 1).all()


def test_ensemble_curriculum_matches_members_alone():
    settings = options(epochs=3, train_steps=5, test_steps=2)
    pair = cbm.build_model("cbrnn", CONFIG, [5, 6])
    curriculum(pair, settings, [5, 6])
    alone = cbm.build_model("cbrnn", CONFIG, [6])
    curriculum(alone, settings, [6])
    for name, value in alone.state_dict().items():
        assert torch.allclose(pair.state_dict()[name][1], value[0], atol=1e-5), name


def test_run_group_refuses_unknown_groups():
    with pytest.raises(ValueError, match="unknown group"):
        run_group("cerebellum", {}, [0], 0)


def test_a_subject_network_seeds_the_core_and_the_baseline_is_matched_to_it():
    from brainrnn.models.rnn import LeakyRNN, RNNShape

    subject_network = LeakyRNN(RNNShape(n_inputs=3, n_hidden=80, n_outputs=3), [7])
    config = CONFIG
    model = cbm.build_model("cbrnn", config, [0, 1], core=subject_network)
    assert model.shape.n_hidden == 80 and model.bias_hook.shape.n_core == 80
    assert torch.equal(model.recurrent[1], subject_network.recurrent[0])
    plain = cbm.build_model("rnn", config, [0], core=subject_network)
    with_cerebellum = cbm.count_parameters(model)
    assert abs(cbm.count_parameters(plain) - with_cerebellum) / with_cerebellum < 0.01
    run = run_group("cbrnn", section("cbrnn", curriculum={"epochs": 1, "train_steps": 2, "test_steps": 1}), [0], 1,
                    core=subject_network)
    assert run.metrics[0]["hidden"] == 80


def test_a_crashed_curriculum_resumes_from_its_checkpoint_and_ends_as_if_uninterrupted(tmp_path, monkeypatch):
    settings = options(epochs=6, train_steps=5, test_steps=2, optimiser="adam", learning_rate=1e-2)
    uninterrupted = cbm.build_model("cbrnn", CONFIG, [3, 4])
    expected = curriculum(uninterrupted, settings, [3, 4])

    checkpoint = tmp_path / "curriculum.pt"
    accuracy, calls = LevelCurriculum.test_accuracy, []

    def crash_in_epoch_four(self, model):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("node lost")
        return accuracy(self, model)

    monkeypatch.setattr(LevelCurriculum, "test_accuracy", crash_in_epoch_four)
    with pytest.raises(RuntimeError, match="node lost"):
        curriculum(cbm.build_model("cbrnn", CONFIG, [3, 4]), settings, [3, 4], checkpoint=checkpoint,
                   config_hash="h")
    assert torch.load(checkpoint, weights_only=True)["step"] == 3 * settings.train_steps
    monkeypatch.setattr(LevelCurriculum, "test_accuracy", accuracy)
    resumed_model = cbm.build_model("cbrnn", CONFIG, [3, 4])
    resumed = curriculum(resumed_model, settings, [3, 4], checkpoint=checkpoint, config_hash="h")
    for name, value in uninterrupted.state_dict().items():
        assert torch.equal(resumed_model.state_dict()[name], value), name
    assert resumed.levels == expected.levels and resumed.level_one_epoch == expected.level_one_epoch
    assert resumed.history(resumed.HISTORY).equals(expected.history(expected.HISTORY))
    expected_level_one = expected.level_one_state(uninterrupted)
    for name, value in resumed.level_one_state(resumed_model).items():
        assert torch.equal(value, expected_level_one[name]), name
    with pytest.raises(Exception, match="another configuration"):
        curriculum(cbm.build_model("cbrnn", CONFIG, [3, 4]), settings, [3, 4], checkpoint=checkpoint,
                   config_hash="other")
