"""The fused leaky-RNN sequence: its hand-written backward against autograd, in float64.

The reference is the recurrence written step by step for autograd, as the engine ran before the
sequence was fused: ``h ← where(running, (1 − α) h + α φ(W h + d [+ hook]), h)``.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.autograd import gradcheck

from brainrnn.models.rnn import ACTIVATIONS, LeakyRNN, RNNShape
from brainrnn.models.sequence import leaky_sequence, member_chunk

T, E, B, N, N_IN, N_OUT = 6, 3, 2, 5, 3, 2


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


def reference_states(model: LeakyRNN, inputs: torch.Tensor, noise: torch.Tensor | None,
                     running: torch.Tensor | None) -> torch.Tensor:
    """The recurrence step by step under autograd (the pre-fusion engine)."""
    drive = model.input_drive(inputs) + (0 if noise is None else noise)
    state = torch.zeros(drive.shape[1:], dtype=drive.dtype)
    alpha = model.alpha.unsqueeze(1)
    states = []
    for t in range(drive.shape[0]):
        pre = drive[t] + torch.bmm(state, model.recurrent_weight.transpose(1, 2))
        if model.bias_hook is not None:
            pre = pre + model.bias_hook(state, inputs[t])
        updated = (1.0 - alpha) * state + alpha * model.phi(pre)
        state = updated if running is None else torch.where(running[t].unsqueeze(-1), updated, state)
        states.append(state)
    return torch.stack(states)


class StateBias(nn.Module):
    """A bias hook that reads the state and the input (like the cerebellum), small enough for float64 checks."""

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(5)
        self.from_state = nn.Parameter(0.3 * torch.randn(E, N, N, generator=generator))
        self.from_input = nn.Parameter(0.3 * torch.randn(E, N_IN, N, generator=generator))

    def forward(self, state: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(torch.bmm(state, self.from_state) + torch.bmm(inputs, self.from_input))


def build(activation: str, *, rank: int | None = None, hook: bool = False, per_unit_tau: bool = True) -> LeakyRNN:
    tau = torch.linspace(25.0, 400.0, N) if per_unit_tau else None  # α = dt/τ from 0.05 to 0.8 (one unit at 1)
    shape = RNNShape(N_IN, N, N_OUT, activation=activation, dt_ms=20.0, tau_ms=100.0, rank=rank, init_gain=1.2)
    model = LeakyRNN(shape, [1, 2, 3], tau_ms=tau, bias_hook=StateBias() if hook else None).double()
    with torch.no_grad():
        model.bias.normal_(0.0, 0.5, generator=torch.Generator().manual_seed(9))  # ReLU units on both sides of 0
    return model


def sample(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(T, E, B, N_IN, generator=generator, dtype=torch.float64)
    noise = 0.1 * torch.randn(T, E, B, N, generator=generator, dtype=torch.float64)
    running = torch.rand(T, E, B, generator=generator) > 0.3
    running[: T // 2] |= torch.rand(T // 2, E, B, generator=generator) > 0.5  # some trials start late
    return inputs, noise, running


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("masked", [False, True], ids=["all-running", "running-mask"])
@pytest.mark.parametrize("chunk", [1, 3])
def test_the_hand_written_backward_passes_gradcheck(activation, masked, chunk):
    """Gradients with respect to the drive, the weights and the initial state, against finite differences."""
    generator = torch.Generator().manual_seed(1)
    drive = torch.randn(T, E, B, N, generator=generator, dtype=torch.float64, requires_grad=True)
    weight = (0.5 * torch.randn(E, N, N, generator=generator, dtype=torch.float64)).requires_grad_()
    initial = torch.randn(E, B, N, generator=generator, dtype=torch.float64, requires_grad=True)
    alpha = torch.linspace(0.05, 1.0, N, dtype=torch.float64).expand(E, N)
    running = sample()[2] if masked else None
    assert gradcheck(lambda d, w, h: leaky_sequence(d, w, alpha, h, activation, running, chunk=chunk),
                     (drive, weight, initial))


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("variant", ["full", "low-rank", "hook"])
def test_every_parameter_gradient_equals_autograd_through_the_steps(activation, variant):
    """Per-unit α, noise, the running mask, low rank and the bias hook: forward and every gradient of a loss."""
    model = build(activation, rank=2 if variant == "low-rank" else None, hook=variant == "hook")
    inputs, noise, running = sample()
    readout_target = torch.randn(T, E, B, N_OUT, generator=torch.Generator().manual_seed(4), dtype=torch.float64)

    def gradients(states_of) -> tuple[torch.Tensor, list[torch.Tensor]]:
        model.zero_grad()
        states = states_of()
        outputs = torch.einsum("tebn,eno->tebo", states, model.readout_weight) + model.readout_bias.unsqueeze(1)
        ((outputs - readout_target) ** 2).sum().backward()
        return states.detach(), [parameter.grad.clone() for parameter in model.parameters()]

    fused_states, fused = gradients(lambda: model(inputs, noise=noise, running=running)[1])
    reference, expected = gradients(lambda: reference_states(model, inputs, noise, running))
    assert torch.allclose(fused_states, reference, rtol=1e-12, atol=1e-12)
    assert running.logical_not().any() and not torch.equal(fused_states[-1], fused_states[0])
    for (name, _), got, want in zip(model.named_parameters(), fused, expected, strict=True):
        assert want.abs().max() > 0, f"{name} gets no gradient: the check would be empty"
        assert torch.allclose(got, want, rtol=1e-10, atol=1e-12), name


def test_the_running_mask_holds_the_state_exactly_until_a_trial_starts():
    model = build("tanh")
    inputs, noise, _ = sample()
    running = torch.ones(T, E, B, dtype=torch.bool)
    running[:3, 1, 0] = False
    initial = torch.randn(E, B, N, dtype=torch.float64)
    _, states = model(inputs, noise=noise, running=running, initial_state=initial)
    assert torch.equal(states[:3, 1, 0], initial[1, 0].expand(3, N))
    assert not torch.equal(states[3, 1, 0], initial[1, 0])


def test_members_do_not_depend_on_the_chunking():
    """One member's trajectory and gradients are the same whether it runs alone, in pairs or with all."""
    model = build("relu")
    inputs, noise, running = sample()
    drive = (model.input_drive(inputs) + noise).float().detach()
    weight = model.recurrent_weight.float().detach()
    results = []
    for chunk in (1, 2, 3):
        weight_chunk = weight.clone().requires_grad_()
        states = leaky_sequence(drive, weight_chunk, model.alpha.float(), torch.zeros(E, B, N), "relu", running,
                                chunk=chunk)
        states.square().sum().backward()
        results.append((states.detach(), weight_chunk.grad))
    for states, grad in results[1:]:
        assert torch.allclose(states, results[0][0], rtol=1e-6, atol=1e-7)
        assert torch.allclose(grad, results[0][1], rtol=1e-5, atol=1e-6)


def test_the_chunk_keeps_large_networks_apart_and_small_ones_together():
    cpu = torch.device("cpu")
    assert member_chunk(16, 64, 64, cpu) == 16          # 16 members of 64 units fit one pass
    assert member_chunk(16, 64, 1024, cpu) == 1         # one 1024-unit weight matrix fills the budget
    chunks = [member_chunk(members, 64, 128, cpu) for members in range(1, 33)]
    assert all(-(-members // chunk) * chunk - members < -(-members // chunk)
               for members, chunk in zip(range(1, 33), chunks, strict=True))  # balanced: no chunk nearly empty
    assert member_chunk(16, 64, 1024, torch.device("meta")) == 16  # an accelerator takes every member at once
