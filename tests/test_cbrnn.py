"""Cortico-cerebellar RNNs: parameter matching, task labels, curriculum, freeze protocol, one epoch axis,
ablation beside the plain RNN, dimensionality, and the summary's intervals and declared contrasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from brainrnn import cbrnn
from brainrnn.cbrnn import analysis, summary
from brainrnn.cbrnn import model as cbm
from brainrnn.cbrnn.train import CurriculumOptions, FreezeOptions, LevelCurriculum, pad_left, run_group
from brainrnn.models.cerebellum import Cerebellum
from brainrnn.persistence import load_member, save_member
from brainrnn.stats import holm, proportion_ci
from brainrnn.tasks.base import stack_batches
from brainrnn.tasks.registry import make_task
from brainrnn.training import train_ensemble

from conftest import section

CONFIG = cbm.CBConfig.from_config(section("cbrnn"))


def options(**overrides):
    """Curriculum options at the schema defaults, some overridden."""
    return CurriculumOptions.from_config(section("cbrnn.curriculum", **overrides))


def curriculum(model, settings, seeds, *, freeze_group=None, freeze=None, checkpoint=None, config_hash=""):
    """Train ``model`` through the ndms curriculum with the one trainer; return the schedule."""
    schedule = LevelCurriculum(model, "ndms", seeds, settings, freeze_group=freeze_group, freeze=freeze)
    train_ensemble(model, schedule, settings.trainer(), checkpoint=checkpoint, config_hash=config_hash)
    return schedule


SMALL = options(epochs=12, train_steps=20, test_steps=4, optimiser="adam", learning_rate=1e-3)
SHORT = {"epochs": 4, "train_steps": 20, "test_steps": 2, "optimiser": "adam", "learning_rate": 1e-3}
"""Long enough for both seeds used below to pass level 1 before the last epoch."""
CORE = ("input_weight", "recurrent", "bias")


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


def test_the_freeze_and_level_one_modes_name_parameter_groups_of_the_cb_rnn():
    groups = set(cbm.build_model("cbrnn", CONFIG, [0]).parameter_groups())
    for names in [*cbrnn.FREEZE_MODES.values(), *cbrnn.LEVEL_ONE_MODES.values()]:
        assert set(names) <= groups
    assert "hook" not in cbrnn.LEVEL_ONE_MODES["core_readout"] and "readout" in cbrnn.LEVEL_ONE_MODES["core_readout"]


@pytest.mark.parametrize("freeze", ["recurrent_only", "whole_core"])
def test_a_freeze_group_learns_level_one_without_its_cerebellum_then_holds_the_frozen_core(freeze):
    model = cbm.build_model("cbrnn", CONFIG, [0, 1])
    initial = {name: value.detach().clone() for name, value in model.state_dict().items()}
    schedule = curriculum(model, options(**SHORT), [0, 1], freeze_group="reservoir",
                          freeze=FreezeOptions(freeze=freeze, level_one="core_readout"))
    assert all(epoch is not None and epoch < SHORT["epochs"] for epoch in schedule.level_one_epoch)
    level_one, final = schedule.snapshot(model, 2), model.state_dict()
    cerebellum = [name for name in final if name.startswith("bias_hook.")]
    for name in cerebellum:  # level 1 trained core + readout only
        assert torch.equal(level_one[name], initial[name]), name
    for name in [*CORE, "readout_weight"]:
        assert not torch.equal(level_one[name], initial[name]), name
    held = {"recurrent"} if freeze == "recurrent_only" else set(CORE)
    for name in CORE:  # then the held groups kept their level-one values bitwise, the others learned on
        assert torch.equal(final[name], level_one[name]) == (name in held), name
    assert all(not torch.equal(final[name], level_one[name]) for name in cerebellum)
    history = schedule.history(schedule.HISTORY)
    for member, epoch in enumerate(schedule.level_one_epoch):
        phases = history.loc[history["member"] == member].set_index("epoch")["phase"]
        assert set(phases[phases.index <= epoch]) == {"level_one"} and set(phases[phases.index > epoch]) == {"frozen"}


def test_every_group_runs_on_one_epoch_axis_and_everything_in_level_one_continues_from_the_cb_rnn():
    settings = section("cbrnn", level_one="everything", curriculum=SHORT)
    runs = {group: run_group(group, settings, [0, 1], 3) for group in cbrnn.GROUPS}
    for group, run in runs.items():
        for member, metrics in enumerate(run.metrics):
            history = run.history[run.history["member"] == member]
            assert list(history["epoch"]) == list(range(1, SHORT["epochs"] + 1)), group
            assert metrics["auc"] == pytest.approx(np.trapezoid(history["level"]))
    reference = runs["cbrnn"]
    for group in cbrnn.FROZEN_GROUPS:
        run = runs[group]
        assert [m["level_one_epoch"] for m in run.metrics] == [m["level_one_epoch"] for m in reference.metrics]
        for member, metrics in enumerate(run.metrics):
            rows = run.history[(run.history["member"] == member)].set_index("epoch")
            before = rows.index <= metrics["level_one_epoch"]
            assert set(rows.loc[before, "phase"]) == {"level_one"}
            assert "level_one" not in set(rows.loc[~before, "phase"])
            same = reference.history[reference.history["member"] == member].set_index("epoch").loc[before]
            assert np.allclose(rows.loc[before, "test_accuracy"], same["test_accuracy"], atol=1e-6)
            assert list(rows.loc[before, "level"]) == list(same["level"])
        for name, value in run.snapshots[2].items():
            assert torch.allclose(value, reference.snapshots[2][name], atol=1e-5), (group, name)


def test_a_snapshot_at_an_analysis_level_is_the_network_that_solved_it():
    """Level 3 is passed by both seeds within six epochs; level 9 by neither (its files hold the final state)."""
    settings = section("cbrnn", analysis_levels=[3, 9], curriculum={**SHORT, "epochs": 6})
    run = run_group("cbrnn", settings, [0, 1], 3)
    assert all(metrics["level_3_epoch"] is not None and metrics["level_9_epoch"] is None for metrics in run.metrics)
    task = make_task("ndms", n_back=3)
    batch = stack_batches([task.sample(512, torch.Generator().manual_seed(11))] * 2)
    outputs, _ = run.snapshot_model(3)(batch.inputs, running=batch.running)
    assert (task.accuracy(outputs, batch) > 0.9).all()
    for name, value in run.model.state_dict().items():
        assert torch.equal(run.snapshots[9][name], value), name


def test_interleaved_opens_the_frozen_core_only_on_its_levels():
    def schedule(group):
        protocol = FreezeOptions(freeze="recurrent_only", level_one="core_readout")
        return LevelCurriculum(cbm.build_model("cbrnn", CONFIG, [0]), "ndms", [0], options(interleave_every=10),
                               freeze_group=group, freeze=protocol)

    assert not schedule("reservoir").core_learns(13)
    interleaved = schedule("interleaved")
    assert [level for level in range(2, 40) if interleaved.core_learns(level)] == [13, 23, 33]
    interleaved.passed_epoch[2] = [1]
    interleaved.levels = [13]
    assert interleaved.phase(0) == "core_open" and interleaved.learns("recurrent", 0)
    interleaved.levels = [14]
    assert interleaved.phase(0) == "frozen" and not interleaved.learns("recurrent", 0)
    assert interleaved.learns("input", 0) and interleaved.learns("hook", 0)
    end_to_end = LevelCurriculum(cbm.build_model("cbrnn", CONFIG, [0]), "ndms", [0], options())
    assert end_to_end.phase(0) == "end_to_end" and end_to_end.learns("recurrent", 0)
    with pytest.raises(ValueError, match="freeze group"):
        LevelCurriculum(cbm.build_model("cbrnn", CONFIG, [0]), "ndms", [0], options(), freeze_group="cbrnn")


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
    plain = cbm.build_model("rnn", CONFIG, [0])
    table = analysis.ablation_accuracy(reloaded, plain, "ndms", 3, trials=64, seed=0)
    assert list(table["condition"]) == [*cbrnn.ABLATION_CONDITIONS, cbrnn.PLAIN_RNN] and set(table["level"]) == {3}
    accuracy = table.set_index("condition")["accuracy"]
    assert accuracy["intact"] == analysis.accuracy_at(reloaded, "ndms", 3, trials=64, seed=0)
    assert accuracy[cbrnn.PLAIN_RNN] == analysis.accuracy_at(plain, "ndms", 3, trials=64, seed=0)
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


def _runs(rng, seeds, shift):
    """Per-run measures of every group over ``seeds``; the CB-RNN and the freeze groups shifted by ``shift``."""
    rows = []
    for group in cbrnn.GROUPS:
        offset = 0.0 if group == "rnn" else shift
        for seed in seeds:
            rows.append({"group": group, "seed": seed, "max_level": 5 + offset + rng.normal(),
                         "auc": 100 + 10 * offset + rng.normal(0, 5), "epochs_to_half_max": 20 - offset + rng.normal()})
    return pd.DataFrame(rows)


def _analyses(rng, seeds, drop, level=3):
    """Ablation (intact minus ``drop`` without cerebellum; the plain RNN like the ablated CB-RNN) and core
    dimensionality at one level, every network passed."""
    ablation = pd.DataFrame([{"seed": seed, "level": level, "condition": condition, "passed": True,
                              "accuracy": 0.9 - (drop if condition in ("no_cerebellum", cbrnn.PLAIN_RNN) else 0)
                              + rng.normal(0, 0.03)}
                             for seed in seeds for condition in [*cbrnn.ABLATION_CONDITIONS, cbrnn.PLAIN_RNN]])
    dimensionality = pd.DataFrame([{"group": group, "seed": seed, "level": level, "module": "core", "passed": True,
                                    "participation_ratio": rng.normal(4, 1), "timescale_steps": rng.normal(2, 0.5)}
                                   for group in cbrnn.GROUPS for seed in seeds])
    return ablation, dimensionality


def test_declared_contrasts_find_planted_effects_with_holm_within_each_claim():
    rng = np.random.default_rng(3)
    seeds = list(range(10))
    ablation, dimensionality = _analyses(rng, seeds, drop=0.3)
    tests = summary.contrast_tests(_runs(rng, seeds, shift=3.0), ablation, dimensionality, levels=[3],
                                   n_permutations=2000, seed=0)
    assert set(tests["claim"]) == set(summary.CLAIMS)
    verdicts = tests.groupby("claim")["verdict"].agg(set)
    for claim in ("cbrnn_vs_rnn", "freeze_vs_rnn", "ablation_drop"):  # planted, large against the noise
        assert verdicts[claim] == {"supported"}, tests[tests["claim"] == claim]
    paired = tests[tests["design"] == "paired"]
    assert (paired["n_a"] == 10).all() and set(paired["claim"]) == {"freeze_vs_cbrnn", "ablation_drop"}
    drop = tests[tests["claim"] == "ablation_drop"].iloc[0]
    assert drop["difference"] == pytest.approx(0.3, abs=0.03)
    for _, block in tests.groupby("claim"):
        assert np.allclose(block["p_holm"], holm(block["p"].to_numpy()), equal_nan=True)


def test_declared_families_hold_their_error_rate_on_null_data():
    """No effect anywhere: each claim's family rejects at most ~5% of the time (Holm), over 120 null studies."""
    rng = np.random.default_rng(4)
    seeds = list(range(8))
    rejections = []
    for _ in range(120):
        ablation, dimensionality = _analyses(rng, seeds, drop=0.0)
        tests = summary.contrast_tests(_runs(rng, seeds, shift=0.0), ablation, dimensionality, levels=[3],
                                       n_permutations=200, seed=int(rng.integers(1 << 31)))
        rejections.append(tests.groupby("claim")["p_holm"].min() < summary.ALPHA)
    rate = pd.DataFrame(rejections).mean()
    assert (rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 120)).all(), rate


