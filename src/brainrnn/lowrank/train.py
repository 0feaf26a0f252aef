"""Training of the low-rank networks and tiny GRUs as schedules of the one trainer, and what each job records.

Both modes give the trainer each step's loss (:meth:`~brainrnn.training.Schedule.step_loss`):

* :class:`ChoiceFit` (``fit``): the network reads the last trial's action, reward and state and
  predicts the next choice of the agent (or subject) whose sessions it is given; loss = NLL per
  trial (+ regularisers). Mini-batches of ``batch_sessions`` training sessions (null: all of them,
  Ji-An et al.'s full batch), reshuffled every epoch from the member's own stream; validation NLL
  after every epoch; a member stops after ``patience`` epochs without improvement and ends with its
  best weights (early stopping).
* :class:`ClosedLoop` (``act``): every step each member plays ``sessions`` fresh sessions of its own
  environments, choosing by its policy; loss = REINFORCE with the value readout as the learned
  baseline (A2C, as in meta-reinforcement learning, Wang et al. 2018): −(G − V) log π + c_v (G − V)²
  − c_H entropy, G the discounted return. An epoch is ``steps_per_epoch`` steps; the members are
  evaluated on fixed held-out environments after each.

Seeds: a seed index is one replicate, shared by every configuration: the same choice data set and
split (fit), the same training and test environments (act and the behaviour tests), so premature,
mature and GRU networks are compared pairwise; initial weights depend on the configuration and seed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.lowrank import SPLITS, gru_name
from brainrnn.lowrank.agents import TaskStructure, make_agent, mean_nll
from brainrnn.lowrank.analysis import (
    Play,
    behaviour,
    member_choices,
    play,
    simulate_agent,
    stack_environments,
    structure,
)
from brainrnn.lowrank.choices import Choices, from_table, split_sessions
from brainrnn.lowrank.model import (
    Development,
    Network,
    Regularisation,
    Regulariser,
    developmental_regulariser,
    l1_regulariser,
    low_rank_network,
    tiny_gru,
)
from brainrnn.options import from_section
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import Task, TaskBatch
from brainrnn.tasks.registry import make_task
from brainrnn.tasks.reward import Environment, RewardTask
from brainrnn.training import ClosedGroup, Schedule, TrainingOptions, member_generators, train_ensemble


@dataclass(frozen=True)
class FitOptions:
    """Choice fitting (the ``lowrank.fit`` config section documents each field)."""

    max_epochs: int
    patience: int
    batch_sessions: int | None

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> FitOptions:
        return from_section(cls, section)


@dataclass(frozen=True)
class ActOptions:
    """Closed-loop reinforcement learning (the ``lowrank.act`` config section documents each field)."""

    epochs: int
    steps_per_epoch: int
    sessions: int
    learning_rate: float
    discount: float
    value_weight: float
    entropy_weight: float
    eval_sessions: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> ActOptions:
        return from_section(cls, section)


@dataclass(frozen=True)
class SessionTensors:
    """Sessions of every member as network tensors: inputs (T, E, B, n_in), targets = the actions (T, E, B),
    mask = the valid trials (T, E, B)."""

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor

    @classmethod
    def of(cls, task: RewardTask, per_member: Sequence[Choices]) -> SessionTensors:
        trials = max(choices.trials for choices in per_member)
        parts = []
        for choices in per_member:
            pad = ((0, 0), (0, trials - choices.trials))
            actions, options, rewards, valid = (torch.as_tensor(np.pad(array, pad)).T for array in
                                                (choices.actions, choices.options, choices.rewards, choices.valid))
            parts.append((task.encode(actions.long(), options.long(), rewards.float()), actions.long(), valid.float()))
        return cls(*(torch.stack(tensors, dim=1) for tensors in zip(*parts, strict=True)))

    def select(self, index: torch.Tensor) -> SessionTensors:
        """Per member the sessions ``index`` (E, b) lists."""
        gather = index.unsqueeze(0).expand(self.targets.shape[0], -1, -1)
        return SessionTensors(self.inputs.gather(2, gather.unsqueeze(-1).expand(-1, -1, -1, self.inputs.shape[-1])),
                              self.targets.gather(2, gather), self.mask.gather(2, gather))


def choice_nll(model: Network, sessions: SessionTensors, n_actions: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean NLL per valid trial of each member (E,), and the states (T, E, B, N)."""
    readout, states = model(sessions.inputs)
    per_trial = torch.nn.functional.cross_entropy(readout[..., :n_actions].movedim(-1, 1), sessions.targets,
                                                  reduction="none")
    return (per_trial * sessions.mask).sum(dim=(0, 2)) / sessions.mask.sum(dim=(0, 2)), states


