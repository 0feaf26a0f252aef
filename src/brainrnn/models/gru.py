"""Tiny gated recurrent networks (GRUs of a few units) with a leading ensemble axis.

The baseline of Ji-An, Benna & Mattar (Nature 2025): a GRU of 1–4 units reads the last trial's
action, state and reward and a linear readout gives the next choice's logits. Gates as in
``torch.nn.GRU`` (reset r, update z, candidate n, in that order along the gate axis):

    r = σ(W_ir u + b_ir + W_hr h + b_hr),  z = σ(W_iz u + b_iz + W_hz h + b_hz)
    n = tanh(W_in u + b_in + r ⊙ (W_hn h + b_hn)),  h ← (1 − z) ⊙ n + z ⊙ h

Member ``e`` of an ensemble built with seeds ``[s_0, ...]`` starts as a one-member model built
with seed ``s_e`` would, with ``torch.nn.GRU``'s initialisation (uniform ±1/√H).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class GRUShape:
    """Sizes of a tiny GRU."""

    n_inputs: int
    n_hidden: int
    n_outputs: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class TinyGRU(nn.Module):
    """An ensemble of GRUs of one shape (see the module docstring); weights (members, in, 3H) / (members, H, 3H)."""

    def __init__(self, shape: GRUShape, seeds: Sequence[int]) -> None:
        super().__init__()
        self.shape = shape
        members, hidden = len(seeds), shape.n_hidden
        self.input_weight = nn.Parameter(torch.empty(members, shape.n_inputs, 3 * hidden))
        self.recurrent = nn.Parameter(torch.empty(members, hidden, 3 * hidden))
        self.input_bias = nn.Parameter(torch.empty(members, 3 * hidden))
        self.recurrent_bias = nn.Parameter(torch.empty(members, 3 * hidden))
        self.readout_weight = nn.Parameter(torch.empty(members, hidden, shape.n_outputs))
        self.readout_bias = nn.Parameter(torch.empty(members, shape.n_outputs))
        for member, seed in enumerate(seeds):
            generator = torch.Generator().manual_seed(int(seed))
            bound = hidden**-0.5
            with torch.no_grad():
                for parameter in self.parameters():
                    parameter[member] = bound * (2 * torch.rand(parameter.shape[1:], generator=generator) - 1)

    @property
    def members(self) -> int:
        return self.input_weight.shape[0]

    def step(self, state: torch.Tensor, gates_input: torch.Tensor) -> torch.Tensor:
        """One update of states (E, B, H) given the input part of the gates W_i u + b_i (E, B, 3H)."""
        gates_hidden = torch.bmm(state, self.recurrent) + self.recurrent_bias.unsqueeze(1)
        input_r, input_z, input_n = gates_input.chunk(3, dim=-1)
        hidden_r, hidden_z, hidden_n = gates_hidden.chunk(3, dim=-1)
        reset = torch.sigmoid(input_r + hidden_r)
        update = torch.sigmoid(input_z + hidden_z)
        candidate = torch.tanh(input_n + reset * hidden_n)
        return (1.0 - update) * candidate + update * state

    def forward(self, inputs: torch.Tensor, *,
                initial_state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Run all members over time: ``inputs`` (T, E, B, n_inputs), or (T, B, n_inputs) shared.

        Returns readouts (T, E, B, n_outputs) and states (T, E, B, H)."""
        if inputs.dim() == 3:
            inputs = inputs.unsqueeze(1).expand(-1, self.members, -1, -1)
        gates_input = torch.einsum("tebi,eig->tebg", inputs, self.input_weight) + self.input_bias.unsqueeze(1)
        state = (torch.zeros(*inputs.shape[1:3], self.shape.n_hidden, dtype=inputs.dtype)
                 if initial_state is None else initial_state)
        states = []
        for gates_t in gates_input.unbind(0):
            state = self.step(state, gates_t)
            states.append(state)
        states_t = torch.stack(states)
        readout = torch.einsum("tebh,eho->tebo", states_t, self.readout_weight) + self.readout_bias.unsqueeze(1)
        return readout, states_t

    def recurrent_l1(self) -> torch.Tensor:
        """Σ|W_h| of every gate's recurrent weights, per member (E,)."""
        return self.recurrent.abs().sum(dim=(1, 2))

    def member_state_dict(self, member: int) -> dict[str, torch.Tensor]:
        """The parameters of one member, as a one-member state dict."""
        return {name: value[member:member + 1].detach().clone() for name, value in self.state_dict().items()}