def test_summaries_leave_out_networks_that_never_passed_and_report_pass_rates():
    rng = np.random.default_rng(5)
    ablation, dimensionality = _analyses(rng, [0, 1, 2, 3], drop=0.2)
    ablation.loc[(ablation["seed"] == 3) & (ablation["condition"] != cbrnn.PLAIN_RNN), "passed"] = False
    ablation.loc[(ablation["seed"] == 3) & (ablation["condition"] != cbrnn.PLAIN_RNN), "accuracy"] = 0.0
    table = summary.summarise_ablation(ablation, seed=0).set_index("condition")
    assert table.at["intact", "n_seeds"] == 3 and table.at[cbrnn.PLAIN_RNN, "n_seeds"] == 4
    kept = ablation[ablation["seed"] < 3].pivot_table(index="seed", columns="condition", values="accuracy")
    assert table.at["no_cerebellum", "drop_from_intact_mean"] == pytest.approx(
        (kept["intact"] - kept["no_cerebellum"]).mean())
    runs = _runs(rng, range(10), shift=1.0).assign(n_parameters=1, final_level=5, mean_level=4.0,
                                                   level_one_epoch=1.0)
    runs["level_3_epoch"] = [float(index) if index % 10 < 7 else np.nan for index in range(len(runs))]
    histories = pd.DataFrame([{"group": row.group, "seed": row.seed, "epoch": epoch, "level": 2 + epoch // 3}
                              for row in runs.itertuples() for epoch in range(1, 7)])
    _, groups = summary.summarise_runs(runs.drop(columns="epochs_to_half_max"), histories, [3], seed=0)
    row = groups.set_index("group").loc["cbrnn"]
    assert row["passed_level_3_rate"] == 0.7
    assert (row["passed_level_3_ci_low"], row["passed_level_3_ci_high"]) == pytest.approx(proportion_ci(7, 10))
    assert row["passed_level_one_rate"] == 1.0
    values = runs.loc[runs["group"] == "cbrnn", "max_level"]
    assert row["max_level_mean"] == pytest.approx(values.mean())
    assert row["max_level_ci_low"] < values.mean() < row["max_level_ci_high"]


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
    """A freeze group: the phase of each member (before or after level 1) comes back with the checkpoint."""
    settings = options(epochs=6, train_steps=5, test_steps=2, optimiser="adam", learning_rate=1e-2)
    protocol = {"freeze_group": "reservoir", "freeze": FreezeOptions(freeze="recurrent_only", level_one="core_readout")}
    uninterrupted = cbm.build_model("cbrnn", CONFIG, [3, 4])
    expected = curriculum(uninterrupted, settings, [3, 4], **protocol)
    assert any(epoch is not None and epoch < 4 for epoch in expected.level_one_epoch)  # the crash is mid-protocol

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
                   config_hash="h", **protocol)
    assert torch.load(checkpoint, weights_only=True)["step"] == 3 * settings.train_steps
    monkeypatch.setattr(LevelCurriculum, "test_accuracy", accuracy)
    resumed_model = cbm.build_model("cbrnn", CONFIG, [3, 4])
    resumed = curriculum(resumed_model, settings, [3, 4], checkpoint=checkpoint, config_hash="h", **protocol)
    for name, value in uninterrupted.state_dict().items():
        assert torch.equal(resumed_model.state_dict()[name], value), name
    assert resumed.levels == expected.levels and resumed.level_one_epoch == expected.level_one_epoch
    assert resumed.passed_epoch == expected.passed_epoch
    assert resumed.history(resumed.HISTORY).equals(expected.history(expected.HISTORY))
    expected_level_one = expected.snapshot(uninterrupted, 2)
    for name, value in resumed.snapshot(resumed_model, 2).items():
        assert torch.equal(value, expected_level_one[name]), name
    with pytest.raises(Exception, match="another configuration"):
        curriculum(cbm.build_model("cbrnn", CONFIG, [3, 4]), settings, [3, 4], checkpoint=checkpoint,
                   config_hash="other", **protocol)
