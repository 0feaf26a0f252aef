"""Train every seed of one variant × subject as one ensemble and measure each member."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.devices import CPU
from brainrnn.gradreg import parse_variant
from brainrnn.gradreg.analysis import alignment
from brainrnn.gradreg.model import (
    SubjectGeometry,
    build_shape,
    build_task,
    run_geometry,
    task_settings,
    unit_time_constants,
    variant_distances,
)
from brainrnn.models.regularisers import pairwise_distances, wiring_cost
from brainrnn.models.rnn import LeakyRNN
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import stack_batches
from brainrnn.training import FixedTask, TrainingOptions, evaluate, train_ensemble


@dataclass
class TrainedEnsemble:
    """One job's ensemble (one member per seed) and what each member learned."""

    model: LeakyRNN
    history: pd.DataFrame
    metrics: list[dict[str, Any]]
    member_seeds: list[int]


def train_variant(*, variant: str, subject: str, seeds: list[int], base_seed: int, geometry: SubjectGeometry,
                  group_geometry: SubjectGeometry, section: dict[str, Any], checkpoint: Path | None = None,
                  config_hash: str = "", device: torch.device = CPU) -> TrainedEnsemble:
    """Train all seeds of one variant × subject (settings: the ``gradreg`` config section) on ``device``.
    ``variant`` is one of the variants or a compression run ``<variant>-x<scale>`` (G1 rescaled by ``scale``).

    Initial weights and data streams depend only on the seed index, not on the subject or the
    variant: every comparison between variants or subjects is paired. The trained ensemble is
    returned on the CPU.
    """
    name = variant
    variant, geometry = run_geometry(name, geometry)
    task = build_task(section)
    n_units = len(geometry.regions)
    model_settings = section["model"]
    tau = unit_time_constants(geometry.timescales_s, model_settings["tau_ms"], section["dt_ms"]) \
        if model_settings["time_constants"] == "timescales" else None
    member_seeds = [derive_seed(base_seed, "rnn", seed) for seed in seeds]
    model = LeakyRNN(build_shape(section, task, n_units), member_seeds, tau_ms=tau).to(device)
    charged = [variant_distances(variant, geometry, group_geometry, derive_seed(base_seed, "shuffle", subject, seed))
               for seed in seeds]
    distances = torch.tensor(np.stack([d for d, _ in charged]), dtype=torch.float32, device=device)
    lambdas = [float(section["lambda"]) if penalised else 0.0 for _, penalised in charged]
    strength = torch.tensor(lambdas, device=device)

    def penalty(network: LeakyRNN) -> torch.Tensor:
        return wiring_cost(network.recurrent_weight, distances, strength,
                           with_communicability=section["communicability"])

    training = section["training"]
    schedule = FixedTask.from_config(task, member_seeds, training, eval_seed=derive_seed(base_seed, "heldout"))
    run = train_ensemble(model, schedule, TrainingOptions.from_config(training), penalty=penalty,
                         checkpoint=checkpoint, config_hash=config_hash)
    model.cpu()
    test = task.sample(2 * training["eval_trials"], torch.Generator().manual_seed(derive_seed(base_seed, "test")))
    accuracy, _ = evaluate(model, task, stack_batches([test] * model.members))
    own = pairwise_distances(geometry.coordinates)
    off_diagonal = ~np.eye(n_units, dtype=bool)
    weights = model.recurrent_weight.detach().numpy()
    plateau = schedule.plateau_loss()
    scale = parse_variant(name)[1]
    metrics = [{
        "family": "gradreg", "variant": name, "base_variant": variant,
        "g1_scale": 1.0 if scale is None else scale, "subject": subject, "seed": seed, "member_seed": member_seed,
        "task": section["task"], "n_units": n_units, "lambda": lambdas[member],
        "effective_lambda": lambdas[member] * float(charged[member][0][off_diagonal].mean()),
        "steps_run": run.steps_run, "steps_to_criterion": schedule.reached[member],
        "plateau_loss": plateau[member], "final_accuracy": float(accuracy[member]),
        "alignment": alignment(weights[member], own),
        "mean_distance": float(own[off_diagonal].mean()),
    } for member, (seed, member_seed) in enumerate(zip(seeds, member_seeds, strict=True))]
    return TrainedEnsemble(model, schedule.history(FixedTask.HISTORY), metrics, member_seeds)


def model_meta(record: dict[str, Any], section: dict[str, Any]) -> dict[str, Any]:
    """What the fixed-point stage needs to rebuild the task a saved network was trained on."""
    meta = {key: record[key] for key in ("family", "variant", "subject", "seed", "task")}
    return {**meta, "task_settings": task_settings(section)}
