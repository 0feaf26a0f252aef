"""A leaky rate RNN whose parameters carry a leading *ensemble* axis.

Every member of an ensemble (seeds, subjects or variants of one job) has its own weights; one
forward pass runs them all with batched matrix products, so training 16 small networks costs
about as many Python steps as training one. Member ``e`` of an ensemble built with seeds
``[s_0, ...]`` is initialised exactly as a one-member model built with seed ``s_e``.

Dynamics (state h = firing rates, unit i, time step dt, time constant τ_i, α_i = dt/τ_i):

    h_i ← (1 − α_i) h_i + α_i φ( Σ_j W_ij h_j + (W_in u)_i + b_i + bias_i(h, u) + noise_i )

``W_ij`` is the weight from unit j to unit i. ``bias(h, u)`` is an optional additive hook (the
cerebellar module of the cortico-cerebellar family). With ``rank`` set, W = m nᵀ / N is low-rank.
Parameter groups (``input``, ``recurrent``, ``bias``, ``readout``, ``hook``) can be frozen.

Without a hook the whole sequence runs as one autograd node with a hand-written backward
(:mod:`brainrnn.models.sequence`); with a hook, whose gradient only autograd knows, step by step.
Both compute the leak as h + α (φ(z) − h), so the two paths and :meth:`LeakyRNN.step` agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from brainrnn.models.sequence import LEAKY_SLOPE, leaky_sequence

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu,
               "leaky_relu": lambda x: torch.nn.functional.leaky_relu(x, LEAKY_SLOPE),
               "softplus": torch.nn.functional.softplus}


@dataclass(frozen=True)
class RNNShape:
    """Sizes and fixed hyperparameters of a leaky RNN (documented defaults)."""

    n_inputs: int
    n_hidden: int
    n_outputs: int
    activation: str = "tanh"
    dt_ms: float = 20.0
    tau_ms: float = 100.0
    rank: int | None = None
    init_gain: float = 1.5
    """Recurrent weights start as N(0, g²/N): g < 1 gives decaying, g > 1 chaotic initial dynamics."""

    def as_dict(self) -> dict:
        return asdict(self)


class LeakyRNN(nn.Module):
    """An ensemble of leaky rate RNNs of one shape (see the module docstring)."""

    alpha: torch.Tensor
    """Buffer (members, N): dt / τ per unit, at most 1."""

    def __init__(self, shape: RNNShape, seeds: Sequence[int], *, tau_ms: torch.Tensor | None = None,
                 bias_hook: nn.Module | None = None) -> None:
        super().__init__()
        if shape.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{shape.activation}' (use one of {', '.join(ACTIVATIONS)})")
        self.shape = shape
        self.phi = ACTIVATIONS[shape.activation]
        members, n_hidden = len(seeds), shape.n_hidden
        self.input_weight = nn.Parameter(torch.empty(members, shape.n_inputs, n_hidden))
        if shape.rank is None:
            self.recurrent = nn.Parameter(torch.empty(members, n_hidden, n_hidden))
        else:
            self.left = nn.Parameter(torch.empty(members, n_hidden, shape.rank))
            self.right = nn.Parameter(torch.empty(members, n_hidden, shape.rank))
        self.bias = nn.Parameter(torch.zeros(members, n_hidden))
        self.readout_weight = nn.Parameter(torch.empty(members, n_hidden, shape.n_outputs))
        self.readout_bias = nn.Parameter(torch.zeros(members, shape.n_outputs))
        tau = torch.full((members, n_hidden), shape.tau_ms) if tau_ms is None else tau_ms.expand(members, n_hidden)
        self.register_buffer("alpha", (shape.dt_ms / tau).clamp(max=1.0).clone())
        self.bias_hook = bias_hook
        for member, seed in enumerate(seeds):
            self._initialise(member, torch.Generator().manual_seed(int(seed)))

    @torch.no_grad()
    def _initialise(self, member: int, generator: torch.Generator) -> None:
        n_in, n_hidden, n_out = self.shape.n_inputs, self.shape.n_hidden, self.shape.n_outputs
        self.input_weight[member] = torch.randn(n_in, n_hidden, generator=generator) / n_in**0.5
        if self.shape.rank is None:
            self.recurrent[member] = self.shape.init_gain * torch.randn(n_hidden, n_hidden,
                                                                        generator=generator) / n_hidden**0.5
        else:
            self.left[member] = torch.randn(n_hidden, self.shape.rank, generator=generator)
            self.right[member] = self.shape.init_gain * torch.randn(n_hidden, self.shape.rank, generator=generator)
        self.readout_weight[member] = torch.randn(n_hidden, n_out, generator=generator) / n_hidden
        self.bias[member] = 0.0
        self.readout_bias[member] = 0.0

    @property
    def members(self) -> int:
        return self.input_weight.shape[0]

    @property
    def recurrent_weight(self) -> torch.Tensor:
        """Effective recurrent matrix W (members, N, N), W[e, i, j] from unit j to unit i."""
        if self.shape.rank is None:
            return self.recurrent
        return self.left @ self.right.transpose(1, 2) / self.shape.n_hidden

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Named groups of parameters, for freezing and for per-group learning rates."""
        recurrent = [self.recurrent] if self.shape.rank is None else [self.left, self.right]
        groups = {"input": [self.input_weight], "recurrent": recurrent, "bias": [self.bias],
                  "readout": [self.readout_weight, self.readout_bias]}
        if self.bias_hook is not None:
            groups["hook"] = list(self.bias_hook.parameters())
        return groups

    def freeze(self, *groups: str) -> None:
        """Stop gradient updates of the named parameter groups."""
        available = self.parameter_groups()
        for group in groups:
            if group not in available:
                raise ValueError(f"unknown parameter group '{group}' (have {', '.join(available)})")
            for parameter in available[group]:
                parameter.requires_grad_(False)

    def step(self, state: torch.Tensor, drive: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
        """One update. ``state`` (E, B, N); ``drive`` = W_in u + b (+ noise), (E, B, N)."""
        pre = drive + torch.bmm(state, self.recurrent_weight.transpose(1, 2))
        if self.bias_hook is not None:
            pre = pre + self.bias_hook(state, inputs)
        return torch.lerp(state, self.phi(pre), self.alpha.unsqueeze(1))

    def input_drive(self, inputs: torch.Tensor) -> torch.Tensor:
        """W_in u + b for inputs (T, E, B, n_inputs) → (T, E, B, N)."""
        return torch.einsum("tebi,ein->tebn", inputs, self.input_weight) + self.bias.unsqueeze(1)

    def forward(self, inputs: torch.Tensor, *, noise: torch.Tensor | None = None,
                initial_state: torch.Tensor | None = None,
                running: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run all members over time. ``inputs`` (T, E, B, n_inputs), or (T, B, n_inputs) shared.

        ``running`` (T, E, B) or (T, B), when given, holds each trial's state until its first running
        step, so right-aligned trials of different lengths start from the same state.
        Returns readouts (T, E, B, n_outputs) and states (T, E, B, N).
        """
        if inputs.dim() == 3:
            inputs = inputs.unsqueeze(1).expand(-1, self.members, -1, -1)
        if running is not None and running.dim() == 2:
            running = running.unsqueeze(1).expand(-1, self.members, -1)
        drive = self.input_drive(inputs)
        if noise is not None:
            drive = drive + noise
        state = (drive.new_zeros(drive.shape[1:]) if initial_state is None else initial_state)
        if self.bias_hook is None:
            states_t = leaky_sequence(drive, self.recurrent_weight, self.alpha, state, self.shape.activation, running)
        else:
            states_t = self._hooked_sequence(drive, inputs, state, running)
        readout = torch.einsum("tebn,eno->tebo", states_t, self.readout_weight) + self.readout_bias.unsqueeze(1)
        return readout, states_t

    def _hooked_sequence(self, drive: torch.Tensor, inputs: torch.Tensor, state: torch.Tensor,
                         running: torch.Tensor | None) -> torch.Tensor:
        """States (T, E, B, N) step by step, for the bias hook's autograd."""
        hook, transposed, states = self.bias_hook, self.recurrent_weight.transpose(1, 2), []
        assert hook is not None, "only a model with a bias hook runs step by step"
        # unbind (not drive[t]): indexing a tensor that needs gradients allocates a full-size zero
        # gradient per time step in the backward pass
        for t, (drive_t, inputs_t) in enumerate(zip(drive.unbind(0), inputs.unbind(0), strict=True)):
            rate = self.alpha.unsqueeze(1)
            if running is not None:
                rate = rate * running[t].unsqueeze(-1).to(drive.dtype)
            pre = torch.baddbmm(drive_t, state, transposed) + hook(state, inputs_t)
            state = torch.lerp(state, self.phi(pre), rate)
            states.append(state)
        return torch.stack(states)

    def member_state_dict(self, member: int) -> dict[str, torch.Tensor]:
        """The parameters and buffers of one member, as a one-member state dict on the CPU."""
        return {name: value[member:member + 1].detach().cpu().clone() for name, value in self.state_dict().items()}