def decay_weights(model: Network, factor: float, open_members: torch.Tensor) -> None:
    """AdamW's decoupled weight decay θ ← (1 − lr·wd) θ, for the members still training."""
    if factor == 0.0:
        return
    with torch.no_grad():
        for parameter in model.parameters():
            scale = torch.where(open_members, 1.0 - factor, 1.0).view(-1, *([1] * (parameter.dim() - 1)))
            parameter.mul_(scale)


class _NoSample:
    """Schedules that supply their loss never ask the trainer to run a batch."""

    def sample(self) -> tuple[TaskBatch, Task]:
        raise TypeError("this schedule supplies each step's loss (step_loss); the trainer never samples it")


class ChoiceFit(_NoSample, Schedule):
    """Fit choices with mini-batches, validation every epoch and per-member early stopping (module docstring)."""

    HISTORY = ("member", "epoch", "train_loss", "train_nll", "validation_nll")

    def __init__(self, model: Network, train: SessionTensors, validation: SessionTensors, member_seeds: Sequence[int],
                 *, options: FitOptions, n_actions: int, regulariser: Regulariser,
                 regularisation: Regularisation | None, decoupled_decay: float) -> None:
        self.train, self.validation, self.options, self.n_actions = train, validation, options, n_actions
        self.regulariser, self.regularisation, self.decoupled_decay = regulariser, regularisation, decoupled_decay
        self.members = model.members
        self.generators = member_generators(member_seeds, "lowrank-fit")
        sessions = train.targets.shape[2]
        self.batch = sessions if options.batch_sessions is None else min(options.batch_sessions, sessions)
        self.batches_per_epoch = math.ceil(sessions / self.batch)
        self.position, self.steps_done = 0, 0
        self.order = torch.zeros(self.members, sessions, dtype=torch.long)
        self.rows: list[dict[str, Any]] = []
        self.best_nll = [math.inf] * self.members
        self.best_epoch = [0] * self.members
        self.stopped = [False] * self.members
        self.best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}

    @property
    def open_members(self) -> torch.Tensor:
        return torch.tensor([not stopped for stopped in self.stopped])

    def step_loss(self, model: Network) -> tuple[torch.Tensor, torch.Tensor]:
        if self.position == 0:
            self.order = torch.stack([torch.randperm(self.order.shape[1], generator=generator)
                                      for generator in self.generators])
        batch = self.train.select(self.order[:, self.position * self.batch:(self.position + 1) * self.batch])
        epochs_done = self.steps_done / self.batches_per_epoch
        self.position, self.steps_done = (self.position + 1) % self.batches_per_epoch, self.steps_done + 1
        decay_weights(model, self.decoupled_decay, self.open_members)
        nll, states = choice_nll(model, batch, self.n_actions)
        warmup = self.regularisation.warmup(epochs_done) if self.regularisation is not None else 1.0
        return nll + self.regulariser(model, batch.inputs, states, warmup), nll.detach()

    def closed(self, model: Network, trainable: list[torch.nn.Parameter]) -> list[ClosedGroup]:
        open_members = self.open_members
        return [] if bool(open_members.all()) else [(trainable, open_members)]

    def finished(self) -> bool:
        return all(self.stopped)

    @torch.no_grad()
    def evaluate(self, model: Network, step: int, train_sums: torch.Tensor, count: int,
                 penalty: torch.Tensor) -> str:
        epoch = step // self.batches_per_epoch
        validation, _ = choice_nll(model, self.validation, self.n_actions)
        state = model.state_dict()
        for member in range(self.members):
            if self.stopped[member]:
                continue
            self.rows.append({"member": member, "epoch": epoch, "train_loss": float(train_sums[0, member]) / count,
                              "train_nll": float(train_sums[1, member]) / count,
                              "validation_nll": float(validation[member])})
            if float(validation[member]) < self.best_nll[member]:
                self.best_nll[member], self.best_epoch[member] = float(validation[member]), epoch
                for name, value in state.items():
                    self.best_state[name][member] = value[member]
            elif epoch - self.best_epoch[member] >= self.options.patience:
                self.stopped[member] = True
        return (f"epoch {epoch}/{self.options.max_epochs}  validation NLL "
                + " ".join(f"{float(value):.4f}" for value in validation) + f"  stopped {sum(self.stopped)}")

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.rows, "best_nll": self.best_nll, "best_epoch": self.best_epoch,
                "stopped": self.stopped, "best_state": self.best_state, "position": self.position,
                "steps_done": self.steps_done, "order": self.order}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows, self.best_nll = list(state["history"]), list(state["best_nll"])
        self.best_epoch, self.stopped = list(state["best_epoch"]), list(state["stopped"])
        self.best_state, self.position, self.order = state["best_state"], state["position"], state["order"]
        self.steps_done = int(state["steps_done"])


