"""Curriculum training of the cortico-cerebellar family, as a schedule of the one trainer.

Start at N = ``start_level`` and advance a member to N + 1 when its test accuracy (``test_steps``
fresh batches at the end of every epoch of ``train_steps`` steps) reaches ``advance_at``. Members of
an ensemble (seeds) keep their own level; shorter sequences are left-padded and the state held
until a trial starts, so each member trains exactly as it would alone. Checkpoints come every epoch.

Every group runs the same ``epochs`` on one axis, epoch 1 being the first epoch of the network. A
freeze group (``reservoir``, ``interleaved``) is built, seeded and fed exactly as the CB-RNN; in its
level-1 phase only the groups of ``level_one`` learn (the source: core + readout), and from the
epoch it passes level 1 the core groups of ``freeze`` are held: always (reservoir), or open for one
level every ``interleave_every`` levels (interleaved). With ``level_one: everything`` the level-1
phase is the CB-RNN's own, so the frozen phase continues from the CB-RNN's level-1 state. Which
parameter groups learn is decided per member and epoch and applied as closed groups of the trainer.
The schedule keeps each member's state at the end of the epoch it passed level 1 and each analysis
level (``cbrnn.analysis_levels``): the analyses compare every network as it was when it solved N.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.cbrnn import FREEZE_MODES, FROZEN_GROUPS, GROUPS, LEVEL_ONE_MODES
from brainrnn.cbrnn.model import CBConfig, build_model, count_parameters
from brainrnn.cbrnn.summary import curriculum_metrics
from brainrnn.devices import CPU
from brainrnn.models.rnn import LeakyRNN
from brainrnn.options import from_section
from brainrnn.persistence import load_member, write_members
from brainrnn.provenance import config_hash
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
        return from_section(cls, section)

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


@dataclass(frozen=True)
class FreezeOptions:
    """What the freeze groups hold and what learns before (the ``cbrnn`` config section documents both)."""

    freeze: str
    level_one: str

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> FreezeOptions:
        return cls(freeze=section["freeze"], level_one=section["level_one"])

    @property
    def frozen_groups(self) -> tuple[str, ...]:
        return FREEZE_MODES[self.freeze]

    @property
    def level_one_groups(self) -> tuple[str, ...]:
        return LEVEL_ONE_MODES[self.level_one]


class LevelCurriculum(Schedule):
    """Per-member curriculum levels; for a freeze group, per-member phases (see the module docstring)."""

    HISTORY = ("member", "epoch", "level", "phase", "train_loss", "test_accuracy")

    def __init__(self, model: LeakyRNN, task_name: str, member_seeds: list[int], options: CurriculumOptions, *,
                 freeze_group: str | None = None, freeze: FreezeOptions | None = None,
                 snapshot_levels: Sequence[int] = ()) -> None:
        if freeze_group is not None and (freeze_group not in FROZEN_GROUPS or freeze is None):
            raise ValueError(f"a freeze group is one of {', '.join(FROZEN_GROUPS)} and needs FreezeOptions")
        self.task_name, self.options = task_name, options
        self.freeze_group, self.freeze = freeze_group, freeze
        self.generators = member_generators(member_seeds, "curriculum")
        self.levels = [options.start_level] * model.members
        self.rows: list[dict[str, Any]] = []
        state = model.state_dict()
        levels = sorted({options.start_level, *snapshot_levels})
        self.snapshots = {level: {name: value.detach().cpu().clone() for name, value in state.items()}
                          for level in levels}
        """Each member's state when it passed each level (level 1 always; the analyses' levels)."""
        self.passed_epoch: dict[int, list[int | None]] = {level: [None] * model.members for level in levels}
        self.parameter_groups = model.parameter_groups()

    @property
    def level_one_epoch(self) -> list[int | None]:
        """The epoch each member passed level 1 (None: never); for a freeze group, its last unfrozen epoch."""
        return self.passed_epoch[self.options.start_level]

    @property
    def freeze_level(self) -> int:
        """The first level of the frozen phase."""
        return self.options.start_level + 1

    def core_learns(self, level: int) -> bool:
        """Whether the frozen core groups learn at ``level`` in the frozen phase (interleaved levels)."""
        if self.freeze_group != "interleaved":
            return False
        return level > self.freeze_level and (level - self.freeze_level) % self.options.interleave_every == 0

    def phase(self, member: int) -> str:
        """What learns for ``member`` now (one of ``brainrnn.cbrnn.PHASES``)."""
        if self.freeze_group is None:
            return "end_to_end"
        if self.level_one_epoch[member] is None:
            return "level_one"
        return "core_open" if self.core_learns(self.levels[member]) else "frozen"

    def learns(self, group: str, member: int) -> bool:
        """Whether parameter group ``group`` (``LeakyRNN.parameter_groups``) of ``member`` learns now."""
        phase = self.phase(member)
        if phase in ("end_to_end", "core_open"):
            return True
        assert self.freeze is not None, "only a freeze group has a level-one or a frozen phase"
        if phase == "level_one":
            return group in self.freeze.level_one_groups
        return group not in self.freeze.frozen_groups

    def sample(self) -> tuple[TaskBatch, Task]:
        return sample_levels(self.task_name, self.levels, self.options.batch_size, self.generators)

    def closed(self, model: LeakyRNN, trainable: list[torch.nn.Parameter]) -> list[ClosedGroup]:
        members = range(model.members)
        masks = {group: torch.tensor([self.learns(group, member) for member in members])
                 for group in self.parameter_groups}
        return [(self.parameter_groups[group], mask) for group, mask in masks.items() if not bool(mask.all())]

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
                              "phase": self.phase(member),
                              "train_loss": float(train_sums[0, member]) / self.options.train_steps,
                              "test_accuracy": float(accuracy[member])})
            if float(accuracy[member]) < self.options.advance_at:
                continue
            level = self.levels[member]
            if level in self.passed_epoch and self.passed_epoch[level][member] is None:
                self.passed_epoch[level][member] = epoch
                for name, value in model.state_dict().items():
                    self.snapshots[level][name][member] = value[member].detach()
            if level < self.options.max_level:
                self.levels[member] += 1
        return (f"epoch {epoch}/{self.options.epochs}  levels {self.levels}  accuracy "
                + " ".join(f"{float(value):.3f}" for value in accuracy))

    def state_dict(self) -> dict[str, Any]:
        return {"levels": self.levels, "history": self.rows, "snapshots": self.snapshots,
                "passed_epoch": self.passed_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.levels, self.rows = list(state["levels"]), list(state["history"])
        self.snapshots = state["snapshots"]
        self.passed_epoch = {level: list(epochs) for level, epochs in state["passed_epoch"].items()}

    def snapshot(self, model: LeakyRNN, level: int) -> dict[str, torch.Tensor]:
        """Each member's state when it passed ``level`` (its last state if it never did)."""
        state = {name: value.clone() for name, value in self.snapshots[level].items()}
        for member, epoch in enumerate(self.passed_epoch[level]):
            if epoch is None:
                for name, value in model.state_dict().items():
                    state[name][member] = value[member].detach().cpu()
        return state


