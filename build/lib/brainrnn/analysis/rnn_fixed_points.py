"""Fixed points of a trained one-member RNN during a task epoch (by default the delay).

The input is held at its noise-free mean over the epoch; the search starts from the network's
own epoch states; the *epoch energy* is the mean q(x) = ½‖F(x) − x‖² over those states — how far
the memory-holding activity is from standing still (lower = more stable memory).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from brainrnn.analysis.fixed_points import (
    FixedPointOptions,
    FixedPoints,
    StateJacobian,
    StateMap,
    find_fixed_points,
    q_value,
    sample_initial_states,
)
from brainrnn.errors import InputError
from brainrnn.models.rnn import LeakyRNN
from brainrnn.tasks.registry import make_task


@dataclass
class EpochAnalysis:
    fixed_points: FixedPoints
    held_input: np.ndarray
    epoch_states: np.ndarray
    epoch_energy: float


def _held_network(model: LeakyRNN, held_input: torch.Tensor) -> tuple[LeakyRNN, torch.Tensor]:
    """A frozen float64 copy of ``model`` and member 0's drive W_in u + b under ``held_input``.

    The copy forms W = m nᵀ / N of a low-rank model in float64, so F and its Jacobian agree."""
    network = copy.deepcopy(model).double().eval()
    for parameter in network.parameters():
        parameter.requires_grad_(False)
    return network, held_input.double() @ network.input_weight[0] + network.bias[0]


def epoch_map(model: LeakyRNN, held_input: torch.Tensor) -> StateMap:
    """F(h) of member 0 in float64 with the input held at ``held_input`` (n_inputs,)."""
    network, drive = _held_network(model, held_input)
    drive = drive.view(1, 1, -1)
    held = held_input.double().view(1, 1, -1)

    def step(states: torch.Tensor) -> torch.Tensor:
        batch = states.shape[0]
        return network.step(states.unsqueeze(0), drive.expand(1, batch, -1), held.expand(1, batch, -1)).squeeze(0)

    return step


def epoch_jacobian(model: LeakyRNN, held_input: torch.Tensor) -> StateJacobian | None:
    """dF/dh of :func:`epoch_map` in closed form, (1 − α) I + α φ'(W h + W_in u + b) W.

    One matrix product per batch instead of N backward passes per state (the Newton steps of a
    300-unit network spend most of their time there). None when a bias hook feeds the state back
    (the cerebellar module): its Jacobian is left to automatic differentiation.
    """
    if model.bias_hook is not None:
        return None
    network, drive = _held_network(model, held_input)
    weight, alpha = network.recurrent_weight[0], network.alpha[0]

    def jacobian(states: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            pre = (states.detach() @ weight.T + drive).requires_grad_(True)
            (slope,) = torch.autograd.grad(network.phi(pre).sum(), pre)  # φ' elementwise, as autograd defines it
        return torch.diag(1.0 - alpha) + (alpha * slope).unsqueeze(-1) * weight

    return jacobian


def analyse_epoch(model: LeakyRNN, task_name: str, task_settings: dict, options: FixedPointOptions, *,
                  epoch: str = "delay", trials: int = 64) -> EpochAnalysis:
    """Run noise-free trials, collect the epoch's states, find fixed points under the epoch's input."""
    task = make_task(task_name, **task_settings)
    if hasattr(task, "input_noise"):
        task.input_noise = 0.0  # noise-free trials: the held input is the epoch's true input
    batch = task.sample(trials, torch.Generator().manual_seed(options.seed))
    if epoch not in batch.epochs:
        raise InputError(f"task '{task_name}' has no epoch '{epoch}' (has {', '.join(batch.epochs)}).",
                         field="fixed_points.epoch", fix="name one of the task's epochs.")
    with torch.no_grad():
        _, states = model(batch.inputs, running=batch.running)
    in_epoch = batch.epochs[epoch]
    epoch_states = states[:, 0][in_epoch].double().numpy()
    held_input = batch.inputs[in_epoch].mean(dim=0)
    step = epoch_map(model, held_input)
    found = find_fixed_points(step, sample_initial_states(epoch_states, options), options,
                              reference_states=epoch_states, jacobian=epoch_jacobian(model, held_input))
    with torch.no_grad():
        energy = float(q_value(step, torch.tensor(epoch_states)).mean())
    return EpochAnalysis(found, held_input.numpy(), epoch_states, energy)