def policy_gradient_loss(played: Play, options: ActOptions) -> torch.Tensor:
    """REINFORCE with a learned baseline per member (E,): −(G − V) log π + c_v (G − V)² − c_H entropy."""
    assert played.values is not None, "an act-mode network reads out a value estimate"
    returns, following = [], torch.zeros_like(played.rewards[0])
    for reward in played.rewards.flip(0):
        following = reward + options.discount * following
        returns.append(following)
    discounted = torch.stack(returns).flip(0)
    advantage = discounted - played.values.detach()
    policy = -(advantage * played.log_probabilities).mean(dim=(0, 2))
    value = ((discounted - played.values) ** 2).mean(dim=(0, 2))
    return policy + options.value_weight * value - options.entropy_weight * played.entropy.mean(dim=(0, 2))


class ClosedLoop(_NoSample, Schedule):
    """Learn from reward in closed loop (module docstring); held-out reward after every epoch."""

    HISTORY = ("member", "epoch", "train_loss", "train_reward", "eval_reward", "eval_p_best")

    def __init__(self, task: RewardTask, stream_seeds: Sequence[int], evaluation: Environment, *, options: ActOptions,
                 regulariser: Regulariser, regularisation: Regularisation | None, decoupled_decay: float) -> None:
        self.task, self.evaluation, self.options = task, evaluation, options
        self.regulariser, self.regularisation, self.decoupled_decay = regulariser, regularisation, decoupled_decay
        self.generators = member_generators(stream_seeds, "lowrank-act")
        self.steps_done = 0
        self.rows: list[dict[str, Any]] = []

    def step_loss(self, model: Network) -> tuple[torch.Tensor, torch.Tensor]:
        environment = stack_environments([self.task.environment(self.options.sessions, generator)
                                          for generator in self.generators])
        decay_weights(model, self.decoupled_decay, torch.ones(model.members, dtype=torch.bool))
        played = play(model, self.task, environment)
        warmup = (self.regularisation.warmup(self.steps_done / self.options.steps_per_epoch)
                  if self.regularisation is not None else 1.0)
        self.steps_done += 1
        loss = policy_gradient_loss(played, self.options)
        return loss + self.regulariser(model, played.inputs, played.states, warmup), played.rewards.mean(dim=(0, 2))

    @torch.no_grad()
    def evaluate(self, model: Network, step: int, train_sums: torch.Tensor, count: int,
                 penalty: torch.Tensor) -> str:
        played = play(model, self.task, self.evaluation)
        reward = played.rewards.mean(dim=(0, 2))
        p_best = (played.actions == self.evaluation.best).float().mean(dim=(0, 2))
        epoch = step // self.options.steps_per_epoch
        for member in range(model.members):
            self.rows.append({"member": member, "epoch": epoch, "train_loss": float(train_sums[0, member]) / count,
                              "train_reward": float(train_sums[1, member]) / count,
                              "eval_reward": float(reward[member]), "eval_p_best": float(p_best[member])})
        return (f"epoch {epoch}/{self.options.epochs}  held-out reward "
                + " ".join(f"{float(value):.3f}" for value in reward))

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.rows, "steps_done": self.steps_done}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows, self.steps_done = list(state["history"]), int(state["steps_done"])


