"""The networks of the family and what their losses add: developmental regularisers, L1, weight decay.

**Low-rank network** (on the shared engine): a :class:`~brainrnn.models.rnn.LeakyRNN` of ``units``
tanh units with leak α = dt/τ (0.1: dt 1 step per trial, τ 10) and LeakyRNN's low-rank factors of
rank r + 1: W = left rightᵀ / N = (m nᵀ + M Nᵀ) / N, where m, n are the factors' first columns (the
rank-1 common mode) and M, N (N × r) the others. The 1/N is the low-rank-network scaling of
Mastrogiuseppe & Ostojic (2018); it changes no rank or singular-value ratio. The decomposition is
not identifiable (any invertible mixing of the columns gives the same W), so the common mode is a
label of the parameterisation, not a separately constrained part. rank(W) ≤ r + 1 holds exactly.

**Developmental loss** (the framework's, with our choices where it is silent), per member and
scaled by the warm-up factor min(1, epoch / warmup_epochs):

    ν ‖W‖* + β D_eff(W) + s Σ_i (σ_i − σ_0 e^(−γ i))² − λ H

with the spectral target over the r + 1 singular values W can have (i = 0 for the largest; the
others are 0 whatever the weights, so their residual has no gradient), D_eff under the configured
definition (``squared`` by default, see :mod:`brainrnn.spectra`), and H the coefficient of variation
over units of the input sensitivity ‖∂h_i/∂u‖ (the source's variance of input-Jacobian norms,
divided by the squared mean so that the rewarded term is bounded by √(N − 1) and cannot run away by
scaling the input weights). Adam's weight decay (1e-5) is added as the L2 term it is equivalent to.

**Tiny GRU**: :class:`~brainrnn.models.gru.TinyGRU`; loss + λ_L1 Σ|W_h| per member, and AdamW's
decoupled weight decay (applied by the schedule before each update, see :mod:`brainrnn.lowrank.train`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from brainrnn.models.gru import GRUShape, TinyGRU
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.models.spectral import effective_rank, nuclear_norm, singular_values, spectral_target
from brainrnn.options import from_section
from brainrnn.tasks.reward import RewardTask

Network = LeakyRNN | TinyGRU
Regulariser = Callable[[Network, torch.Tensor, torch.Tensor, float], torch.Tensor]
"""(network, inputs (T, E, B, n_in), states (T, E, B, N), warm-up factor) → one value per member (E,)."""


@dataclass(frozen=True)
class Development:
    """One developmental configuration (the ``lowrank.developmental.<name>`` config section documents each field)."""

    rank: int
    decay: float
    nuclear_weight: float
    rank_weight: float
    heterogeneity_weight: float

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Development:
        return from_section(cls, section)


@dataclass(frozen=True)
class Regularisation:
    """Shared settings of the developmental loss (``lowrank.regularisation``)."""

    spectral_weight: float
    effective_rank: str
    warmup_epochs: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> Regularisation:
        return from_section(cls, section)

    def warmup(self, epoch: float) -> float:
        """The regularisers' weight factor after ``epoch`` epochs (linear ramp to 1)."""
        return 1.0 if self.warmup_epochs == 0 else min(1.0, epoch / self.warmup_epochs)


def outputs_of(task: RewardTask, mode: str) -> int:
    """Readout units: the action logits, plus one value estimate in act mode (the policy gradient's baseline)."""
    return task.n_actions + (mode == "act")


def low_rank_network(task: RewardTask, mode: str, development: Development, network: Mapping[str, Any],
                     seeds: Sequence[int]) -> LeakyRNN:
    """The leaky tanh network of rank r + 1 (see the module docstring), one member per seed."""
    shape = RNNShape(n_inputs=task.n_inputs, n_hidden=network["units"], n_outputs=outputs_of(task, mode),
                     activation="tanh", dt_ms=1.0, tau_ms=1.0 / network["leak"], rank=development.rank + 1,
                     init_gain=network["init_gain"])
    return LeakyRNN(shape, seeds)


def tiny_gru(task: RewardTask, mode: str, units: int, seeds: Sequence[int]) -> TinyGRU:
    return TinyGRU(GRUShape(n_inputs=task.n_inputs, n_hidden=units, n_outputs=outputs_of(task, mode)), seeds)


def input_sensitivity(model: LeakyRNN, inputs: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """Mean over steps and sessions of ‖∂h_i,t/∂u_t‖ per unit (E, N): α_i φ'(z_i) ‖W_in[:, i]‖ for tanh units,
    z = W h_(t−1) + W_in u_t + b recomputed from the states the network went through."""
    previous = torch.cat([torch.zeros_like(states[:1]), states[:-1]])
    pre = model.input_drive(inputs) + torch.einsum("tebj,eij->tebi", previous, model.recurrent_weight)
    slope = 1.0 - torch.tanh(pre) ** 2
    gain = model.alpha.unsqueeze(1) * model.input_weight.norm(dim=1).unsqueeze(1)
    return (slope * gain).mean(dim=(0, 2))


def heterogeneity(sensitivity: torch.Tensor) -> torch.Tensor:
    """Coefficient of variation over units of the input sensitivity (E,): std / mean, at most √(N − 1)."""
    return sensitivity.std(dim=-1, unbiased=False) / sensitivity.mean(dim=-1).clamp(min=1e-12)


def developmental_terms(model: LeakyRNN, development: Development, regularisation: Regularisation,
                        inputs: torch.Tensor, states: torch.Tensor) -> dict[str, torch.Tensor]:
    """The four terms of the developmental loss, unweighted, per member."""
    singular = singular_values(model.recurrent_weight)
    return {"nuclear": nuclear_norm(singular),
            "effective_rank": effective_rank(singular, regularisation.effective_rank),
            "spectral": spectral_target(singular[:, :development.rank + 1], development.decay),
            "heterogeneity": heterogeneity(input_sensitivity(model, inputs, states))}


def developmental_regulariser(development: Development, regularisation: Regularisation,
                              weight_decay: float) -> Regulariser:
    """The developmental loss with warm-up, plus Adam's L2 weight decay (½ wd Σθ², not warmed up)."""
    def regulariser(model: Network, inputs: torch.Tensor, states: torch.Tensor, warmup: float) -> torch.Tensor:
        assert isinstance(model, LeakyRNN), "the developmental loss is defined on low-rank networks"
        terms = developmental_terms(model, development, regularisation, inputs, states)
        shaped = (development.nuclear_weight * terms["nuclear"] + development.rank_weight * terms["effective_rank"]
                  + regularisation.spectral_weight * terms["spectral"]
                  - development.heterogeneity_weight * terms["heterogeneity"])
        return warmup * shaped + 0.5 * weight_decay * squared_norm(model)
    return regulariser


def l1_regulariser(strengths: torch.Tensor) -> Regulariser:
    """λ_e Σ|W_h| per member for tiny GRUs (Ji-An et al.'s sparsity penalty; no warm-up)."""
    def regulariser(model: Network, inputs: torch.Tensor, states: torch.Tensor, warmup: float) -> torch.Tensor:
        assert isinstance(model, TinyGRU), "the L1 penalty applies to the recurrent weights of tiny GRUs"
        return strengths * model.recurrent_l1()
    return regulariser


def squared_norm(model: torch.nn.Module) -> torch.Tensor:
    """Σθ² over every parameter, per member (E,)."""
    return torch.stack([(parameter**2).flatten(1).sum(dim=1) for parameter in model.parameters()]).sum(dim=0)
