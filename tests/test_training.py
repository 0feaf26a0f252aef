"""The engine: ensemble equivalence, resume after kill -9, checkpoint safety, hooks, a solved task."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from torch import nn

from brainrnn.errors import InputError
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.persistence import load_checked, load_member, save_member
from brainrnn.tasks.registry import make_task

from conftest import train_fixed

TASK = {"dt_ms": 40.0, "n_stimuli": 2}


def _setup(seeds, n_hidden=32, **shape_options):
    torch.set_num_threads(1)
    task = make_task("dms", **TASK)
    shape = RNNShape(task.n_inputs, n_hidden, task.n_outputs, dt_ms=40.0, **shape_options)
    return task, LeakyRNN(shape, seeds)


def test_a_trained_network_solves_dms_on_held_out_trials():
    task, model = _setup([12, 13], n_hidden=64)
    schedule, _ = train_fixed(model, task, [12, 13], eval_seed=99, steps=200, learning_rate=0.01, eval_every=25)
    final = schedule.history(schedule.HISTORY).groupby("member")["eval_accuracy"].last()
    assert (final > 0.9).all(), final.tolist()  # chance is 0.5
    assert all(step is not None for step in schedule.reached)


def test_ensemble_members_match_training_each_member_alone():
    seeds = [3, 4, 5]
    options = {"steps": 40, "learning_rate": 0.01, "eval_every": 20}
    task, ensemble = _setup(seeds)
    joint, _ = train_fixed(ensemble, task, seeds, eval_seed=7, **options)
    joint_history = joint.history(joint.HISTORY)
    for member, seed in enumerate(seeds):
        _, alone = _setup([seed])
        single, _ = train_fixed(alone, task, [seed], eval_seed=7, **options)
        for name, value in alone.state_dict().items():
            assert torch.allclose(ensemble.state_dict()[name][member], value[0], atol=1e-4, rtol=1e-4), name
        assert single.history(single.HISTORY)["eval_loss"].to_numpy() == pytest.approx(
            joint_history.loc[joint_history["member"] == member, "eval_loss"].to_numpy(), rel=1e-3)


def test_members_start_identically_whatever_the_ensemble():
    _, pair = _setup([8, 9])
    _, alone = _setup([9])
    assert torch.equal(pair.recurrent[1], alone.recurrent[0]) and not torch.equal(pair.recurrent[0], pair.recurrent[1])


RESUME_SCRIPT = """
import sys, torch
from pathlib import Path
sys.path[:0] = [{src!r}, {tests!r}]
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.tasks.registry import make_task
from conftest import train_fixed
torch.set_num_threads(1)
task = make_task("dms", dt_ms=40.0, n_stimuli=2)
model = LeakyRNN(RNNShape(task.n_inputs, 32, task.n_outputs, dt_ms=40.0), [1, 2])
train_fixed(model, task, [1, 2], eval_seed=3, checkpoint=Path({checkpoint!r}), config_hash="abc", steps={steps},
            learning_rate=0.01, eval_every=10, checkpoint_every=10)
