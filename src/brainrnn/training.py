"""Seeded, resumable training of an ensemble of RNNs as one batched model.

Each member has its own data stream (a ``torch.Generator`` seeded from the member's seed), its
own recurrent noise, its own gradient clipping and, with Adam's element-wise updates, its own
optimiser trajectory: training an ensemble gives each member the weights it would get if trained
alone, within float tolerance. A checkpoint (model, optimiser, generator states, history) is
written atomically every ``checkpoint_every`` steps; rerunning after a crash — even ``kill -9`` —
resumes from it and ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch

from brainrnn.errors import InputError
from brainrnn.io import atomic_path
from brainrnn.models.rnn import LeakyRNN
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import Task, TaskBatch, stack_batches

LOG = logging.getLogger(__name__)
Penalty = Callable[[LeakyRNN], torch.Tensor]
"""Maps the model to one regularisation value per member, shape (members,)."""


@dataclass(frozen=True)
class TrainingOptions:
    """Hyperparameters of the trainer (see the config schema for their meaning)."""

    steps: int = 1000
    batch_size: int = 64
    learning_rate: float = 1e-3
    clip_grad_norm: float | None = 1.0
    recurrent_noise: float = 0.05
    eval_every: int = 25
    eval_trials: int = 256
    criterion: float = 0.9
    stop_at_criterion: bool = False
    checkpoint_every: int = 100
    plateau_fraction: float = 0.2

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainingResult:
    """Per-member outcome: evaluation history and learning measures."""

    history: pd.DataFrame
    steps_to_criterion: list[int | None]
    plateau_loss: list[float]
    steps_run: int


def train_ensemble(model: LeakyRNN, task: Task, options: TrainingOptions, member_seeds: Sequence[int], *,
                   eval_seed: int, penalty: Penalty | None = None, checkpoint: Path | None = None,
                   config_hash: str = "") -> TrainingResult:
    """Train every member of ``model`` on ``task``; resume from ``checkpoint`` when it exists."""
    members = model.members
    if len(member_seeds) != members:
        raise ValueError(f"{len(member_seeds)} seeds for {members} members")
    generators = [torch.Generator().manual_seed(derive_seed(seed, "data")) for seed in member_seeds]
    held_out = task.sample(options.eval_trials, torch.Generator().manual_seed(eval_seed))
    held_out = stack_batches([held_out] * members)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimiser = torch.optim.Adam(trainable, lr=options.learning_rate)
    step, rows, reached, running = 0, [], [None] * members, torch.zeros(2, members)
    if checkpoint is not None and checkpoint.exists():
        step, rows, reached, running = _load_checkpoint(checkpoint, model, optimiser, generators, config_hash)
        LOG.info("resumed from %s at step %d", checkpoint, step)
    active = torch.tensor([value is None for value in reached]) if options.stop_at_criterion else torch.ones(
        members, dtype=torch.bool)
    while step < options.steps and bool(active.any()):
        batch = stack_batches([task.sample(options.batch_size, generator) for generator in generators])
        noise = torch.stack([torch.randn(batch.inputs.shape[0], options.batch_size, model.shape.n_hidden,
                                         generator=generator) for generator in generators], dim=1)
        outputs, _ = model(batch.inputs, noise=options.recurrent_noise * noise, running=batch.running)
        task_loss = task.loss(outputs, batch)
        regulariser = penalty(model) if penalty is not None else torch.zeros(members)
        optimiser.zero_grad(set_to_none=False)
        (task_loss + regulariser).sum().backward()
        if options.clip_grad_norm is not None:
            clip_per_member(trainable, options.clip_grad_norm)
        frozen = {id(p): p.detach().clone() for p in trainable} if not bool(active.all()) else {}
        optimiser.step()
        if frozen:
            _restore_inactive(trainable, frozen, active)
        running += torch.stack([(task_loss + regulariser).detach(), task.accuracy(outputs.detach(), batch)])
        step += 1
        if step % options.eval_every == 0 or step == options.steps:
            accuracy, loss = evaluate(model, task, held_out)
            train_loss, train_accuracy = running / (step - (step - 1) // options.eval_every * options.eval_every)
            running = torch.zeros(2, members)
            for member in range(members):
                if not bool(active[member]):
                    continue
                rows.append({"member": member, "step": step, "train_loss": float(train_loss[member]),
                             "train_accuracy": float(train_accuracy[member]),
                             "penalty": float(regulariser[member].detach()), "eval_loss": float(loss[member]),
                             "eval_accuracy": float(accuracy[member])})
                if reached[member] is None and float(accuracy[member]) >= options.criterion:
                    reached[member] = step
            LOG.info("step %d/%d  loss %s  accuracy %s", step, options.steps,
                     _fmt(loss), _fmt(accuracy))
            if options.stop_at_criterion:
                active = torch.tensor([value is None for value in reached])
        if checkpoint is not None and step % options.checkpoint_every == 0:
            _save_checkpoint(checkpoint, model, optimiser, generators, step, rows, reached, running, config_hash)
    history = pd.DataFrame(rows, columns=["member", "step", "train_loss", "train_accuracy", "penalty", "eval_loss",
                                          "eval_accuracy"])
    return TrainingResult(history, reached, _plateau(history, members, options.plateau_fraction), step)


@torch.no_grad()
def evaluate(model: LeakyRNN, task: Task, batch: TaskBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise-free accuracy and loss per member on a fixed batch."""
    outputs, _ = model(batch.inputs, running=batch.running)
    return task.accuracy(outputs, batch), task.loss(outputs, batch)


