"""Build tasks, networks and trainer options from the validated ``rnn`` config section."""

from __future__ import annotations

from typing import Any

from brainrnn.models.rnn import RNNShape
from brainrnn.tasks import Task, make_task
from brainrnn.training import TrainingOptions


def task_settings(rnn: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """Keyword arguments of the configured task (timing + task-specific settings)."""
    name = name or rnn["task"]
    specific = dict(rnn["tasks"].get(name, {}))
    return {"dt_ms": rnn["dt_ms"], **rnn["timing"], **specific}


def build_task(rnn: dict[str, Any], name: str | None = None) -> Task:
    name = name or rnn["task"]
    return make_task(name, **task_settings(rnn, name))


def build_shape(rnn: dict[str, Any], task: Task, n_hidden: int, rank: int | None = None) -> RNNShape:
    model = rnn["model"]
    return RNNShape(n_inputs=task.n_inputs, n_hidden=n_hidden, n_outputs=task.n_outputs,
                    activation=model["activation"], dt_ms=rnn["dt_ms"], tau_ms=model["tau_ms"], rank=rank,
                    init_gain=model["init_gain"])


def training_options(rnn: dict[str, Any]) -> TrainingOptions:
    return TrainingOptions(**rnn["training"])
