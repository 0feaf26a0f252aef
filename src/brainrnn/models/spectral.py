"""Differentiable spectral regularisers of recurrent weights (the low-rank developmental framework's loss).

Per member of an ensemble, on W (E, N, N) or its singular values σ (E, K), largest first:

* nuclear norm ‖W‖* = Σσ_i (promotes low rank);
* effective rank, (Σσ)²/Σσ² (``plain``) or (Σσ²)²/Σσ⁴ (``squared``; see :mod:`brainrnn.spectra`);
* spectral target Σ_i (σ_i − c·e^(−γ i))² over the K values given, with i = 0 for the largest and
  c = σ_0 (held constant in the gradient): the term shapes how fast the spectrum decays relative to
  its leading value without fixing the overall scale, which the task sets.
"""

from __future__ import annotations

import torch

from brainrnn.spectra import RANK_DEFINITIONS


def singular_values(weight: torch.Tensor) -> torch.Tensor:
    """Singular values (E, N) of each member's matrix, largest first (differentiable)."""
    return torch.linalg.svdvals(weight)


def nuclear_norm(singular: torch.Tensor) -> torch.Tensor:
    """Σσ per member (E,)."""
    return singular.sum(dim=-1)


def effective_rank(singular: torch.Tensor, definition: str) -> torch.Tensor:
    """Effective rank per member (E,) from singular values (E, K); see :func:`brainrnn.spectra.effective_rank`."""
    if definition not in RANK_DEFINITIONS:
        raise ValueError(f"unknown effective-rank definition '{definition}' (use one of {', '.join(RANK_DEFINITIONS)})")
    values = singular**2 if definition == "squared" else singular
    return values.sum(dim=-1) ** 2 / (values**2).sum(dim=-1).clamp(min=torch.finfo(values.dtype).tiny)


def spectral_target(singular: torch.Tensor, decay: float) -> torch.Tensor:
    """Σ_i (σ_i − σ_0·e^(−decay·i))² per member (E,), over the K singular values given (i = 0 … K − 1)."""
    index = torch.arange(singular.shape[-1], dtype=singular.dtype)
    target = singular[..., :1].detach() * torch.exp(-decay * index)
    return ((singular - target) ** 2).sum(dim=-1)