def reward_task(task_name: str, section: Mapping[str, Any]) -> RewardTask:
    """The configured reward task (``lowrank.task_settings.<task>``)."""
    task = make_task(task_name, **task_settings(task_name, section))
    assert isinstance(task, RewardTask), f"{task_name} is a reward-learning task"
    return task


def task_settings(task_name: str, section: Mapping[str, Any]) -> dict[str, Any]:
    """The task's keyword settings (also stored with each model, so the fixed-point stage rebuilds the task)."""
    return dict(section["task_settings"][task_name])


def environments(task: RewardTask, stream: str, task_name: str, seeds: Sequence[int], base_seed: int,
                 sessions: int) -> Environment:
    """One environment per seed, stacked (T, E, B), drawn from a stream named by its purpose, task and seed."""
    return stack_environments([task.environment(sessions, torch.Generator().manual_seed(
        derive_seed(base_seed, stream, task_name, seed))) for seed in seeds])


# ----------------------------------------------------------------------------- generating data


@dataclass
class ChoiceData:
    """One seed's choice data set with its split and what the generating agent scores (NaN for a user's data)."""

    table: pd.DataFrame
    record: dict[str, Any]


def simulate_choices(task_name: str, section: Mapping[str, Any], seed: int, base_seed: int) -> ChoiceData:
    """The generating agent's sessions for one seed, split into train / validation / test, with the agent's own
    NLL per split (the ceiling), chance, and the agent's behavioural signatures."""
    task = reward_task(task_name, section)
    data = section["choices"]
    environment = task.environment(data["sessions"], torch.Generator().manual_seed(
        derive_seed(base_seed, "lowrank-data", task_name, seed)))
    name = data["agents"][task_name]
    agent = make_agent(name, TaskStructure.of(task_name, task_settings(task_name, section)),
                       section["agent_parameters"][name])
    choices = simulate_agent(agent, task, environment)
    split = split_sessions(choices.sessions, data["validation_fraction"], data["test_fraction"],
                           derive_seed(base_seed, "lowrank-split", task_name, seed))
    analysis = section["analysis"]
    record = {"task": task_name, "seed": seed, "agent": name, "agent_parameters": dict(agent.parameters),
              "nll_chance": math.log(task.n_actions),
              **{f"nll_ceiling_{part}": mean_nll(agent, choices.subset(split == part)) for part in SPLITS},
              **behaviour(choices, environment, task_name, before=analysis["adaptation_before"],
                          window=analysis["adaptation_window"])}
    return ChoiceData(choices.to_table(split), record)


def user_choices(task_name: str, table: pd.DataFrame, section: Mapping[str, Any], seed: int,
                 base_seed: int) -> ChoiceData:
    """A user's checked choice table with a seeded split; no generating agent, so no ceiling."""
    choices, _ = from_table(table)
    data = section["choices"]
    split = split_sessions(choices.sessions, data["validation_fraction"], data["test_fraction"],
                           derive_seed(base_seed, "lowrank-split", task_name, seed))
    table = table.assign(split=split[pd.factorize(table["session"])[0]])
    n_actions = reward_task(task_name, section).n_actions
    return ChoiceData(table, {"task": task_name, "seed": seed, "agent": None, "nll_chance": math.log(n_actions),
                              **{f"nll_ceiling_{part}": math.nan for part in SPLITS}})


# ----------------------------------------------------------------------------- training jobs


@dataclass
class TrainedRun:
    """One configuration's ensemble after training: the model (one member per seed, or per seed × L1 for
    GRUs), its history and one metrics record per member."""

    model: Network
    history: pd.DataFrame
    metrics: list[dict[str, Any]]


def trainer_options(section: Mapping[str, Any], mode: str, steps_per_epoch: int,
                    learning_rate: float) -> TrainingOptions:
    """The trainer's settings: Adam, the configured clipping, evaluation (and a checkpoint) every epoch."""
    epochs = section["fit"]["max_epochs"] if mode == "fit" else section["act"]["epochs"]
    return TrainingOptions(steps=epochs * steps_per_epoch, learning_rate=learning_rate, optimiser="adam",
                           momentum=0.0, clip_grad_norm=section["optimiser"]["clip_grad_norm"], recurrent_noise=None,
                           eval_every=steps_per_epoch, checkpoint_every=steps_per_epoch)


