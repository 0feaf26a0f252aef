"""Working-memory tasks: shapes, epochs, labels against a brute-force definition, determinism."""

from __future__ import annotations

import pytest
import torch

from brainrnn.errors import InputError
from brainrnn.tasks import CATALOGUE
from brainrnn.tasks.base import stack_batches
from brainrnn.tasks.registry import TASKS, make_task

TIMING = {"dt_ms": 20.0, "fixation_ms": 100.0, "sample_ms": 100.0, "delays_ms": [200.0, 400.0], "test_ms": 100.0,
          "input_noise": 0.0}


def test_every_catalogued_task_is_registered_and_every_registered_task_catalogued():
    assert set(TASKS) == set(CATALOGUE)
    for name, cls in TASKS.items():
        assert cls.info is CATALOGUE[name] and cls.info.suite and cls.info.source


@pytest.mark.parametrize("name, settings, expected", [
    ("dms", {"n_stimuli": 3}, ["fixation", "stimulus 0", "stimulus 1", "stimulus 2"]),
    ("parametric", {}, ["fixation", "amplitude"]),
    ("ndms", {}, ["bit"]),
    ("one_choice", {}, [f"goal {k}" for k in range(4)] + [f"choice {k}" for k in range(4)]),
    ("perceptual_dm", {}, ["fixation", "evidence 1", "evidence 2"]),
])
def test_tasks_name_their_input_channels(name, settings, expected):
    task = make_task(name, **settings)
    assert task.input_names == expected and len(task.input_names) == task.n_inputs


def test_every_task_has_its_analysis_epoch():
    for name, cls in TASKS.items():
        task = make_task(name)
        batch = task.sample(4, torch.Generator().manual_seed(0))
        assert cls.info.analysis_epoch in batch.epochs, name


def test_registry_and_unknown_names():
    assert {"dms", "parametric"} <= set(TASKS)
    with pytest.raises(InputError, match="unknown task 'dmz'.*dms"):
        make_task("dmz")


def test_dms_labels_match_a_per_trial_definition():
    task = make_task("dms", n_stimuli=3, **TIMING)
    batch = task.sample(200, torch.Generator().manual_seed(0))
    stim = batch.inputs[..., 1:]
    for trial in range(batch.batch_size):
        sample = stim[batch.epochs["sample"][:, trial], trial].mean(0).argmax()
        test = stim[batch.epochs["test"][:, trial], trial].mean(0).argmax()
        expected = 1 if sample == test else 2
        assert int(batch.labels[trial]) == expected
        assert (batch.targets[batch.epochs["test"][:, trial], trial] == expected).all()
        assert (batch.targets[~batch.epochs["test"][:, trial], trial] == 0).all()
        # fixation cue on until the test epoch, off during it
        assert (batch.inputs[batch.epochs["delay"][:, trial], trial, 0] == 1).all()
        assert (batch.inputs[batch.epochs["test"][:, trial], trial, 0] == 0).all()
        # nothing is shown during the delay: the memory has to be held
        assert (stim[batch.epochs["delay"][:, trial], trial] == 0).all()
    assert 0.35 < float((batch.labels == 1).float().mean()) < 0.65


def test_epochs_partition_each_trial_and_delays_come_from_the_list():
    task = make_task("dms", **TIMING)
    batch = task.sample(64, torch.Generator().manual_seed(1))
    covered = sum(mask.int() for mask in batch.epochs.values())
    assert covered.max() == 1
    delays = set(batch.epochs["delay"].sum(0).tolist())
    assert delays <= {10, 20} and len(delays) == 2
    # steps after a short trial carry no loss
    assert (batch.mask[covered == 0] == 0).all()


def test_parametric_targets_hold_the_sample_value():
    task = make_task("parametric", value_range=[0.2, 1.0], tolerance=0.1, **TIMING)
    batch = task.sample(50, torch.Generator().manual_seed(2))
    for trial in range(50):
        sample = batch.inputs[batch.epochs["sample"][:, trial], trial, 1]
        assert torch.allclose(sample, batch.labels[trial].expand_as(sample))
        assert torch.allclose(batch.targets[batch.epochs["test"][:, trial], trial, 0], batch.labels[trial])
    assert batch.labels.min() >= 0.2 and batch.labels.max() <= 1.0


def test_same_generator_seed_same_batch_and_different_seed_different_batch():
    task = make_task("dms", **{**TIMING, "input_noise": 0.1})
    first = task.sample(16, torch.Generator().manual_seed(5))
    again = task.sample(16, torch.Generator().manual_seed(5))
    other = task.sample(16, torch.Generator().manual_seed(6))
    assert torch.equal(first.inputs, again.inputs) and not torch.equal(first.inputs, other.inputs)


def test_accuracy_of_a_perfect_and_a_constant_answer():
    task = make_task("dms", **TIMING)
    batch = stack_batches([task.sample(100, torch.Generator().manual_seed(3))])
    perfect = torch.nn.functional.one_hot(batch.targets, 3).float() * 10
    assert float(task.accuracy(perfect, batch)[0]) == 1.0
    constant = torch.zeros_like(perfect)
    constant[..., 1] = 10.0  # always "match"
    assert abs(float(task.accuracy(constant, batch)[0]) - float((batch.labels == 1).float().mean())) < 1e-6
    assert float(task.loss(perfect, batch)[0]) < 1e-3


def test_sine_targets_follow_the_frequency_the_input_holds():
    task = make_task("sine", dt_ms=10.0, duration_ms=1000.0, frequency_range_hz=(1.0, 10.0), input_noise=0.0)
    batch = task.sample(64, torch.Generator().manual_seed(0))
    assert ((batch.labels >= 1.0) & (batch.labels <= 10.0)).all() and batch.labels.std() > 2.0
    torch.testing.assert_close(batch.inputs[..., 0], (batch.labels / 10.0).expand(100, -1))
    # the target's zero crossings per second are twice its frequency
    crossings = ((batch.targets[1:, :, 0] > 0) != (batch.targets[:-1, :, 0] > 0)).sum(dim=0).float()
    assert ((crossings - 2 * batch.labels).abs() <= 1.5).all()
    fixed = make_task("sine", frequency_hz=4.0).sample(3, torch.Generator().manual_seed(1))
    assert (fixed.labels == 4.0).all()


def test_sine_accuracy_scores_the_rms_error_of_each_trial():
    task = make_task("sine", frequency_hz=5.0, tolerance=0.25)
    batch = stack_batches([task.sample(8, torch.Generator().manual_seed(2))])
    assert float(task.accuracy(batch.targets, batch)[0]) == 1.0
    assert float(task.accuracy(torch.zeros_like(batch.targets), batch)[0]) == 0.0  # RMS of a sine is 0.71
    assert float(task.accuracy(batch.targets + 0.2, batch)[0]) == 1.0
