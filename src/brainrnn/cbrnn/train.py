"""Curriculum training of the cortico-cerebellar family, as a schedule of the one trainer.

Start at N = ``start_level`` and advance a member to N + 1 when its test accuracy (``test_steps``
fresh batches at the end of every epoch of ``train_steps`` steps) reaches ``advance_at``. Members of
an ensemble (seeds) keep their own level; shorter sequences are left-padded and the state held
until a trial starts, so each member trains exactly as it would alone. The freeze stages start from
each CB-RNN's state at the end of level 1 with the core closed: always (``reservoir``), or open for
one level every ``interleave_every`` levels (``interleaved``). Checkpoints come every epoch.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.cbrnn import CORE_GROUPS, FROZEN_GROUPS, GROUPS
from brainrnn.cbrnn.model import CBConfig, build_model, count_parameters
from brainrnn.cbrnn.summary import curriculum_metrics
from brainrnn.devices import CPU
from brainrnn.models.rnn import LeakyRNN
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import Task, TaskBatch, stack_batches
from brainrnn.tasks.registry import make_task
from brainrnn.training import ClosedGroup, Schedule, TrainingOptions, evaluate, member_generators, train_ensemble


@dataclass(frozen=True)
class CurriculumOptions:
    """Curriculum and optimiser (the ``cbrnn.curriculum`` config section documents each field)."""

    start_level: int
    advance_at: float
    max_level: int
    epochs: int
    train_steps: int
    test_steps: int
    batch_size: int
    optimiser: str
    learning_rate: float
    momentum: float
    clip_grad_norm: float
    interleave_every: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CurriculumOptions:
        return cls(**{field.name: section[field.name] for field in dataclasses.fields(cls)})

    def trainer(self) -> TrainingOptions:
        """The trainer's settings: no recurrent noise, evaluation and a checkpoint every epoch."""
        return TrainingOptions(steps=self.epochs * self.train_steps, learning_rate=self.learning_rate,
                               optimiser=self.optimiser, momentum=self.momentum, clip_grad_norm=self.clip_grad_norm,
                               recurrent_noise=None, eval_every=self.train_steps, checkpoint_every=self.train_steps)


def pad_left(batch: TaskBatch, n_steps: int) -> TaskBatch:
    """Left-pad a right-aligned batch to ``n_steps`` (no input, no loss, not running)."""
    extra = n_steps - batch.n_steps
    if extra == 0:
        return batch

    def pad(tensor: torch.Tensor, value: float | bool = 0) -> torch.Tensor:
        return torch.cat([torch.full((extra, *tensor.shape[1:]), value, dtype=tensor.dtype), tensor])

    assert batch.running is not None
    return TaskBatch(pad(batch.inputs), pad(batch.targets), pad(batch.mask), pad(batch.decision, False),
                     batch.labels, {name: pad(mask, False) for name, mask in batch.epochs.items()},
                     pad(batch.running, False))


def sample_levels(task_name: str, levels: list[int], batch_size: int,
                  generators: list[torch.Generator]) -> tuple[TaskBatch, Task]:
    """One batch per member at its own level, padded to a common length and stacked."""
    tasks = [make_task(task_name, n_back=level) for level in levels]
    batches = [task.sample(batch_size, generator) for task, generator in zip(tasks, generators, strict=True)]
    longest = max(batch.n_steps for batch in batches)
    return stack_batches([pad_left(batch, longest) for batch in batches]), tasks[0]


