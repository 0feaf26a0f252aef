"""Fixed and slow points of a trained one-member RNN during a task epoch, per input condition.

The epoch's noise-free inputs are grouped into conditions (its distinct input vectors, e.g. the
cortico-cerebellar networks' +1 and −1 bits; the mean input when there are more than
``max_conditions``). For each condition the input is held, the search starts from the network's
own states in that condition, and every trial's end-of-epoch state is run forward under it to
find the point it settles on: the *attractor* stability is the leading |λ| there (a saddle that no
trial reaches does not count), beside the largest leading |λ| over all fixed points. The *epoch
energy* is the mean q(x) = ½‖F(x) − x‖² over the epoch's states, each under its own condition's
input — how far the memory-holding activity is from standing still.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from brainrnn.analysis.fixed_points import (
    Dynamics,
    FixedPointOptions,
    FixedPoints,
    attractors,
    find_fixed_points,
    jacobians,
    q_value,
    sample_initial_states,
)
from brainrnn.devices import CPU
from brainrnn.errors import InputError
from brainrnn.io import atomic_path
from brainrnn.models.rnn import LeakyRNN
from brainrnn.seeding import derive_seed
from brainrnn.tasks.registry import make_task

SLOPES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": lambda z: 1.0 - torch.tanh(z).square(),
    "relu": lambda z: (z > 0).to(z.dtype),
    "leaky_relu": lambda z: torch.where(z > 0, torch.ones_like(z), torch.full_like(z, 0.01)),
    "softplus": torch.sigmoid,
}
"""φ' of the engine's activations in closed form (autograd's convention at the kinks)."""


class RNNDynamics:
    """F(h) = (1 − α) h + α φ(W h + W_in u + b) of member 0 with the input u held, in one precision.

    Without a bias hook the Jacobian, (1 − α) I + α φ'(z) W, and the gradient of q,
    ∇q = −α r + Wᵀ(α φ'(z) r) with r = F(h) − h, are closed forms (no autograd graph); a bias hook
    that feeds the state back (the cerebellar module) leaves both to automatic differentiation.
    The map computes on ``device`` (a copy of the network is moved there).
    """

    def __init__(self, model: LeakyRNN, held_input: torch.Tensor, dtype: torch.dtype = torch.float64,
                 device: torch.device = CPU) -> None:
        self.model, self.held_input, self.dtype, self.device = model, held_input, dtype, device
        network = copy.deepcopy(model).to(device=device, dtype=dtype).eval()
        for parameter in network.parameters():
            parameter.requires_grad_(False)
        self.network = network
        held = held_input.to(device=device, dtype=dtype)
        self.held = held.view(1, 1, -1)
        self.drive = (held @ network.input_weight[0] + network.bias[0]).view(1, 1, -1)
        self.weight, self.alpha = network.recurrent_weight[0], network.alpha[0]
        self.closed_form = network.bias_hook is None

    def __call__(self, states: torch.Tensor) -> torch.Tensor:
        batch = states.shape[0]
        return self.network.step(states.unsqueeze(0), self.drive.expand(1, batch, -1),
                                 self.held.expand(1, batch, -1)).squeeze(0)

    def _slope(self, pre: torch.Tensor) -> torch.Tensor:
        """φ'(z) elementwise, as autograd defines it (e.g. relu'(0) = 0; tested equal)."""
        derivative = SLOPES.get(self.network.shape.activation)
        if derivative is not None:
            return derivative(pre)
        with torch.enable_grad():
            leaf = pre.detach().requires_grad_(True)
            (slope,) = torch.autograd.grad(self.network.phi(leaf).sum(), leaf)
        return slope

    def jacobian(self, states: torch.Tensor) -> torch.Tensor:
        if not self.closed_form:
            return jacobians(self, states)
        slope = self._slope(states @ self.weight.T + self.drive[0])
        return torch.diag(1.0 - self.alpha) + (self.alpha * slope).unsqueeze(-1) * self.weight

    def q_and_gradient(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.closed_form:
            with torch.enable_grad():
                leaf = states.detach().requires_grad_(True)
                q = q_value(self, leaf)
                (gradient,) = torch.autograd.grad(q.sum(), leaf)
            return q.detach(), gradient
        pre = states @ self.weight.T + self.drive[0]
        residual = self.alpha * (self.network.phi(pre) - states)
        gradient = -self.alpha * residual + (self.alpha * self._slope(pre) * residual) @ self.weight
        return 0.5 * residual.square().sum(dim=-1), gradient

    def cast(self, dtype: torch.dtype) -> Dynamics:
        return self if dtype == self.dtype else RNNDynamics(self.model, self.held_input, dtype, self.device)


def epoch_map(model: LeakyRNN, held_input: torch.Tensor) -> RNNDynamics:
    """F(h) of member 0 in float64 with the input held at ``held_input`` (n_inputs,)."""
    return RNNDynamics(model, held_input)


@dataclass
class ConditionAnalysis:
    """One held input: its points, the point each trial's end-of-epoch state settles on (−1: none),
    and the energy over the epoch states recorded under this input."""

    held_input: np.ndarray
    fixed_points: FixedPoints
    attractor: np.ndarray
    energy: float
    n_states: int


@dataclass
class EpochAnalysis:
    conditions: list[ConditionAnalysis]
    epoch_states: np.ndarray

    @property
    def epoch_energy(self) -> float:
        """Mean q over the epoch's states, each under its own condition's input."""
        weights = np.array([condition.n_states for condition in self.conditions], dtype=float)
        return float(np.average([condition.energy for condition in self.conditions], weights=weights))

    def summary(self) -> dict[str, float | int]:
        """Counts summed over conditions, leading |λ| over every fixed point, and the attractor measure:
        the mean leading |λ| at the points the trials settle on, with the share of trials that settle."""
        parts = [condition.fixed_points.summary() for condition in self.conditions]
        fixed = np.concatenate([c.fixed_points.leading_abs_eigenvalue[c.fixed_points.is_fixed]
                                for c in self.conditions])
        reached = np.concatenate([c.fixed_points.leading_abs_eigenvalue[c.attractor[c.attractor >= 0]]
                                  for c in self.conditions])
        trials = sum(len(condition.attractor) for condition in self.conditions)
        minima = [part["min_q"] for part in parts if np.isfinite(part["min_q"])]
        return {"n_conditions": len(self.conditions),
                **{key: int(sum(part[key] for part in parts)) for key in
                   ("n_fixed_points", "n_slow_points", "n_stable", "n_initial", "n_converged")},
                "min_q": float(min(minima)) if minima else float("nan"),
                "max_abs_eigenvalue": float(fixed.max()) if fixed.size else float("nan"),
                "mean_leading_abs_eigenvalue": float(fixed.mean()) if fixed.size else float("nan"),
                "attractor_abs_eigenvalue": float(reached.mean()) if reached.size else float("nan"),
                "attractor_fraction": float(reached.size / trials) if trials else float("nan"),
                "epoch_energy": self.epoch_energy}

    def save(self, path: str | Path) -> None:
        """Every condition's points in one file, with the condition of each point and of each attractor."""
        offsets = np.cumsum([0] + [c.fixed_points.count for c in self.conditions])
        first = self.conditions[0].fixed_points
        with atomic_path(path) as tmp, open(tmp, "wb") as stream:
            np.savez(stream,
                     states=np.concatenate([c.fixed_points.states for c in self.conditions]).reshape(
                         -1, first.states.shape[1]),
                     q=np.concatenate([c.fixed_points.q for c in self.conditions]),
                     kind=np.concatenate([c.fixed_points.kind for c in self.conditions]),
                     eigenvalues=np.concatenate([c.fixed_points.eigenvalues for c in self.conditions]),
                     is_stable=np.concatenate([c.fixed_points.is_stable for c in self.conditions]),
                     condition=np.concatenate([np.full(c.fixed_points.count, i) for i, c in
                                               enumerate(self.conditions)]),
                     held_inputs=np.stack([c.held_input for c in self.conditions]),
                     attractor=np.stack([np.where(c.attractor >= 0, c.attractor + offsets[i], -1)
                                         for i, c in enumerate(self.conditions)]),
                     n_initial=sum(c.fixed_points.n_initial for c in self.conditions),
                     n_converged=sum(c.fixed_points.n_converged for c in self.conditions),
                     epoch_energy=self.epoch_energy)


def input_conditions(inputs: np.ndarray, max_conditions: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The distinct input vectors of (M, n_inputs) epoch steps with the mask of the steps showing each;
    one condition, the mean input, when there are more than ``max_conditions``."""
    distinct, which = np.unique(np.round(inputs, 6), axis=0, return_inverse=True)
    if len(distinct) > max_conditions:
        return [(inputs.mean(axis=0), np.ones(len(inputs), dtype=bool))]
    return [(inputs[which == index].mean(axis=0), which == index) for index in range(len(distinct))]


def analyse_epoch(model: LeakyRNN, task_name: str, task_settings: dict[str, Any], options: FixedPointOptions, *,
                  epoch: str, trials: int, max_conditions: int, device: torch.device = CPU) -> EpochAnalysis:
    """Run noise-free trials, collect the epoch's states, analyse each input condition of the epoch.

    The trials run on the CPU (the model as loaded), so the states the search starts from are the same
    on every device; the search, polish and attractor runs compute on ``device``.
    """
    task = make_task(task_name, **task_settings)
    if hasattr(task, "input_noise"):
        task.input_noise = 0.0  # noise-free trials: the held inputs are the epoch's true inputs
    batch = task.sample(trials, torch.Generator().manual_seed(options.seed))
    if epoch not in batch.epochs:
        raise InputError(f"task '{task_name}' has no epoch '{epoch}' (has {', '.join(batch.epochs)}).",
                         field="fixed_points.epoch", fix="name one of the task's epochs.")
    with torch.no_grad():
        _, states = model(batch.inputs, running=batch.running)
    in_epoch = batch.epochs[epoch]
    if batch.running is not None:
        in_epoch = in_epoch & batch.running
    epoch_states = states[:, 0][in_epoch].double().numpy()
    epoch_inputs = batch.inputs[in_epoch].double().numpy()
    last_step = in_epoch.shape[0] - 1 - in_epoch.flip(0).long().argmax(dim=0)
    has_epoch = in_epoch.any(dim=0)
    end_states = states[last_step, 0, torch.arange(trials)][has_epoch].double().numpy()
    conditions = []
    for index, (held, mask) in enumerate(input_conditions(epoch_inputs, max_conditions)):
        system = RNNDynamics(model, torch.tensor(held), device=device)
        settings = dataclasses.replace(options, seed=derive_seed(options.seed, "condition", index))
        found = find_fixed_points(system, sample_initial_states(epoch_states[mask], settings), settings,
                                  reference_states=epoch_states, device=device)
        with torch.no_grad():
            energy = float(q_value(system, torch.tensor(epoch_states[mask], device=device)).mean())
        conditions.append(ConditionAnalysis(held, found, attractors(system, end_states, found, options, device), energy,
                                            int(mask.sum())))
    return EpochAnalysis(conditions, epoch_states)
