"""Train MICrONS-constrained RNNs (one variant × task × mode, all seeds as one ensemble) and measure them.

Network as in the source: input noise (σ 0.05, at training only) → ReLU RNN of one unit per neuron
(no leak) → softmax readout; Adam. Initial weights depend on the seed index and variant only (a
W*-derived control on those of its bio variant), so tasks and modes are compared on the same
networks. How a mode trains and scores is its :data:`brainrnn.microns.PROTOCOLS` entry, carried out
by :class:`MicronsSchedule` inside the one trainer. Each run records the λ and λ_EMD it applied (in
matched mode, the rescaled ones; see :mod:`brainrnn.microns.model`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.devices import CPU
from brainrnn.microns import PROTOCOLS, Protocol, Variant, chance_level
from brainrnn.microns.analysis import graph_measures
from brainrnn.microns.field import Field
from brainrnn.microns.model import init_seed, initial_weights, make_penalty
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import Task, TaskBatch, stack_batches
from brainrnn.tasks.registry import make_task
from brainrnn.training import FixedTask, TrainingOptions, evaluate, member_generators, train_ensemble


@dataclass
class MicronsRun:
    model: LeakyRNN
    history: pd.DataFrame
    metrics: list[dict[str, Any]]


def score_last_step(batch: TaskBatch) -> TaskBatch:
    """The same trials scored on their final time step only (loss and accuracy), as a Keras RNN with
    ``return_sequences=False`` is; every cortical task's response epoch includes that step."""
    last = torch.zeros_like(batch.decision)
    last[-1] = True
    return replace(batch, mask=last.to(batch.mask.dtype), decision=last)


def take_trials(batch: TaskBatch, start: int, stop: int) -> TaskBatch:
    """Trials ``start:stop`` of a one-member batch (time-major: trials on axis 1, labels on axis 0)."""
    return TaskBatch(inputs=batch.inputs[:, start:stop], targets=batch.targets[:, start:stop],
                     mask=batch.mask[:, start:stop], decision=batch.decision[:, start:stop],
                     labels=batch.labels[start:stop],
                     epochs={name: mask[:, start:stop] for name, mask in batch.epochs.items()},
                     running=None if batch.running is None else batch.running[:, start:stop])


class MicronsSchedule(FixedTask):
    """:class:`~brainrnn.training.FixedTask` under a mode's :class:`~brainrnn.microns.Protocol`.

    Held-out trials come from the noise-free task. Training trials are fresh every step (drawn with
    their noise by the noisy task), or, with ``fixed_dataset``, one noise-free set of ``train_trials``
    per member drawn once from its own stream and cut into batches taken in the same order every epoch
    (the last one shorter when the size does not divide), with fresh noise added at every step from
    the member's data stream. With ``loss_steps == "last"`` every batch is scored on its final step.
    """

    def __init__(self, noisy_task: Task, clean_task: Task, member_seeds: Sequence[int], *, protocol: Protocol,
                 train_trials: int, input_noise: float, **fixed_task: Any) -> None:
        super().__init__(clean_task, member_seeds, **fixed_task)
        self.noisy_task, self.input_noise = noisy_task, input_noise
        self.last_step = protocol.loss_steps == "last"
        if self.last_step:
            self.held_out = score_last_step(self.held_out)
        self.dataset: list[TaskBatch] | None = None
        if protocol.fixed_dataset:
            self.dataset = [clean_task.sample(train_trials, generator)
                            for generator in member_generators(member_seeds, "microns-dataset")]
        self.train_trials = train_trials
        self.draws = 0

    @classmethod
    def build(cls, task_name: str, settings: Mapping[str, Any], member_seeds: Sequence[int], *, mode: str,
              eval_seed: int) -> MicronsSchedule:
        """The schedule of ``mode`` for ``task_name`` from the ``microns`` config section."""
        training = settings["training"]
        return cls(make_task(task_name, **task_settings(task_name, settings)),
                   make_task(task_name, **task_settings(task_name, settings, noise=False)), member_seeds,
                   protocol=PROTOCOLS[mode], train_trials=training["train_trials"],
                   input_noise=settings["input_noise"], batch_size=training["batch_size"],
                   eval_trials=training["eval_trials"], eval_seed=eval_seed, criterion=training["criterion"],
                   stop_at_criterion=training["stop_at_criterion"], plateau_fraction=training["plateau_fraction"],
                   total_steps=training["steps"])

    @property
    def batches_per_epoch(self) -> int:
        return math.ceil(self.train_trials / self.batch_size)

    def sample(self) -> tuple[TaskBatch, Task]:
        if self.dataset is None:
            batch = stack_batches([self.noisy_task.sample(self.batch_size, generator)
                                   for generator in self.generators])
        else:
            start = (self.draws % self.batches_per_epoch) * self.batch_size
            stop = min(start + self.batch_size, self.train_trials)
            members = [take_trials(trials, start, stop) for trials in self.dataset]
            batch = stack_batches([replace(member, inputs=member.inputs + self.input_noise * torch.randn(
                member.inputs.shape, generator=generator)) for member, generator in zip(members, self.generators,
                                                                                         strict=True)])
        self.draws += 1
        return (score_last_step(batch) if self.last_step else batch), self.noisy_task

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "draws": self.draws}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.draws = int(state["draws"])