def _train(model: Network, mode: str, task_name: str, section: Mapping[str, Any], member_seeds: Sequence[int],
           stream_seeds: Sequence[int], data: Sequence[Mapping[str, Choices]] | None, *, regulariser: Regulariser,
           regularisation: Regularisation | None, learning_rate: float, decoupled_weight_decay: float, base_seed: int,
           checkpoint: Path | None, config_hash: str) -> tuple[pd.DataFrame, list[float]]:
    """Train ``model`` in ``mode`` (``learning_rate`` is the fit mode's; act mode has its own; AdamW's decoupled
    weight decay θ ← (1 − lr·wd) θ where ``decoupled_weight_decay`` > 0); return its history and each member's
    selection score (validation NLL in fit mode, lower is better; minus the last held-out reward in act mode)."""
    task = reward_task(task_name, section)
    schedule: ChoiceFit | ClosedLoop
    if mode == "fit":
        assert data is not None, "fit mode needs choice data"
        schedule = ChoiceFit(model, SessionTensors.of(task, [split["train"] for split in data]),
                             SessionTensors.of(task, [split["validation"] for split in data]), member_seeds,
                             options=FitOptions.from_config(section["fit"]), n_actions=task.n_actions,
                             regulariser=regulariser, regularisation=regularisation,
                             decoupled_decay=learning_rate * decoupled_weight_decay)
        steps_per_epoch = schedule.batches_per_epoch
    else:
        act = ActOptions.from_config(section["act"])
        learning_rate, steps_per_epoch = act.learning_rate, act.steps_per_epoch
        evaluation = environments(task, "lowrank-validation", task_name, stream_seeds, base_seed, act.eval_sessions)
        schedule = ClosedLoop(task, [derive_seed(base_seed, "lowrank-act", task_name, seed) for seed in stream_seeds],
                              evaluation, options=act, regulariser=regulariser, regularisation=regularisation,
                              decoupled_decay=learning_rate * decoupled_weight_decay)
    # train_ensemble is typed for LeakyRNN, whose forward pass it runs itself; with a schedule that supplies the
    # loss it only needs the module's parameters and state, which a TinyGRU has as well
    train_ensemble(model, schedule, trainer_options(section, mode, steps_per_epoch, learning_rate),  # type: ignore[arg-type]
                   checkpoint=checkpoint, config_hash=config_hash)
    history = schedule.history(schedule.HISTORY)
    if isinstance(schedule, ChoiceFit):
        model.load_state_dict(schedule.best_state)
        return history, list(schedule.best_nll)
    last = history.groupby("member")["eval_reward"].last()
    return history, [-float(last[member]) for member in range(model.members)]


def measure(model: Network, task_name: str, section: Mapping[str, Any], seeds: Sequence[int], base_seed: int,
            data: Sequence[Mapping[str, Choices]] | None) -> list[dict[str, Any]]:
    """Per member: NLL on every split (fit mode), closed-loop behaviour on the seed's test environments and the
    structure of the network during that play."""
    task = reward_task(task_name, section)
    analysis = section["analysis"]
    test = environments(task, "lowrank-test", task_name, seeds, base_seed, analysis["test_sessions"])
    with torch.no_grad():
        played = play(model, task, test)
        nll = {part: choice_nll(model, SessionTensors.of(task, [split[part] for split in data]), task.n_actions)[0]
               for part in SPLITS} if data is not None else {}
    records = []
    for member in range(model.members):
        member_environment = Environment(*(getattr(test, field.name)[:, member] for field in dataclasses.fields(test)))
        record = {**{f"nll_{part}": float(values[member]) for part, values in nll.items()},
                  **behaviour(member_choices(played, member), member_environment, task_name,
                              before=analysis["adaptation_before"], window=analysis["adaptation_window"]),
                  **structure(model, played, member, decay_values=analysis["decay_values"])}
        records.append(record)
    return records


