"""Train MICrONS-constrained RNNs (one variant × task × mode, all seeds as one ensemble) and measure them.

Network as in the source: input noise (σ 0.05) → ReLU RNN of one unit per neuron (no leak) →
softmax readout; Adam. Initial weights depend on the seed index and variant only, so tasks and
modes are compared on the same networks. Each run records the λ and λ_EMD it applied (in matched
mode, the rescaled ones; see :mod:`brainrnn.microns.model`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.devices import CPU
from brainrnn.microns import Variant
from brainrnn.microns.analysis import graph_measures
from brainrnn.microns.field import Field
from brainrnn.microns.model import initial_weights, make_penalty
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import stack_batches
from brainrnn.tasks.registry import make_task
from brainrnn.training import FixedTask, TrainingOptions, evaluate, train_ensemble


@dataclass
class MicronsRun:
    model: LeakyRNN
    history: pd.DataFrame
    metrics: list[dict[str, Any]]


def task_settings(task_name: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The keyword settings of ``task_name`` from the ``microns`` config section (also stored with
    each model, so the fixed-point stage rebuilds the same task)."""
    extra = {"distractor": settings["one_choice_distractor"]} if task_name == "one_choice" else {}
    return {"input_noise": settings["input_noise"], **extra}


def train_variant(field: Field, name: str, task_name: str, mode: str, seeds: list[int], base_seed: int,
                  settings: dict[str, Any], nulls: dict[str, float], device: torch.device = CPU) -> MicronsRun:
    """Train ``name`` on ``task_name`` for every seed on ``device``; return the ensemble (on the CPU) and
    per-member metrics."""
    variant = Variant.parse(name)
    task = make_task(task_name, **task_settings(task_name, settings))
    shape = RNNShape(n_inputs=task.n_inputs, n_hidden=field.n_neurons, n_outputs=task.n_outputs,
                     activation="relu", dt_ms=1.0, tau_ms=1.0)
    member_seeds = [derive_seed(base_seed, "microns", seed) for seed in seeds]
    model = LeakyRNN(shape, member_seeds)
    with torch.no_grad():
        for member, member_seed in enumerate(member_seeds):
            rng = np.random.default_rng(derive_seed(member_seed, "init", name))
            model.recurrent[member] = torch.tensor(initial_weights(variant, field, rng), dtype=torch.float32)
    penalty = make_penalty(variant, field, mode, strength=settings["lambda"], emd_strength=settings["lambda_emd"],
                           reference=settings["match_reference"],
                           match_seed=derive_seed(base_seed, "microns-match", field.name))
    training = settings["training"]
    schedule = FixedTask.from_config(task, member_seeds, training,
                                     eval_seed=derive_seed(base_seed, "microns-heldout"))
    model.to(device)
    on_device = penalty.to(device)
    train_ensemble(model, schedule, TrainingOptions.from_config(training),
                   penalty=lambda network: on_device(network.recurrent_weight))
    model.cpu()
    history = schedule.history(FixedTask.HISTORY)
    test = task.sample(training["eval_trials"], torch.Generator().manual_seed(derive_seed(base_seed, "microns-test")))
    accuracy, _ = evaluate(model, task, stack_batches([test] * model.members))
    weights = model.recurrent_weight.detach().numpy()
    plateau = schedule.plateau_loss()
    metrics = [{"family": "microns", "mode": mode, "field": field.name, "variant": name, "task": task_name,
                "seed": seed, "member_seed": member_seeds[member], "n_neurons": field.n_neurons,
                "lambda": penalty.effective_strength, "lambda_emd": penalty.emd_strength,
                "final_accuracy": float(accuracy[member]),
                "train_accuracy_last": float(history.loc[history["member"] == member, "train_accuracy"].iloc[-1]),
                "steps_to_criterion": schedule.reached[member],
                "plateau_loss": plateau[member],
                **graph_measures(weights[member], nulls, seed=derive_seed(member_seeds[member], "louvain"))}
               for member, seed in enumerate(seeds)]
    return MicronsRun(model, history, metrics)


def model_meta(record: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """What the fixed-point stage needs to rebuild the task a saved network was trained on."""
    meta = {key: record[key] for key in ("family", "mode", "field", "variant", "task", "seed")}
    return {**meta, "task_settings": task_settings(record["task"], settings)}
