"""The task base class and registry (neurogym's split: tasks know nothing of models or training).

A task draws a whole batch of trials at once with a ``torch.Generator``: inputs, targets and a
loss mask per time step, plus a boolean mask per named epoch (fixation, sample, delay, test, ...),
so later stages can pick, say, every delay-period state without knowing the task's timing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import torch

from brainrnn.errors import InputError
from brainrnn.tasks.catalogue import CATALOGUE, TaskInfo


@dataclass
class TaskBatch:
    """One batch of trials, time-major.

    ``inputs`` (T, B, n_inputs); ``targets`` (T, B) class indices for classification or
    (T, B, n_outputs) values for regression; ``mask`` (T, B) loss weights; ``epochs`` maps an epoch
    name to a (T, B) boolean mask; ``decision`` (T, B) marks the steps scored for accuracy and
    ``labels`` holds the correct answer per trial (class index or value); ``running`` (T, B), when
    given, marks the steps a trial is under way (before it, the network's state is held).
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    decision: torch.Tensor
    labels: torch.Tensor
    epochs: dict[str, torch.Tensor] = field(default_factory=dict)
    running: torch.Tensor | None = None

    @property
    def n_steps(self) -> int:
        return self.inputs.shape[0]

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[1]

    def to(self, device: torch.device) -> TaskBatch:
        """The same trials on ``device`` (itself when already there)."""
        if self.inputs.device == device:
            return self
        return TaskBatch(self.inputs.to(device), self.targets.to(device), self.mask.to(device),
                         self.decision.to(device), self.labels.to(device),
                         {name: mask.to(device) for name, mask in self.epochs.items()},
                         None if self.running is None else self.running.to(device))


class Task(ABC):
    """A trial generator with fixed input/output sizes and a kind of readout.

    ``info`` is the task's catalogue entry (name, suite, analysis epoch, inputs, source).
    """

    info: ClassVar[TaskInfo]
    kind: ClassVar[Literal["classification", "regression"]]
    n_inputs: int
    n_outputs: int
    dt_ms: float
    tolerance: float = 0.0
    """Regression tasks: largest error of a correct answer."""

    @abstractmethod
    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        """Draw ``batch_size`` trials using only ``generator`` for randomness."""

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def input_names(self) -> list[str]:
        """One name per input channel; each ``{k}`` pattern of the catalogue takes an equal share of the
        channels the fixed names leave."""
        patterns = sum("{k}" in name for name in self.info.inputs)
        per_pattern = (self.n_inputs - len(self.info.inputs) + patterns) // max(patterns, 1)
        return [channel for name in self.info.inputs
                for channel in ([name.format(k=k) for k in range(per_pattern)] if "{k}" in name else [name])]

    def steps(self, duration_ms: float) -> int:
        """Number of time steps of a duration (at least one)."""
        return max(1, int(round(duration_ms / self.dt_ms)))

    def accuracy(self, outputs: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Fraction of trials answered correctly, averaged over the decision steps.

        ``outputs`` is (T, *members, B, n_outputs) with the batch's fields shaped (T, *members, B);
        returns one accuracy per member, shape ``members``.
        """
        decision = batch.decision.to(outputs.dtype)
        weights = decision / decision.sum(dim=0).clamp(min=1)
        if self.kind == "classification":
            mean_logits = (outputs * weights.unsqueeze(-1)).sum(dim=0)
            return (mean_logits.argmax(dim=-1) == batch.labels).to(outputs.dtype).mean(dim=-1)
        response = (outputs[..., 0] * weights).sum(dim=0)
        return ((response - batch.labels).abs() < self.tolerance).to(outputs.dtype).mean(dim=-1)

    def loss(self, outputs: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Mask-weighted loss per member: cross-entropy or squared error; shape ``members``."""
        if self.kind == "classification":
            per_step = torch.nn.functional.cross_entropy(outputs.movedim(-1, 1), batch.targets, reduction="none")
        else:
            per_step = ((outputs - batch.targets) ** 2).mean(dim=-1)
        weighted = per_step * batch.mask
        return weighted.sum(dim=(0, -1)) / batch.mask.sum(dim=(0, -1))


TASKS: dict[str, type[Task]] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task available to :func:`make_task` under its catalogue name."""
    if CATALOGUE.get(cls.info.name) is not cls.info:
        raise ValueError(f"task class {cls.__name__} has no entry of its own in the task catalogue")
    TASKS[cls.info.name] = cls
    return cls


def make_task(name: str, **settings: Any) -> Task:
    """Build a registered task from its settings; unknown names are a clear error."""
    if name not in TASKS:
        raise InputError(f"unknown task '{name}'.", field="task",
                         fix=f"use one of: {', '.join(sorted(TASKS))}.")
    return TASKS[name](**settings)


def stack_batches(batches: list[TaskBatch]) -> TaskBatch:
    """Stack per-member batches along a new member axis (dimension 1, after time)."""
    return TaskBatch(
        inputs=torch.stack([b.inputs for b in batches], 1), targets=torch.stack([b.targets for b in batches], 1),
        mask=torch.stack([b.mask for b in batches], 1), decision=torch.stack([b.decision for b in batches], 1),
        labels=torch.stack([b.labels for b in batches], 0),
        epochs={name: torch.stack([b.epochs[name] for b in batches], 1) for name in batches[0].epochs},
        running=_stack_running(batches))


def _stack_running(batches: list[TaskBatch]) -> torch.Tensor | None:
    """The per-member ``running`` masks stacked like :func:`stack_batches`; None when the first batch has none."""
    if batches[0].running is None:
        return None
    running = []
    for batch in batches:
        assert batch.running is not None, "member batches of one task all have running masks"
        running.append(batch.running)
    return torch.stack(running, 1)


def epoch_mask(time: torch.Tensor, start: torch.Tensor, stop: torch.Tensor) -> torch.Tensor:
    """(T, B) mask of start <= t < stop, with per-trial bounds of shape (B,)."""
    return (time >= start.unsqueeze(0)) & (time < stop.unsqueeze(0))