class LevelCurriculum(Schedule):
    """Per-member curriculum levels; the core closed as the freeze stage says (see the module docstring)."""

    HISTORY = ("member", "epoch", "level", "train_loss", "test_accuracy")

    def __init__(self, model: LeakyRNN, task_name: str, member_seeds: list[int], options: CurriculumOptions, *,
                 start_level: int, frozen_core: str | None) -> None:
        self.task_name, self.options, self.frozen_core = task_name, options, frozen_core
        self.start = start_level
        self.generators = member_generators(member_seeds, "curriculum")
        self.levels = [start_level] * model.members
        self.rows: list[dict[str, Any]] = []
        self.level_one = {name: value.detach().clone() for name, value in model.state_dict().items()}
        self.level_one_epoch: list[int | None] = [None] * model.members
        groups = model.parameter_groups()
        self.core = [parameter for group in CORE_GROUPS for parameter in groups[group]]
        if frozen_core is not None:
            for parameter in self.core:
                parameter.requires_grad_(frozen_core == "interleaved")

    def core_learns(self, level: int) -> bool:
        if self.frozen_core is None:
            return True
        if self.frozen_core == "reservoir":
            return False
        return level > self.start and (level - self.start) % self.options.interleave_every == 0

    def sample(self) -> tuple[TaskBatch, Task]:
        return sample_levels(self.task_name, self.levels, self.options.batch_size, self.generators)

    def closed(self, model: LeakyRNN, trainable: list[torch.nn.Parameter]) -> list[ClosedGroup]:
        if self.frozen_core != "interleaved":
            return []
        return [(self.core, torch.tensor([self.core_learns(level) for level in self.levels]))]

    @torch.no_grad()
    def test_accuracy(self, model: LeakyRNN) -> torch.Tensor:
        """Mean accuracy per member over ``test_steps`` fresh batches at each member's level."""
        total = torch.zeros(model.members)
        for _ in range(self.options.test_steps):
            batch, task = self.sample()
            total += evaluate(model, task, batch)[0]
        return total / self.options.test_steps

    def evaluate(self, model: LeakyRNN, step: int, train_sums: torch.Tensor, count: int,
                 penalty: torch.Tensor) -> str:
        epoch = step // self.options.train_steps
        accuracy = self.test_accuracy(model)
        for member in range(model.members):
            self.rows.append({"member": member, "epoch": epoch, "level": self.levels[member],
                              "train_loss": float(train_sums[0, member]) / self.options.train_steps,
                              "test_accuracy": float(accuracy[member])})
            if float(accuracy[member]) >= self.options.advance_at and self.levels[member] < self.options.max_level:
                if self.levels[member] == self.start and self.level_one_epoch[member] is None:
                    self.level_one_epoch[member] = epoch
                    for name, value in model.state_dict().items():
                        self.level_one[name][member] = value[member].detach()
                self.levels[member] += 1
        return (f"epoch {epoch}/{self.options.epochs}  levels {self.levels}  accuracy "
                + " ".join(f"{float(value):.3f}" for value in accuracy))

    def state_dict(self) -> dict[str, Any]:
        return {"levels": self.levels, "history": self.rows, "level_one": self.level_one,
                "level_one_epoch": self.level_one_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.levels, self.rows = list(state["levels"]), list(state["history"])
        self.level_one, self.level_one_epoch = state["level_one"], list(state["level_one_epoch"])

    def level_one_state(self, model: LeakyRNN) -> dict[str, torch.Tensor]:
        """Each member's state at the end of level 1 (its last state if it never passed level 1)."""
        state = {name: value.cpu().clone() for name, value in self.level_one.items()}
        for member, epoch in enumerate(self.level_one_epoch):
            if epoch is None:
                for name, value in model.state_dict().items():
                    state[name][member] = value[member].detach().cpu()
        return state


@dataclass
class GroupRun:
    """One group's ensemble after training: history, per-member metrics and the level-one snapshot."""

    model: LeakyRNN
    history: pd.DataFrame
    metrics: list[dict[str, Any]]
    level_one_state: dict[str, torch.Tensor]


def run_group(group: str, section: Mapping[str, Any], seeds: list[int], base_seed: int,
              level_one_models: list[LeakyRNN] | None = None, core: LeakyRNN | None = None,
              checkpoint: Path | None = None, config_hash: str = "", device: torch.device = CPU) -> GroupRun:
    """Train one group (settings: the ``cbrnn`` config section) on ``device``: ``cbrnn`` and ``rnn`` from
    scratch (the CB-RNN's core optionally from ``core``); ``reservoir`` and ``interleaved`` from the CB-RNNs'
    level-one states (``level_one_models``, one per seed), core frozen. The run's model is on the CPU."""
    if group not in GROUPS:
        raise ValueError(f"unknown group '{group}' (use one of {', '.join(GROUPS)})")
    config, options = CBConfig.from_config(section), CurriculumOptions.from_config(section["curriculum"])
    member_seeds = [derive_seed(base_seed, "cbrnn", seed) for seed in seeds]
    if group in FROZEN_GROUPS and level_one_models:
        core = level_one_models[0]  # the shape to build; every weight is then loaded from level one
    model = build_model("rnn" if group == "rnn" else "cbrnn", config, member_seeds, core)
    frozen, start = None, options.start_level
    if group in FROZEN_GROUPS:
        if level_one_models is None or len(level_one_models) != len(seeds):
            raise ValueError("the freeze stages need one level-one CB-RNN per seed")
        model.load_state_dict({name: torch.cat([m.state_dict()[name] for m in level_one_models])
                               for name in model.state_dict()})
        frozen, start = group, options.start_level + 1
    model.to(device)
    schedule = LevelCurriculum(model, config.task, member_seeds, options, start_level=start, frozen_core=frozen)
    train_ensemble(model, schedule, options.trainer(), checkpoint=checkpoint, config_hash=config_hash)
    model.cpu()
    history = schedule.history(LevelCurriculum.HISTORY)
    counts = {"cbrnn": count_parameters(build_model("cbrnn", config, [0], core)),
              "rnn": count_parameters(build_model("rnn", config, [0], core))}
    metrics = []
    for member, seed in enumerate(seeds):
        levels = history.loc[history["member"] == member, "level"].to_numpy()
        metrics.append({"family": "cbrnn", "group": group, "seed": seed, "member_seed": member_seeds[member],
                        "task": config.task, "n_parameters": count_parameters(model),
                        "n_parameters_cbrnn": counts["cbrnn"], "n_parameters_rnn": counts["rnn"],
                        "hidden": model.shape.n_hidden, "level_one_epoch": schedule.level_one_epoch[member],
                        "final_level_reached": schedule.levels[member], **curriculum_metrics(np.asarray(levels))})
    return GroupRun(model, history, metrics, schedule.level_one_state(model))


def model_meta(record: Mapping[str, Any], level: int) -> dict[str, Any]:
    """What the fixed-point and ablation stages need to rebuild the task at the network's level."""
    return {"family": "cbrnn", "group": record["group"], "seed": record["seed"], "task": record["task"],
            "task_settings": {"n_back": int(level), "dt_ms": 1.0}}


def level_one_snapshot(run: GroupRun) -> LeakyRNN:
    """The ensemble as it was at the end of level 1 (the start of the freeze stages)."""
    snapshot = copy.deepcopy(run.model)
    snapshot.load_state_dict(run.level_one_state)
    return snapshot
