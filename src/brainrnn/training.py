"""The one trainer: seeded, resumable training of an ensemble of RNNs as one batched model.

Each member has its own data stream (a ``torch.Generator`` seeded from the member's seed), its
own recurrent noise, its own gradient clipping and, with Adam's element-wise updates, its own
optimiser trajectory: training an ensemble gives each member the weights it would get if trained
alone, within float tolerance.

Training runs where the model is (:mod:`brainrnn.devices`): trials and noise are drawn on the CPU
from the members' generators and moved there, so a GPU run sees the same data as a CPU run.

What differs between experiments is a :class:`Schedule`: which task each member trains on
(a fixed task, or a curriculum level per member), how and when it is evaluated, which members or
parameter groups must not move, what the history records and when training ends. A schedule whose
data depend on the model (closed loop: the network's own choices feed its next inputs) supplies
each step's loss itself (:meth:`Schedule.step_loss`); the trainer then only applies it. The trainer
owns the rest: the optimiser, the step (:func:`train_step`), clipping, and a checkpoint written
atomically every ``checkpoint_every`` steps; rerunning after a crash, even ``kill -9``, resumes
from it and ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import torch

from brainrnn.errors import InputError
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.options import from_section
from brainrnn.persistence import load_checked, save_state
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import Task, TaskBatch, stack_batches

LOG = logging.getLogger(__name__)


class Ensemble(Protocol):
    """What the trainer trains: a module whose ``members`` are optimised side by side (a :class:`LeakyRNN`,
    or a model built on it, such as one whose weights a hypernetwork generates); ``shape`` sizes the
    recurrent noise; the device of its parameters is where it trains."""

    shape: RNNShape

    @property
    def members(self) -> int: ...

    def parameters(self, recurse: bool = True) -> Iterator[torch.nn.Parameter]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False) -> Any: ...

    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...


class Scorer(Protocol):
    """What scores a batch: a :class:`Task`, or any loss over the batch's targets (e.g. observed activity)."""

    def loss(self, outputs: torch.Tensor, batch: TaskBatch) -> torch.Tensor: ...

    def accuracy(self, outputs: torch.Tensor, batch: TaskBatch) -> torch.Tensor: ...


Penalty = Callable[[Any], torch.Tensor]
"""Maps the model to one regularisation value per member, shape (members,)."""
Forward = Callable[[Any, TaskBatch, "torch.Tensor | None"], tuple[torch.Tensor, torch.Tensor]]
"""Runs the model on a batch (with recurrent noise): (outputs, states)."""
ClosedGroup = tuple[list[torch.nn.Parameter], torch.Tensor]
"""Parameters and a per-member mask: members where the mask is False keep their values this step."""
CHECKPOINT_FORMAT = 2
OPTIMISERS = ("adam", "sgd")


@dataclass(frozen=True)
class TrainingOptions:
    """Settings of the trainer; built from a config section (the schema holds every default).

    ``recurrent_noise`` None draws no noise; 0 draws it and scales it to nothing, so each member's
    data stream stays the one it has with noise. ``momentum`` is SGD's Nesterov momentum.
    """

    steps: int
    learning_rate: float
    optimiser: str
    momentum: float
    clip_grad_norm: float | None
    recurrent_noise: float | None
    eval_every: int
    checkpoint_every: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> TrainingOptions:
        return from_section(cls, section)