torch.save(model.state_dict(), {out!r})
"""


def test_kill_minus_nine_then_rerun_gives_the_uninterrupted_weights(tmp_path, root):
    steps = 200
    checkpoint = tmp_path / "ckpt.pt"
    script = tmp_path / "train.py"
    script.write_text(RESUME_SCRIPT.format(src=str(root / "src"), tests=str(root / "tests"), steps=steps,
                                           checkpoint=str(checkpoint),
                                           out=str(tmp_path / "final.pt")))
    process = subprocess.Popen([sys.executable, str(script)])
    deadline = time.time() + 120
    while not checkpoint.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    assert process.poll() is None, "training finished before it could be killed; raise the step count"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = load_checked(checkpoint, "abc")["step"]
    assert 0 < killed_at < steps and not (tmp_path / "final.pt").exists()
    resumed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    script.write_text(RESUME_SCRIPT.format(src=str(root / "src"), tests=str(root / "tests"), steps=steps,
                                           checkpoint=str(tmp_path / "fresh.pt"),
                                           out=str(tmp_path / "uninterrupted.pt")))
    subprocess.run([sys.executable, str(script)], check=True, timeout=300)
    after_resume = torch.load(tmp_path / "final.pt", weights_only=True)
    uninterrupted = torch.load(tmp_path / "uninterrupted.pt", weights_only=True)
    for name, value in uninterrupted.items():
        assert torch.equal(after_resume[name], value), name


def test_corrupted_and_foreign_checkpoints_are_refused(tmp_path):
    task, model = _setup([1])
    checkpoint = tmp_path / "ckpt.pt"
    train_fixed(model, task, [1], eval_seed=3, checkpoint=checkpoint, config_hash="one", steps=10, eval_every=5,
                checkpoint_every=10)
    with pytest.raises(InputError, match="another configuration") as caught:
        train_fixed(model, task, [1], eval_seed=3, checkpoint=checkpoint, config_hash="two", steps=20, eval_every=5)
    assert str(checkpoint) in str(caught.value)
    checkpoint.write_bytes(checkpoint.read_bytes()[:200])
    with pytest.raises(InputError, match="corrupted or unreadable"):
        load_checked(checkpoint, "one")


def test_saved_members_reload_with_weights_only_and_refuse_a_mismatch(tmp_path):
    _, model = _setup([1, 2])
    save_member(model, 1, tmp_path / "m.pt", config_hash="h1", meta={"task": "dms"})
    reloaded, meta = load_member(tmp_path / "m.pt", config_hash="h1")
    assert meta == {"task": "dms"} and torch.equal(reloaded.recurrent[0], model.recurrent[1])
    with pytest.raises(InputError, match="another configuration"):
        load_member(tmp_path / "m.pt", config_hash="h2")


def test_a_saved_member_has_the_same_bytes_whatever_its_file_name(tmp_path):
    _, model = _setup([1, 2])
    save_member(model, 0, tmp_path / "a.pt", config_hash="h", meta={})
    (tmp_path / "run2").mkdir()
    save_member(model, 0, tmp_path / "run2" / "other_name.pt", config_hash="h", meta={})
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "run2" / "other_name.pt").read_bytes()


def test_frozen_recurrent_weights_stay_bitwise_identical():
    task, model = _setup([1])
    before = model.recurrent.detach().clone()
    readout_before = model.readout_weight.detach().clone()
    model.freeze("recurrent")
    train_fixed(model, task, [1], eval_seed=3, steps=20, eval_every=10)
    assert torch.equal(model.recurrent, before)
    assert not torch.equal(model.readout_weight, readout_before)


def test_a_closed_group_steps_like_a_frozen_one_under_clipping():
    """Closing a group for one member gives that member the update it gets with the group frozen: the
    closed gradient is left out of the clipping norm (the clip binds; the rate makes the step ~0.1)."""
    from brainrnn.tasks.base import stack_batches
    from brainrnn.training import TrainingOptions, make_optimiser, train_step

    task, frozen = _setup([4])
    _, closed = _setup([4])
    options = TrainingOptions(steps=1, learning_rate=100.0, optimiser="sgd", momentum=0.1, clip_grad_norm=1e-3,
                              recurrent_noise=None, eval_every=1, checkpoint_every=1)
    batch = stack_batches([task.sample(16, torch.Generator().manual_seed(5))])
    frozen.freeze("recurrent")
    trainable = [parameter for parameter in frozen.parameters() if parameter.requires_grad]
    train_step(frozen, make_optimiser(trainable, options), trainable, batch, task, clip_grad_norm=1e-3)
    everything = list(closed.parameters())
    recurrent_before = closed.recurrent.detach().clone()
    train_step(closed, make_optimiser(everything, options), everything, batch, task, clip_grad_norm=1e-3,
               closed=[([closed.recurrent], torch.tensor([False]))])
    assert torch.equal(closed.recurrent, recurrent_before)
    for name in ("input_weight", "bias", "readout_weight", "readout_bias"):
        assert torch.allclose(getattr(closed, name), getattr(frozen, name), atol=1e-6), name
    assert (frozen.readout_weight - _setup([4])[1].readout_weight).abs().max() > 1e-3  # the step is not tiny


def test_low_rank_recurrence():
    task, model = _setup([1], rank=2)
    train_fixed(model, task, [1], eval_seed=3, steps=10, eval_every=5)
    assert int(torch.linalg.matrix_rank(model.recurrent_weight[0].detach())) <= 2
    assert "recurrent" in model.parameter_groups() and model.left.grad is not None


class ConstantBias(nn.Module):
    """A learnable per-member additive bias: the simplest bias hook."""

    def __init__(self, members: int, units: int) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.zeros(members, units))

    def forward(self, state: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return self.value.unsqueeze(1).expand_as(state)


def test_bias_hook_shifts_the_dynamics_and_learns():
    task = make_task("dms", **TASK)
    shape = RNNShape(task.n_inputs, 16, task.n_outputs, dt_ms=40.0)
    hook = ConstantBias(1, 16)
    model = LeakyRNN(shape, [1], bias_hook=hook)
    batch = task.sample(4, torch.Generator().manual_seed(0))
    baseline, _ = model(batch.inputs)
    with torch.no_grad():
        hook.value.fill_(0.5)
    shifted, _ = model(batch.inputs)
    assert not torch.allclose(baseline, shifted)
    assert "hook" in model.parameter_groups()
    train_fixed(model, task, [1], eval_seed=3, steps=5, eval_every=5)
    assert not torch.allclose(hook.value, torch.full_like(hook.value, 0.5))


def test_stop_at_criterion_freezes_members_that_learned():
    task, model = _setup([12, 13], n_hidden=64)
    schedule, _ = train_fixed(model, task, [12, 13], eval_seed=99, steps=300, learning_rate=0.01, eval_every=25,
                              criterion=0.9, stop_at_criterion=True)
    history = schedule.history(schedule.HISTORY)
    for member, reached in enumerate(schedule.reached):
        assert reached is not None
        assert history.loc[history["member"] == member, "step"].max() == reached


def test_hooks_are_saved_and_rebuilt_through_the_registry(tmp_path):
    from brainrnn.models.hooks import HOOKS, register_hook

    task = make_task("dms", **TASK)
    shape = RNNShape(task.n_inputs, 16, task.n_outputs, dt_ms=40.0)
    with pytest.raises(ValueError, match="not registered"):
        save_member(LeakyRNN(shape, [1], bias_hook=ConstantBias(1, 16)), 0, tmp_path / "m.pt", config_hash="h",
                    meta={})

    @register_hook
    class Registered(ConstantBias):
        kind = "constant"

        def describe(self):
            return {"units": self.value.shape[1]}

        @classmethod
        def rebuild(cls, description):
            return cls(1, description["units"])

    try:
        model = LeakyRNN(shape, [1], bias_hook=Registered(1, 16))
        with torch.no_grad():
            model.bias_hook.value.fill_(0.25)
        save_member(model, 0, tmp_path / "m.pt", config_hash="h", meta={})
        reloaded, _ = load_member(tmp_path / "m.pt")
        assert isinstance(reloaded.bias_hook, Registered)
        assert torch.equal(reloaded.bias_hook.value, model.bias_hook.value)
    finally:
        HOOKS.pop("constant")


def test_a_checkpoint_of_an_older_format_is_refused_with_the_fix(tmp_path):
    task, model = _setup([1])
    checkpoint = tmp_path / "ckpt.pt"
    torch.save({"config_hash": "h", "model": model.state_dict(), "step": 3}, checkpoint)
    with pytest.raises(InputError, match="older version.*delete it") as caught:
        train_fixed(model, task, [1], eval_seed=3, checkpoint=checkpoint, config_hash="h", steps=5)
    assert str(checkpoint) in str(caught.value)
