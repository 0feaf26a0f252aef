"""Wiring-cost regularisers: connection length in an embedding space, optionally × communicability.

``λ Σ_ij |W_ij| d_ij`` charges each connection for its length; with communicability (seRNN,
Achterberg et al. 2023) the charge also grows with how much a connection carries in the network's
weighted walks, ``C = expm(S^-½ |W| S^-½)`` with S the diagonal of node strengths.

Which strength normalises is a choice with a direction. seRNN sums the Keras recurrent kernel over
its columns (``reduce_sum(|W|, axis=1)``), whose rows are presynaptic: S holds *out*-strengths.
:class:`brainrnn.models.rnn.LeakyRNN` stores ``W[i, j]`` as the weight from unit j to unit i (rows
postsynaptic), where the out-strength of unit j is the sum of column j. :func:`communicability`
therefore takes the matrix's orientation and the strength wanted, and computes C in the matrix's own
orientation, so ``|W| ⊙ C`` pairs every weight with the communicability of the same connection.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from brainrnn.models.expm import matrix_exp

Orientation = Literal["post_pre", "pre_post"]
"""``post_pre``: rows are postsynaptic (LeakyRNN, W[i, j] from j to i); ``pre_post``: rows are presynaptic
(a connectome of synapse counts, a Keras recurrent kernel)."""
Strength = Literal["in", "out"]
ORIENTATIONS: tuple[Orientation, ...] = ("post_pre", "pre_post")
STRENGTHS: tuple[Strength, ...] = ("in", "out")


def pairwise_distances(coordinates: np.ndarray) -> np.ndarray:
    """Euclidean distances (N, N) between rows of ``coordinates`` (N, k), kept in their own units."""
    coordinates = np.asarray(coordinates, dtype=float)
    difference = coordinates[:, None, :] - coordinates[None, :, :]
    return np.sqrt((difference**2).sum(axis=-1))


def node_strengths(magnitude: torch.Tensor, *, orientation: Orientation, strength: Strength) -> torch.Tensor:
    """In- or out-strength of every node of |W| (…, N, N) in the given orientation, shape (…, N)."""
    if orientation not in ORIENTATIONS or strength not in STRENGTHS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS} and strength one of {STRENGTHS}, "
                         f"got {orientation!r}, {strength!r}")
    rows_are_sources = orientation == "pre_post"
    # the out-strength of a node sums its outgoing weights: along its row when rows are presynaptic
    sum_over_columns = rows_are_sources == (strength == "out")
    return magnitude.sum(dim=-1 if sum_over_columns else -2)


def communicability(weight: torch.Tensor, *, orientation: Orientation, strength: Strength,
                    eps: float = 1e-12) -> torch.Tensor:
    """Weighted communicability expm(S^-½ |W| S^-½) per member, (E, N, N), zero diagonal, in W's orientation.

    S holds the ``strength`` (in or out) of every node, read from ``weight`` in its ``orientation``;
    seRNN uses out-strengths. A node with zero strength gets a zero normalisation (not the MICrONS
    notebook's 1e-10, which inflates its entries to ~1e5).
    """
    magnitude = weight.abs()
    strengths = node_strengths(magnitude, orientation=orientation, strength=strength)
    scale = torch.where(strengths > eps, strengths.clamp(min=eps).rsqrt(), torch.zeros_like(strengths))
    normalised = scale.unsqueeze(-1) * magnitude * scale.unsqueeze(-2)
    result = matrix_exp(normalised)
    return result * (1.0 - torch.eye(weight.shape[-1], dtype=weight.dtype, device=weight.device))


def wiring_cost(weight: torch.Tensor, distance: torch.Tensor, strength: torch.Tensor,
                *, with_communicability: bool = False) -> torch.Tensor:
    """Per-member penalty λ_e Σ_ij |W_eij| d_eij (× C_eij); weight (E, N, N) of a LeakyRNN, distance (E, N, N).

    The communicability here normalises by in-strengths (row sums of the LeakyRNN matrix): the
    gradient-regularised family's choice since it was written, kept as it was (seRNN uses out-strengths).
    """
    cost = weight.abs() * distance
    if with_communicability:
        cost = cost * communicability(weight, orientation="post_pre", strength="in")
    return strength * cost.sum(dim=(-2, -1))
