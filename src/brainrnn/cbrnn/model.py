"""The networks of the cortico-cerebellar family: a CB-RNN and its parameter-matched plain RNN.

The core is a leaky RNN (leaky ReLU, τ = 1.5 steps in the source); the CB-RNN adds a
:class:`~brainrnn.models.cerebellum.Cerebellum` as the core's bias hook. The plain RNN baseline
gets the hidden size whose parameter count is closest to the CB-RNN's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from brainrnn.models.cerebellum import Cerebellum, CerebellumShape
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.options import from_section
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import Task
from brainrnn.tasks.registry import make_task


@dataclass(frozen=True)
class CBConfig:
    """Architecture of both groups (the ``cbrnn`` config section documents each field)."""

    task: str
    hidden: int
    granule: int
    purkinje: int
    sees_input: bool
    activation: str
    tau_steps: float

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> CBConfig:
        return from_section(cls, section)

    def core_shape(self, task: Task, hidden: int) -> RNNShape:
        return RNNShape(n_inputs=task.n_inputs, n_hidden=hidden, n_outputs=task.n_outputs,
                        activation=self.activation, dt_ms=1.0, tau_ms=self.tau_steps, init_gain=1.0)

    def cerebellum_shape(self, task: Task) -> CerebellumShape:
        return CerebellumShape(n_core=self.hidden, n_inputs=task.n_inputs, n_granule=self.granule,
                               n_purkinje=self.purkinje, sees_input=self.sees_input)


def count_parameters(model: torch.nn.Module) -> int:
    """Parameters of one member (every parameter has the member axis first)."""
    return int(sum(parameter[0].numel() for parameter in model.parameters()))


def plain_rnn_parameters(hidden: int, n_inputs: int, n_outputs: int) -> int:
    """Parameters of a LeakyRNN: input, recurrent, bias, readout weights and readout bias."""
    return n_inputs * hidden + hidden * hidden + hidden + hidden * n_outputs + n_outputs


def matched_hidden(target: int, n_inputs: int, n_outputs: int) -> int:
    """Hidden size of the plain RNN whose parameter count is closest to ``target``."""
    best, hidden = None, 1
    while plain_rnn_parameters(hidden, n_inputs, n_outputs) <= 2 * target:
        gap = abs(plain_rnn_parameters(hidden, n_inputs, n_outputs) - target)
        if best is None or gap < best[0]:
            best = (gap, hidden)
        hidden += 1
    assert best is not None
    return best[1]


def build_model(group: str, config: CBConfig, seeds: list[int], core: LeakyRNN | None = None) -> LeakyRNN:
    """A CB-RNN (``cbrnn``, also the start of ``reservoir``/``interleaved``) or the matched plain RNN.

    With ``core`` (a trained one-member network, e.g. a subject's gradient-regularised RNN) the
    CB-RNN gets one core unit per unit of ``core`` and starts from its recurrent weights and biases
    (input and readout weights are task-specific and start fresh).
    """
    if core is not None:
        config = dataclasses.replace(config, hidden=core.shape.n_hidden)
    task = make_task(config.task, n_back=2)
    if group == "rnn":
        target = count_parameters(build_model("cbrnn", config, [0], core))
        hidden = matched_hidden(target, task.n_inputs, task.n_outputs)
        return LeakyRNN(config.core_shape(task, hidden), seeds)
    cerebellum = Cerebellum(config.cerebellum_shape(task), [derive_seed(seed, "cerebellum") for seed in seeds])
    model = LeakyRNN(config.core_shape(task, config.hidden), seeds, bias_hook=cerebellum)
    if core is not None:
        with torch.no_grad():
            model.recurrent.copy_(core.recurrent_weight[0].expand_as(model.recurrent))
            model.bias.copy_(core.bias[0].expand_as(model.bias))
    return model