def _fmt(values: torch.Tensor) -> str:
    return "[" + " ".join(f"{float(value):.3f}" for value in values) + "]"


def _plateau(history: pd.DataFrame, members: int, fraction: float) -> list[float]:
    """Mean held-out loss over the last ``fraction`` of each member's evaluations."""
    plateau = []
    for member in range(members):
        losses = history.loc[history["member"] == member, "eval_loss"].to_numpy()
        count = max(1, math.ceil(fraction * len(losses)))
        plateau.append(float(losses[-count:].mean()) if len(losses) else float("nan"))
    return plateau


def clip_per_member(parameters: list[torch.nn.Parameter], max_norm: float) -> None:
    """Scale each member's gradient so its norm over all parameters is at most ``max_norm``."""
    squared = sum(p.grad.detach().pow(2).flatten(1).sum(dim=1) for p in parameters if p.grad is not None)
    factor = (max_norm / (squared.sqrt() + 1e-6)).clamp(max=1.0)
    for parameter in parameters:
        if parameter.grad is not None:
            parameter.grad.mul_(factor.view(-1, *([1] * (parameter.dim() - 1))))


def _restore_inactive(parameters: list[torch.nn.Parameter], saved: dict[int, torch.Tensor],
                      active: torch.Tensor) -> None:
    """Undo the optimiser step for members that already stopped (they keep their weights)."""
    with torch.no_grad():
        for parameter in parameters:
            keep = active.view(-1, *([1] * (parameter.dim() - 1)))
            parameter.copy_(torch.where(keep, parameter, saved[id(parameter)]))


def _save_checkpoint(path: Path, model: LeakyRNN, optimiser: torch.optim.Optimizer,
                     generators: list[torch.Generator], step: int, rows: list[dict], reached: list[int | None],
                     running: torch.Tensor, config_hash: str) -> None:
    state = {"model": model.state_dict(), "optimiser": optimiser.state_dict(),
             "generators": [generator.get_state() for generator in generators], "step": step,
             "history": rows, "reached": reached, "running": running, "config_hash": config_hash}
    with atomic_path(path) as tmp, open(tmp, "wb") as stream:  # a stream: no temp name in the bytes
        torch.save(state, stream)
    LOG.info("checkpoint at step %d -> %s", step, path)


def load_checked(path: Path, config_hash: str | None) -> dict:
    """``torch.load(weights_only=True)`` with clear errors for corrupt or foreign files."""
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise InputError(f"corrupted or unreadable file ({type(error).__name__}: {error}).", file=path,
                         field="checkpoint", fix="delete it; the rule will recompute it.") from error
    if not isinstance(state, dict) or "config_hash" not in state:
        raise InputError("not a checkpoint of this pipeline (no config hash).", file=path, field="checkpoint",
                         fix="delete it; the rule will recompute it.")
    if config_hash is not None and state["config_hash"] != config_hash:
        raise InputError(f"written under another configuration (hash {state['config_hash']}, expected "
                         f"{config_hash}).", file=path, field="config_hash",
                         fix="delete the file, or restore the configuration it was made with.")
    return state


def _load_checkpoint(path: Path, model: LeakyRNN, optimiser: torch.optim.Optimizer,
                     generators: list[torch.Generator], config_hash: str):
    state = load_checked(path, config_hash)
    model.load_state_dict(state["model"])
    optimiser.load_state_dict(state["optimiser"])
    for generator, saved in zip(generators, state["generators"], strict=True):
        generator.set_state(saved)
    return state["step"], list(state["history"]), list(state["reached"]), state["running"]