def train_developmental(mode: str, task_name: str, configuration: str, section: Mapping[str, Any], seeds: list[int],
                        base_seed: int, data: Sequence[Mapping[str, Choices]] | None, *, checkpoint: Path | None = None,
                        config_hash: str = "") -> TrainedRun:
    """Train the ``premature`` or ``mature`` low-rank networks of one mode and task (one member per seed)."""
    development = Development.from_config(section["developmental"][configuration])
    regularisation = Regularisation.from_config(section["regularisation"])
    task = reward_task(task_name, section)
    member_seeds = [derive_seed(base_seed, "lowrank", configuration, seed) for seed in seeds]
    model = low_rank_network(task, mode, development, section["network"], member_seeds)
    optimiser = section["optimiser"]
    history, _ = _train(model, mode, task_name, section, member_seeds, seeds, data,
                        regulariser=developmental_regulariser(development, regularisation, optimiser["weight_decay"]),
                        regularisation=regularisation, learning_rate=optimiser["learning_rate"],
                        decoupled_weight_decay=0.0,
                        base_seed=base_seed, checkpoint=checkpoint, config_hash=config_hash)
    measured = measure(model, task_name, section, seeds, base_seed, data)
    metrics = [{"family": "lowrank", "mode": mode, "task": task_name, "configuration": configuration, "seed": seed,
                "member_seed": member_seed, "rank_bound": development.rank + 1, "decay_target": development.decay,
                "units": section["network"]["units"], **record}
               for seed, member_seed, record in zip(seeds, member_seeds, measured, strict=True)]
    return TrainedRun(model, history, metrics)


@dataclass
class GRURuns:
    """Tiny GRUs of one size: the ensemble (seed × L1 members), its history, and per seed the selected member."""

    units: int
    run: TrainedRun
    selected: list[int]


def train_grus(mode: str, task_name: str, section: Mapping[str, Any], seeds: list[int], base_seed: int,
               data: Sequence[Mapping[str, Choices]] | None, *, checkpoint_dir: Path | None = None,
               config_hash: str = "") -> list[GRURuns]:
    """Tiny GRUs of every configured size; per size one ensemble of seeds × L1 strengths, and per seed the L1
    strength with the best validation score (NLL in fit mode, held-out reward in act mode)."""
    gru = section["gru"]
    strengths = list(gru["l1"])
    member_keys = [(seed, strength) for seed in seeds for strength in strengths]
    member_data = None if data is None else [data[seeds.index(seed)] for seed, _ in member_keys]
    results = []
    for units in gru["units"]:
        task = reward_task(task_name, section)
        member_seeds = [derive_seed(base_seed, "lowrank", gru_name(units), seed) for seed, _ in member_keys]
        model = tiny_gru(task, mode, units, member_seeds)
        checkpoint = None if checkpoint_dir is None else checkpoint_dir / f"{gru_name(units)}-{config_hash}.pt"
        history, scores = _train(model, mode, task_name, section, member_seeds, [seed for seed, _ in member_keys],
                                 member_data, regulariser=l1_regulariser(torch.tensor([s for _, s in member_keys])),
                                 regularisation=None, learning_rate=gru["learning_rate"],
                                 decoupled_weight_decay=gru["weight_decay"], base_seed=base_seed,
                                 checkpoint=checkpoint, config_hash=config_hash)
        measured = measure(model, task_name, section, [seed for seed, _ in member_keys], base_seed, member_data)
        selected = [min((index for index, (key, _) in enumerate(member_keys) if key == seed),
                        key=lambda index: scores[index]) for seed in seeds]
        metrics = [{"family": "lowrank", "mode": mode, "task": task_name, "configuration": gru_name(units),
                    "seed": seed, "member_seed": member_seeds[index], "units": units, "l1": strength,
                    "selected": index in selected, "selection_score": scores[index], **measured[index]}
                   for index, (seed, strength) in enumerate(member_keys)]
        results.append(GRURuns(units, TrainedRun(model, history, metrics), selected))
    return results


def model_meta(record: Mapping[str, Any], section: Mapping[str, Any]) -> dict[str, Any]:
    """What the fixed-point stage needs to rebuild the task a saved network was trained on."""
    meta = {key: record[key] for key in ("family", "mode", "task", "configuration", "seed")}
    return {**meta, "task_settings": task_settings(record["task"], section)}
