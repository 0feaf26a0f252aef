"""The leaky-RNN recurrence over a whole sequence as one autograd node, with a hand-written backward.

For every member e, trial b and step t (rates h, pre-activation z, per-unit rate a = α·running):

    z_t = W h_{t-1} + d_t          (d: the drive W_in u + b + noise, computed outside)
    h_t = h_{t-1} + a_t (φ(z_t) − h_{t-1})

Autograd would record a handful of small element-wise nodes per step (leak, activation, mask,
stack), each a separate pass over memory forward and backward. Here the forward runs without a
graph, three kernels per step (a batched matrix product into the pre-activation, the activation in
place, the leak as one ``lerp``), and keeps only the states and the activations φ(z_t). The backward
walks back through time with one batched matrix product per step for the state gradient; the
element-wise terms (φ′ a and 1 − a) are computed for all steps at once beforehand, and the weight
gradient is one large product over every step and trial after the loop:

    g_t   = ∂L/∂h_t (from the readout) + (1 − a_{t+1}) g_{t+1} + (∂L/∂z_{t+1}) W
    ∂L/∂z_t = g_t · a_t φ′(z_t)      (= ∂L/∂d_t)
    ∂L/∂W = Σ_t (∂L/∂z_t)ᵀ h_{t−1}

φ′ is computed from φ(z) itself (tanh: 1 − φ², ReLU and leaky ReLU: the sign of φ, softplus:
1 − e^(−φ)), at the same points where autograd takes its one-sided derivatives. α is a buffer and
gets no gradient. Members run in chunks (:func:`member_chunk`) so each chunk's weights and states
stay in cache; each member's arithmetic is the same whatever the chunk.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional

LEAKY_SLOPE = 0.01
"""Negative slope of the ``leaky_relu`` activation."""
CHUNK_BYTES = 8 << 20
"""Working set of one member chunk on the CPU: recurrent weights plus the step's state, activation and
drive for every trial. On one thread of these machines the chunk changes the sequence's time by about
10% either way (16 members: one chunk is best up to N = 256, chunks of a few members at N = 512)."""


def activate_(name: str, values: torch.Tensor) -> None:
    """Apply the activation ``name`` in place."""
    if name == "tanh":
        values.tanh_()
    elif name == "relu":
        values.relu_()
    elif name == "leaky_relu":
        functional.leaky_relu_(values, LEAKY_SLOPE)
    elif name == "softplus":
        values.copy_(functional.softplus(values))
    else:
        raise ValueError(f"unknown activation '{name}'")


def slope_from_output(name: str, rates: torch.Tensor) -> torch.Tensor:
    """φ′(z) from r = φ(z), with autograd's choices where φ has a kink (ReLU: 0 at 0; leaky ReLU: the slope)."""
    if name == "tanh":
        return rates.square().neg_().add_(1.0)
    if name == "relu":
        return (rates > 0).to(rates.dtype)
    if name == "leaky_relu":
        return torch.where(rates > 0, rates.new_tensor(1.0), rates.new_tensor(LEAKY_SLOPE))
    if name == "softplus":
        return -torch.expm1(-rates)
    raise ValueError(f"unknown activation '{name}'")


