"""The cerebellar module of the cortico-cerebellar RNN (Voce, Giannakakis & Clopath, arXiv:2605.10356).

Granule cells expand the cortical state (and optionally the input), Purkinje cells read them out,
and the deep nuclei turn the Purkinje activity into an additive bias on the core's pre-activation
at every step:

    granule  = ReLU(G [h, x] + g)      (n_granule units)
    purkinje = ReLU(P granule + p)     (n_purkinje units)
    bias     = D purkinje + d          (one value per core unit)

Weights carry the ensemble axis like :class:`brainrnn.models.rnn.LeakyRNN` and start near zero, so
an untrained module barely perturbs the core (its nuclei start near zero).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from brainrnn.models.hooks import register_hook


@dataclass(frozen=True)
class CerebellumShape:
    n_core: int
    n_inputs: int
    n_granule: int = 256
    n_purkinje: int = 64
    sees_input: bool = True
    init_scale: float = 1e-2
    """Std of the initial nuclei weights relative to 1/√fan-in ("near-zero" initialisation)."""

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def n_parameters(self) -> int:
        fan_in = self.n_core + (self.n_inputs if self.sees_input else 0)
        return ((fan_in + 1) * self.n_granule + (self.n_granule + 1) * self.n_purkinje
                + (self.n_purkinje + 1) * self.n_core)


@register_hook
class Cerebellum(nn.Module):
    """An ensemble of cerebellar modules, used as the bias hook of a LeakyRNN."""

    kind: ClassVar[str] = "cerebellum"

    def __init__(self, shape: CerebellumShape, seeds: list[int]) -> None:
        super().__init__()
        self.shape = shape
        members = len(seeds)
        fan_in = shape.n_core + (shape.n_inputs if shape.sees_input else 0)
        self.granule_weight = nn.Parameter(torch.empty(members, fan_in, shape.n_granule))
        self.granule_bias = nn.Parameter(torch.zeros(members, shape.n_granule))
        self.purkinje_weight = nn.Parameter(torch.empty(members, shape.n_granule, shape.n_purkinje))
        self.purkinje_bias = nn.Parameter(torch.zeros(members, shape.n_purkinje))
        self.nuclei_weight = nn.Parameter(torch.empty(members, shape.n_purkinje, shape.n_core))
        self.nuclei_bias = nn.Parameter(torch.zeros(members, shape.n_core))
        self.enabled = True
        for member, seed in enumerate(seeds):
            self.reinitialise(member, int(seed))

    def describe(self) -> dict[str, Any]:
        return self.shape.as_dict()

    @classmethod
    def rebuild(cls, description: dict[str, Any]) -> Cerebellum:
        return cls(CerebellumShape(**description), [0])

    @torch.no_grad()
    def reinitialise(self, member: int, seed: int) -> None:
        """Draw fresh weights for one member (also the re-initialisation ablation).

        Granule and Purkinje layers start with He-scaled weights (std √(2 / fan-in), suited to ReLU)
        so their activity carries the state; the nuclei start near zero (``init_scale``), so the
        bias on the core starts near zero but its gradient does not vanish.
        """
        generator = torch.Generator().manual_seed(seed)
        for weight, bias, scale in ((self.granule_weight, self.granule_bias, 2**0.5),
                                    (self.purkinje_weight, self.purkinje_bias, 2**0.5),
                                    (self.nuclei_weight, self.nuclei_bias, self.shape.init_scale)):
            fan_in = weight.shape[1]
            weight[member] = scale * torch.randn(weight.shape[1:], generator=generator) / fan_in**0.5
            bias[member] = 0.0

    def activity(self, state: torch.Tensor, inputs: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Granule and Purkinje activity for states (E, B, N) and inputs (E, B, n_inputs)."""
        if self.shape.sees_input:
            assert inputs is not None, "a cerebellum that sees the input needs it"
            source = torch.cat([state, inputs], dim=-1)
        else:
            source = state
        granule = torch.relu(torch.bmm(source, self.granule_weight) + self.granule_bias.unsqueeze(1))
        purkinje = torch.relu(torch.bmm(granule, self.purkinje_weight) + self.purkinje_bias.unsqueeze(1))
        return granule, purkinje

    def forward(self, state: torch.Tensor, inputs: torch.Tensor | None) -> torch.Tensor:
        if not self.enabled:
            return torch.zeros_like(state)
        _, purkinje = self.activity(state, inputs)
        return torch.bmm(purkinje, self.nuclei_weight) + self.nuclei_bias.unsqueeze(1)
