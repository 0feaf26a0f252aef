"""Wiring-cost regularisers: connection length in an embedding space, optionally × communicability.

``λ Σ_ij |W_ij| d_ij`` charges each connection for its length; with communicability (seRNN,
Achterberg et al. 2023) the charge also grows with how much a connection carries in the network's
weighted walks, ``C = expm(S^-½ |W| S^-½)`` with S the diagonal of node strengths.
"""

from __future__ import annotations

import numpy as np
import torch

from brainrnn.models.expm import matrix_exp


def pairwise_distances(coordinates: np.ndarray) -> np.ndarray:
    """Euclidean distances (N, N) between rows of ``coordinates`` (N, k), kept in their own units."""
    coordinates = np.asarray(coordinates, dtype=float)
    difference = coordinates[:, None, :] - coordinates[None, :, :]
    return np.sqrt((difference**2).sum(axis=-1))


def communicability(weight: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Weighted communicability expm(S^-½ |W| S^-½) per member, (E, N, N), with a zero diagonal.

    S holds the out-strengths (row sums of |W|); a neuron with zero strength gets a zero
    normalisation (not the MICrONS notebook's 1e-10, which inflates its entries to ~1e5).
    """
    magnitude = weight.abs()
    strength = magnitude.sum(dim=-1)
    scale = torch.where(strength > eps, strength.clamp(min=eps).rsqrt(), torch.zeros_like(strength))
    normalised = scale.unsqueeze(-1) * magnitude * scale.unsqueeze(-2)
    result = matrix_exp(normalised)
    return result * (1.0 - torch.eye(weight.shape[-1], dtype=weight.dtype, device=weight.device))


def wiring_cost(weight: torch.Tensor, distance: torch.Tensor, strength: torch.Tensor,
                *, with_communicability: bool = False) -> torch.Tensor:
    """Per-member penalty λ_e Σ_ij |W_eij| d_eij (× C_eij); weight (E, N, N), distance (E, N, N)."""
    cost = weight.abs() * distance
    if with_communicability:
        cost = cost * communicability(weight)
    return strength * cost.sum(dim=(-2, -1))