@dataclass
class GroupRun:
    """One group's ensemble after training: history, per-member metrics, and its state when each member
    passed level 1 and each analysis level (``passed_epoch`` None: never passed, the final state)."""

    model: LeakyRNN
    history: pd.DataFrame
    metrics: list[dict[str, Any]]
    snapshots: dict[int, dict[str, torch.Tensor]]
    passed_epoch: dict[int, list[int | None]]

    def snapshot_model(self, level: int) -> LeakyRNN:
        """The ensemble as it was when each member passed ``level`` (for a freeze group and level 1: the
        start of the freeze)."""
        snapshot = copy.deepcopy(self.model)
        snapshot.load_state_dict(self.snapshots[level])
        return snapshot


def run_group(group: str, section: Mapping[str, Any], seeds: list[int], base_seed: int, core: LeakyRNN | None = None,
              checkpoint: Path | None = None, config_hash: str = "", device: torch.device = CPU) -> GroupRun:
    """Train one group for the epoch budget on ``device`` (settings: the ``cbrnn`` config section). Every
    group but ``rnn`` is a CB-RNN built from the same member seeds (its core optionally from ``core``), so the
    freeze groups start from the CB-RNN's initial state and see its data. The run's model is on the CPU."""
    if group not in GROUPS:
        raise ValueError(f"unknown group '{group}' (use one of {', '.join(GROUPS)})")
    config, options = CBConfig.from_config(section), CurriculumOptions.from_config(section["curriculum"])
    member_seeds = [derive_seed(base_seed, "cbrnn", seed) for seed in seeds]
    model = build_model("rnn" if group == "rnn" else "cbrnn", config, member_seeds, core)
    model.to(device)
    frozen = group in FROZEN_GROUPS
    schedule = LevelCurriculum(model, config.task, member_seeds, options, freeze_group=group if frozen else None,
                               freeze=FreezeOptions.from_config(section) if frozen else None,
                               snapshot_levels=section["analysis_levels"])
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
                        **{f"level_{level}_epoch": epochs[member] for level, epochs in schedule.passed_epoch.items()},
                        "final_level_reached": schedule.levels[member], **curriculum_metrics(np.asarray(levels))})
    return GroupRun(model, history, metrics, {level: schedule.snapshot(model, level) for level in schedule.snapshots},
                    schedule.passed_epoch)