def task_settings(task_name: str, settings: Mapping[str, Any], *, noise: bool = True) -> dict[str, Any]:
    """The keyword settings of ``task_name`` from the ``microns`` config section (the noise-free ones are
    stored with each model, so the fixed-point stage rebuilds the task the networks were evaluated on)."""
    extra = {"distractor": settings["one_choice_distractor"]} if task_name == "one_choice" else {}
    return {"input_noise": settings["input_noise"] if noise else 0.0, **extra}


def initial_structure(weight: np.ndarray) -> dict[str, float]:
    """Spectral radius of an initial matrix and the share of its squared norm on the diagonal."""
    total = float((weight**2).sum())
    return {"init_spectral_radius": float(np.abs(np.linalg.eigvals(weight)).max()),
            "init_diagonal_share": float((np.diag(weight) ** 2).sum() / total) if total > 0 else float("nan")}


def train_variant(field: Field, name: str, task_name: str, mode: str, seeds: list[int], base_seed: int,
                  settings: dict[str, Any], nulls: dict[str, float], device: torch.device = CPU) -> MicronsRun:
    """Train ``name`` on ``task_name`` for every seed on ``device``; return the ensemble (on the CPU) and
    per-member metrics."""
    variant = Variant.parse(name)
    training = settings["training"]
    member_seeds = [derive_seed(base_seed, "microns", seed) for seed in seeds]
    schedule = MicronsSchedule.build(task_name, settings, member_seeds, mode=mode,
                                     eval_seed=derive_seed(base_seed, "microns-heldout"))
    task = schedule.task
    shape = RNNShape(n_inputs=task.n_inputs, n_hidden=field.n_neurons, n_outputs=task.n_outputs,
                     activation="relu", dt_ms=1.0, tau_ms=1.0)
    model = LeakyRNN(shape, member_seeds)
    starts = [initial_weights(variant, field, np.random.default_rng(init_seed(member_seed, name)))
              for member_seed in member_seeds]
    with torch.no_grad():
        for member, start in enumerate(starts):
            model.recurrent[member] = torch.tensor(start, dtype=torch.float32)
    penalty = make_penalty(variant, field, mode, strength=settings["lambda"], emd_strength=settings["lambda_emd"],
                           diagonal=settings["penalty_diagonal"], reference=settings["match_reference"],
                           match_seed=derive_seed(base_seed, "microns-match", field.name))
    model.to(device)
    on_device = penalty.to(device)
    train_ensemble(model, schedule, TrainingOptions.from_config(training),
                   penalty=lambda network: on_device(network.recurrent_weight))
    model.cpu()
    history = schedule.history(FixedTask.HISTORY)
    test = task.sample(training["eval_trials"], torch.Generator().manual_seed(derive_seed(base_seed, "microns-test")))
    test_batch = stack_batches([test] * model.members)
    accuracy, _ = evaluate(model, task, score_last_step(test_batch) if schedule.last_step else test_batch)
    weights = model.recurrent_weight.detach().numpy()
    plateau = schedule.plateau_loss()
    metrics = [{"family": "microns", "mode": mode, "field": field.name, "variant": name, "task": task_name,
                "seed": seed, "member_seed": member_seeds[member], "n_neurons": field.n_neurons,
                "lambda": penalty.effective_strength, "lambda_emd": penalty.emd_strength,
                "penalty_diagonal": settings["penalty_diagonal"],
                **initial_structure(starts[member]),
                "final_accuracy": float(accuracy[member]), "test_trials": int(training["eval_trials"]),
                "chance_level": chance_level(task_name, settings["one_choice_distractor"]),
                "train_accuracy_last": float(history.loc[history["member"] == member, "train_accuracy"].iloc[-1]),
                "steps_to_criterion": schedule.reached[member],
                "plateau_loss": plateau[member],
                **graph_measures(weights[member], nulls, seed=derive_seed(member_seeds[member], "louvain"),
                                 n_degree_nulls=settings["n_degree_nulls"])}
               for member, seed in enumerate(seeds)]
    return MicronsRun(model, history, metrics)


def model_meta(record: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """What the fixed-point stage needs to rebuild the (noise-free) task a saved network was evaluated on."""
    meta = {key: record[key] for key in ("family", "mode", "field", "variant", "task", "seed")}
    return {**meta, "task_settings": task_settings(record["task"], settings, noise=False)}