def member_chunk(members: int, batch: int, n_hidden: int, device: torch.device, element_bytes: int = 4) -> int:
    """How many members one pass of the recurrence takes: all on a GPU; on a CPU as many as fit
    :data:`CHUNK_BYTES`, spread evenly over the chunks. Depends on the shapes only, so a run is
    reproducible."""
    if device.type != "cpu":
        return members
    per_member = element_bytes * (n_hidden * n_hidden + 3 * batch * n_hidden)
    fitting = max(1, CHUNK_BYTES // per_member)
    chunks = -(-members // fitting)
    return -(-members // chunks)


def _rate_at(rate: torch.Tensor, start: int, stop: int, t: int) -> torch.Tensor:
    """The leak rate of members start..stop at step ``t``; ``rate`` is (E, 1 or T, 1 or B, N)."""
    return rate[start:stop, t if rate.shape[1] > 1 else 0]


class LeakySequence(torch.autograd.Function):
    """The recurrence of the module docstring, member-major: drive (E, T, B, N) → states (E, T, B, N).

    Member-major because the products around it (input drive, readout, weight gradients) batch over
    members: each member's T·B rows are then one contiguous matrix and nothing is copied to reorder
    them. The states are a view of one buffer that also holds h_0, so h_{t−1} for every t is a view too.
    """

    @staticmethod
    def forward(ctx: Any, drive: torch.Tensor, weight: torch.Tensor, rate: torch.Tensor, initial: torch.Tensor,
                activation: str, chunk: int) -> torch.Tensor:
        members, n_steps, batch, n_hidden = drive.shape
        trajectory = drive.new_empty(members, n_steps + 1, batch, n_hidden)
        trajectory[:, 0] = initial
        rates = torch.empty_like(drive)
        transposed = weight.transpose(1, 2)
        for start in range(0, members, chunk):
            stop = min(start + chunk, members)
            recurrent = transposed[start:stop]
            for t in range(n_steps):
                activity = rates[start:stop, t]
                torch.baddbmm(drive[start:stop, t], trajectory[start:stop, t], recurrent, out=activity)
                activate_(activation, activity)
                torch.lerp(trajectory[start:stop, t], activity, _rate_at(rate, start, stop, t),
                           out=trajectory[start:stop, t + 1])
        ctx.save_for_backward(weight, rate, trajectory, rates)
        ctx.activation, ctx.chunk = activation, chunk
        return trajectory[:, 1:]

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_states: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        weight, rate, trajectory, rates = ctx.saved_tensors
        members, n_steps = rates.shape[:2]
        gain = slope_from_output(ctx.activation, rates).mul_(rate)
        keep = 1.0 - rate
        grad_pre = torch.empty_like(rates)
        grad_initial = torch.empty_like(trajectory[:, 0])
        for start in range(0, members, ctx.chunk):
            stop = min(start + ctx.chunk, members)
            recurrent = weight[start:stop]
            grad = grad_states[start:stop, n_steps - 1].clone()
            for t in range(n_steps - 1, -1, -1):
                pre = torch.mul(grad, gain[start:stop, t], out=grad_pre[start:stop, t])
                carried = grad_states[start:stop, t - 1] if t > 0 else torch.zeros_like(grad)
                grad = torch.addcmul(carried, grad, _rate_at(keep, start, stop, t)).baddbmm_(pre, recurrent)
            grad_initial[start:stop] = grad
        grad_weight = None
        if ctx.needs_input_grad[1]:
            rows = members, -1, rates.shape[-1]
            grad_weight = torch.bmm(grad_pre.view(rows).transpose(1, 2), trajectory[:, :-1].reshape(rows))
        return grad_pre, grad_weight, None, grad_initial, None, None


def leaky_sequence(drive: torch.Tensor, weight: torch.Tensor, alpha: torch.Tensor, initial: torch.Tensor,
                   activation: str, running: torch.Tensor | None = None, chunk: int | None = None) -> torch.Tensor:
    """States (T, E, B, N) from drive (T, E, B, N), weights W (E, N, N), α (E, N), h_0 (E, B, N).

    ``running`` (T, E, B) holds a trial's state where it is False. ``chunk`` members per pass
    (default :func:`member_chunk`). The states come back as a (T, E, B, N) view of member-major
    memory; a drive laid out member-major (as ``einsum`` returns it) is used without a copy.
    """
    n_steps, members, batch, n_hidden = drive.shape
    rate = alpha.to(drive.dtype).unsqueeze(1).unsqueeze(1)
    if running is not None:
        rate = rate * running.transpose(0, 1).unsqueeze(-1).to(drive.dtype)
    if chunk is None:
        chunk = member_chunk(members, batch, n_hidden, drive.device, drive.element_size())
    states = LeakySequence.apply(drive.transpose(0, 1).contiguous(), weight, rate, initial.contiguous(),
                                 activation, chunk)
    return states.transpose(0, 1)