def model_meta(record: Mapping[str, Any], level: int) -> dict[str, Any]:
    """What the fixed-point and analysis stages need to rebuild the task at the network's level."""
    return {"family": "cbrnn", "group": record["group"], "seed": record["seed"], "task": record["task"],
            "task_settings": {"n_back": int(level), "dt_ms": 1.0}}


def snapshot_meta(record: Mapping[str, Any], level: int) -> dict[str, Any]:
    """:func:`model_meta` of a snapshot at ``level``, with the epoch it passed that level (None: never, and
    the file holds the final state)."""
    return {**model_meta(record, level), "passed_epoch": record[f"level_{level}_epoch"]}


@dataclass(frozen=True)
class GroupFiles:
    """Where one group's rule writes (one path per seed; snapshots seed-major over the analysis levels;
    ``level_one``, for the freeze groups, the state at the freeze)."""

    models: Sequence[str]
    histories: Sequence[str]
    metrics: Sequence[str]
    snapshots: Sequence[str]
    level_one: Sequence[str]


def train_group(group: str, section: Mapping[str, Any], seeds: list[int], base_seed: int, *, core_path: str | None,
                checkpoint_dir: str, files: GroupFiles, device: torch.device = CPU) -> None:
    """What the rules train_cbrnn and freeze_cbrnn do: train one group (resumable; the checkpoint is keyed by
    the settings and the core file's bytes) and write every member's network, history, metrics and snapshots."""
    settings = {"cbrnn": dict(section), "group": group, "seeds": seeds, "base_seed": base_seed}
    core = load_member(core_path)[0] if core_path else None
    core_file = {"core_sha256": hashlib.sha256(Path(core_path).read_bytes()).hexdigest()} if core_path else {}
    digest = config_hash({**settings, **core_file})
    checkpoint = Path(checkpoint_dir) / f"{digest}.pt"
    run = run_group(group, section, seeds, base_seed, core=core, checkpoint=checkpoint, config_hash=digest,
                    device=device)
    write_members(run.model, run.metrics, settings,
                  meta=lambda record: model_meta(record, record["final_level_reached"]), models=files.models,
                  histories=files.histories, history=run.history, metrics=files.metrics)
    levels = list(section["analysis_levels"])
    for index, level in enumerate(levels):
        write_members(run.snapshot_model(level), run.metrics, settings,
                      meta=functools.partial(snapshot_meta, level=level), models=files.snapshots[index::len(levels)])
    if files.level_one:
        start = section["curriculum"]["start_level"]
        write_members(run.snapshot_model(start), run.metrics, settings,
                      meta=functools.partial(snapshot_meta, level=start), models=files.level_one)
    checkpoint.unlink(missing_ok=True)