class Schedule(ABC):
    """What a run trains on and records; the trainer calls it around every step.

    ``generators`` are the members' data streams (saved with every checkpoint); ``history`` holds
    one row per member and evaluation.
    """

    generators: list[torch.Generator]
    rows: list[dict[str, Any]]

    @abstractmethod
    def sample(self) -> tuple[TaskBatch, Scorer]:
        """The next training batch, one block per member stacked on axis 1, and the task that scores it."""

    def forward(self, model: Any, batch: TaskBatch, noise: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the model on the batch just sampled (default: the batch's inputs, noise and running mask)."""
        return model(batch.inputs, noise=noise, running=batch.running)

    def closed(self, model: Any, trainable: list[torch.nn.Parameter]) -> list[ClosedGroup]:
        """Parameter groups some members must not change this step (default: none)."""
        return []

    @abstractmethod
    def evaluate(self, model: Any, step: int, train_sums: torch.Tensor, count: int,
                 penalty: torch.Tensor) -> str:
        """Evaluate after ``step``, append history rows, update per-member state; return a log line.

        ``train_sums`` (2, members) holds the summed training loss and accuracy of the ``count``
        steps since the last evaluation, ``penalty`` the regulariser of the last step.
        """

    def finished(self) -> bool:
        """True once no member needs more training (checked before every step)."""
        return False

    def step_loss(self, model: Any) -> tuple[torch.Tensor, torch.Tensor] | None:
        """This step's loss per member (with its graph) and a score per member, for schedules whose data
        depend on the model (closed loop: the network's own choices make its next inputs). None, the
        default: the trainer runs the model over :meth:`sample` and scores it with the task."""
        return None

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """Everything besides the generators that a resumed run needs (torch-loadable with weights_only)."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def history(self, columns: Sequence[str]) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(columns))


def member_generators(member_seeds: Sequence[int], stream: str) -> list[torch.Generator]:
    """One data stream per member, named so that different schedules never share a stream."""
    return [torch.Generator().manual_seed(derive_seed(seed, stream)) for seed in member_seeds]


class FixedTask(Schedule):
    """Every member trains on one task; held-out accuracy on a fixed batch every ``eval_every`` steps.

    A member that reaches ``criterion`` records the step; with ``stop_at_criterion`` it then keeps
    its weights (its updates are undone) and training ends once every member has stopped.
    """

    HISTORY = ("member", "step", "train_loss", "train_accuracy", "penalty", "eval_loss", "eval_accuracy")

    def __init__(self, task: Task, member_seeds: Sequence[int], *, batch_size: int, eval_trials: int,
                 eval_seed: int, criterion: float, stop_at_criterion: bool, plateau_fraction: float,
                 total_steps: int) -> None:
        self.task, self.batch_size, self.members = task, batch_size, len(member_seeds)
        self.criterion, self.stop_at_criterion = criterion, stop_at_criterion
        self.plateau_fraction, self.total_steps = plateau_fraction, total_steps
        self.generators = member_generators(member_seeds, "data")
        held_out = task.sample(eval_trials, torch.Generator().manual_seed(eval_seed))
        self.held_out = stack_batches([held_out] * self.members)
        self.rows: list[dict[str, Any]] = []
        self.reached: list[int | None] = [None] * self.members

    @classmethod
    def from_config(cls, task: Task, member_seeds: Sequence[int], section: Mapping[str, Any], *,
                    eval_seed: int) -> FixedTask:
        return cls(task, member_seeds, batch_size=section["batch_size"], eval_trials=section["eval_trials"],
                   eval_seed=eval_seed, criterion=section["criterion"],
                   stop_at_criterion=section["stop_at_criterion"], plateau_fraction=section["plateau_fraction"],
                   total_steps=section["steps"])

    @property
    def active(self) -> torch.Tensor:
        if not self.stop_at_criterion:
            return torch.ones(self.members, dtype=torch.bool)
        return torch.tensor([value is None for value in self.reached])

    def sample(self) -> tuple[TaskBatch, Task]:
        return stack_batches([self.task.sample(self.batch_size, generator) for generator in self.generators]), \
            self.task

    def closed(self, model: LeakyRNN, trainable: list[torch.nn.Parameter]) -> list[ClosedGroup]:
        active = self.active
        return [] if bool(active.all()) else [(trainable, active)]

    def finished(self) -> bool:
        return not bool(self.active.any())

    def evaluate(self, model: LeakyRNN, step: int, train_sums: torch.Tensor, count: int,
                 penalty: torch.Tensor) -> str:
        accuracy, loss = evaluate(model, self.task, self.held_out)
        train_means = train_sums / count
        active = self.active
        for member in range(self.members):
            if not bool(active[member]):
                continue
            self.rows.append({"member": member, "step": step, "train_loss": float(train_means[0, member]),
                              "train_accuracy": float(train_means[1, member]), "penalty": float(penalty[member]),
                              "eval_loss": float(loss[member]), "eval_accuracy": float(accuracy[member])})
            if self.reached[member] is None and float(accuracy[member]) >= self.criterion:
                self.reached[member] = step
        return f"step {step}/{self.total_steps}  loss {_fmt(loss)}  accuracy {_fmt(accuracy)}"

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.rows, "reached": self.reached}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows, self.reached = list(state["history"]), list(state["reached"])

    def plateau_loss(self) -> list[float]:
        """Mean held-out loss over the last ``plateau_fraction`` of each member's evaluations."""
        history = self.history(self.HISTORY)
        plateau = []
        for member in range(self.members):
            losses = history.loc[history["member"] == member, "eval_loss"].to_numpy()
            count = max(1, math.ceil(self.plateau_fraction * len(losses)))
            plateau.append(float(losses[-count:].mean()) if len(losses) else float("nan"))
        return plateau


def make_optimiser(parameters: list[torch.nn.Parameter], options: TrainingOptions) -> torch.optim.Optimizer:
    """Adam, or SGD with Nesterov momentum (the cortico-cerebellar source)."""
    if options.optimiser == "adam":
        return torch.optim.Adam(parameters, lr=options.learning_rate)
    if options.optimiser == "sgd":
        return torch.optim.SGD(parameters, lr=options.learning_rate, momentum=options.momentum, nesterov=True)
    raise ValueError(f"unknown optimiser '{options.optimiser}' (use one of {', '.join(OPTIMISERS)})")


def train_step(model: Ensemble, optimiser: torch.optim.Optimizer, trainable: list[torch.nn.Parameter],
               batch: TaskBatch, task: Scorer, *, noise: torch.Tensor | None = None, penalty: Penalty | None = None,
               clip_grad_norm: float | None = None, closed: Sequence[ClosedGroup] = (),
               forward: Forward | None = None) -> tuple[torch.Tensor, ...]:
    """One update of every member: forward, loss (+ penalty), backward, per-member clipping, step.

    Members masked out in ``closed`` keep those parameters, and their gradients are zeroed first, so a
    closed group neither counts towards its member's clipping norm (as if it were frozen) nor enters
    the optimiser's state; ``forward`` runs the model on the batch (default: on its inputs). Returns the
    per-member total loss, training accuracy and penalty of this step.
    """
    if forward is None:
        outputs, _ = model(batch.inputs, noise=noise, running=batch.running)
    else:
        outputs, _ = forward(model, batch, noise)
    loss, regulariser = apply_loss(model, optimiser, trainable, task.loss(outputs, batch), penalty=penalty,
                                   clip_grad_norm=clip_grad_norm, closed=closed)
    return loss, task.accuracy(outputs.detach(), batch), regulariser


def apply_loss(model: Ensemble, optimiser: torch.optim.Optimizer, trainable: list[torch.nn.Parameter],
               task_loss: torch.Tensor, *, penalty: Penalty | None = None, clip_grad_norm: float | None = None,
               closed: Sequence[ClosedGroup] = ()) -> tuple[torch.Tensor, torch.Tensor]:
    """Update every member from its loss (+ penalty): backward, per-member clipping, step; members masked
    out in ``closed`` keep those parameters. Returns the per-member total loss and penalty."""
    regulariser = penalty(model) if penalty is not None else task_loss.new_zeros(model.members)
    optimiser.zero_grad(set_to_none=False)
    (task_loss + regulariser).sum().backward()
    for parameters, keep in closed:
        for parameter in parameters:
            if parameter.grad is not None:
                parameter.grad.mul_(keep.view(-1, *([1] * (parameter.dim() - 1))).to(parameter.grad))
    if clip_grad_norm is not None:
        clip_per_member(trainable, clip_grad_norm)
    saved = [(parameter, parameter.detach().clone(), keep) for parameters, keep in closed for parameter in parameters]
    optimiser.step()
    if saved:
        with torch.no_grad():
            for parameter, before, keep in saved:
                keep_here = keep.to(parameter.device).view(-1, *([1] * (parameter.dim() - 1)))
                parameter.copy_(torch.where(keep_here, parameter, before))
    return (task_loss + regulariser).detach(), regulariser.detach()


@dataclass
class TrainingRun:
    """What the trainer did: the steps run (the schedule holds the history and per-member outcomes)."""

    steps_run: int


def train_ensemble(model: Ensemble, schedule: Schedule, options: TrainingOptions, *, penalty: Penalty | None = None,
                   checkpoint: Path | None = None, config_hash: str = "") -> TrainingRun:
    """Train every member of ``model`` as ``schedule`` says; resume from ``checkpoint`` when it exists."""
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimiser = make_optimiser(trainable, options)
    device = next(model.parameters()).device
    step, running = 0, torch.zeros(2, model.members, device=device)
    if checkpoint is not None and checkpoint.exists():
        step, running = _load_checkpoint(checkpoint, model, optimiser, schedule, config_hash)
        running = running.to(device)
        LOG.info("resumed from %s at step %d", checkpoint, step)
    while step < options.steps and not schedule.finished():
        supplied = schedule.step_loss(model)
        if supplied is None:
            batch, task = schedule.sample()
            batch = batch.to(device)
            noise = None
            if options.recurrent_noise is not None:
                noise = member_noise(schedule.generators, batch.n_steps, batch.inputs.shape[2],
                                     model.shape.n_hidden, options.recurrent_noise).to(device)
            loss, accuracy, regulariser = train_step(model, optimiser, trainable, batch, task, noise=noise,
                                                     penalty=penalty, clip_grad_norm=options.clip_grad_norm,
                                                     closed=schedule.closed(model, trainable),
                                                     forward=schedule.forward)
        else:
            task_loss, accuracy = supplied
            loss, regulariser = apply_loss(model, optimiser, trainable, task_loss, penalty=penalty,
                                           clip_grad_norm=options.clip_grad_norm,
                                           closed=schedule.closed(model, trainable))
            accuracy = accuracy.to(device)
        running += torch.stack([loss, accuracy])
        step += 1
        if step % options.eval_every == 0 or step == options.steps:
            since = step - (step - 1) // options.eval_every * options.eval_every
            LOG.info(schedule.evaluate(model, step, running, since, regulariser))
            running = torch.zeros(2, model.members, device=device)
        if checkpoint is not None and step % options.checkpoint_every == 0:
            save_state({"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                        "generators": [generator.get_state() for generator in schedule.generators], "step": step,
                        "running": running, "schedule": schedule.state_dict(), "config_hash": config_hash,
                        "format": CHECKPOINT_FORMAT}, checkpoint)
            LOG.info("checkpoint at step %d -> %s", step, checkpoint)
    return TrainingRun(step)


def member_noise(generators: Sequence[torch.Generator], n_steps: int, batch: int, n_hidden: int,
                 scale: float) -> torch.Tensor:
    """``scale`` × N(0, 1) noise (T, E, B, N), each member's block from its own generator; laid out
    member-major, as the engine uses it (one block per member, no copy to stack them)."""
    noise = torch.empty(len(generators), n_steps, batch, n_hidden)
    for block, generator in zip(noise, generators, strict=True):
        torch.randn(n_steps, batch, n_hidden, generator=generator, out=block)
    return noise.mul_(scale).transpose(0, 1)


EVAL_CHUNK_TRIALS = 256
"""Trials per forward pass of :func:`evaluate`: its memory is that of 256 trials however large the batch
(all 2,560 held-out trials of a 10-member, 312-neuron ensemble at once held 4.1 GB)."""


@torch.no_grad()
def evaluate(model: LeakyRNN, task: Task, batch: TaskBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """Noise-free accuracy and loss per member on a fixed member-stacked batch, run where the model is,
    ``EVAL_CHUNK_TRIALS`` trials at a time (the accuracy is exactly that of one pass, the loss equal up to
    rounding); returned on the CPU."""
    batch = batch.to(next(model.parameters()).device)
    trials = batch.labels.shape[-1]
    correct, loss_sum, weight_sum = (torch.zeros(model.members) for _ in range(3))
    for start in range(0, trials, EVAL_CHUNK_TRIALS):
        part = _trials(batch, start, min(start + EVAL_CHUNK_TRIALS, trials))
        outputs, _ = model(part.inputs, running=part.running)
        weight = part.mask.sum(dim=(0, -1)).cpu()
        correct += task.accuracy(outputs, part).cpu() * part.labels.shape[-1]
        loss_sum += torch.where(weight > 0, task.loss(outputs, part).cpu() * weight, 0.0)
        weight_sum += weight
    return correct / trials, loss_sum / weight_sum


def _trials(batch: TaskBatch, start: int, stop: int) -> TaskBatch:
    """Trials ``start:stop`` of a member-stacked batch: axis 2 of the time-major fields, axis 1 of the labels."""
    return TaskBatch(inputs=batch.inputs[:, :, start:stop], targets=batch.targets[:, :, start:stop],
                     mask=batch.mask[:, :, start:stop], decision=batch.decision[:, :, start:stop],
                     labels=batch.labels[:, start:stop],
                     epochs={name: mask[:, :, start:stop] for name, mask in batch.epochs.items()},
                     running=None if batch.running is None else batch.running[:, :, start:stop])


def clip_per_member(parameters: list[torch.nn.Parameter], max_norm: float) -> None:
    """Scale each member's gradient so its norm over all parameters is at most ``max_norm``."""
    squared = sum(p.grad.detach().pow(2).flatten(1).sum(dim=1) for p in parameters if p.grad is not None)
    assert isinstance(squared, torch.Tensor), "no parameter has a gradient"
    factor = (max_norm / (squared.sqrt() + 1e-6)).clamp(max=1.0)
    for parameter in parameters:
        if parameter.grad is not None:
            parameter.grad.mul_(factor.view(-1, *([1] * (parameter.dim() - 1))))


def _fmt(values: torch.Tensor) -> str:
    return "[" + " ".join(f"{float(value):.3f}" for value in values) + "]"


def _load_checkpoint(path: Path, model: Ensemble, optimiser: torch.optim.Optimizer, schedule: Schedule,
                     config_hash: str) -> tuple[int, torch.Tensor]:
    state = load_checked(path, config_hash)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise InputError("a checkpoint of an older version of the pipeline.", file=path, field="checkpoint",
                         fix="delete it; the rule will train from the start.")
    model.load_state_dict(state["model"])
    optimiser.load_state_dict(state["optimiser"])
    for generator, saved in zip(schedule.generators, state["generators"], strict=True):
        generator.set_state(saved)
    schedule.load_state_dict(state["schedule"])
    return state["step"], state["running"]
