"""The MICrONS-constrained RNN variants, in the reference notebook's form and in a corrected form.

A variant name combines an initialisation, a distance and a communicability term:

* init: ``W*`` bio-initialised (lognormal(−0.5, 0.5) × minmax(corr) × minmax(STTC), mean 0.1,
  non-zero entries ≥ 0.01, spectral radius 0.95); ``W!`` the same with rows and columns permuted
  together (connectome structure destroyed, weight statistics kept); ``W`` orthogonal; ``W0``
  (control) 0.95 × identity, the near-diagonal radius-0.95 structure without the connectome;
* distance: ``D*`` soma distances; ``D`` distances on the field's integer grid; none: a plain L1;
* ``C``: the penalty λ Σ|W|⊙D⊙C(W) with C the weighted communicability (seRNN);
  ``C*``: λ Σ|W|⊙D plus λ_EMD × mean |sort(C_connectome) − sort(C(W))| (a distribution match).

``faithful`` mode reproduces the notebook, defects included: D* from positions scrambled by a
reshape, grid distances not normalised, zero node strengths replaced by 1e-10 in the target's
communicability, and the plain L1 penalty ignoring λ. ``corrected`` mode uses true soma
distances, normalises both distances to a maximum of 1, treats zero strengths as zero, and applies
λ everywhere.

``matched`` mode makes the corrected choices and also matches λ across penalties. At the same
weights the penalties differ by orders of magnitude (on field 6_6_2, at an orthogonal matrix,
Σ|W|⊙D* is ~140× Σ|W|⊙D*⊙C), so "W*D*C beats WD*" could be a λ effect. Each variant's λ and
λ_EMD are multiplied by one factor chosen so that its penalty equals that of the reference
variant (``microns.match_reference``, default W*D*C, whose λ is kept) at a common matching
point: an orthogonal matrix drawn once per field from the base seed. The point is the same for
every variant, so the match compares penalty functions, not initialisations (matching each
variant at its own initialisation would confound init with λ, and is undefined for the diagonal
control, whose penalty is 0 there). The L1, D and C penalties scale linearly with the weights
(communicability is scale-free), so they stay matched at every multiple of the matching point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from brainrnn.errors import InputError
from brainrnn.microns import MODES, Variant
from brainrnn.microns.field import VOXEL_NM, Field
from brainrnn.models.regularisers import communicability, pairwise_distances

FAITHFUL_ZERO_STRENGTH = 1e-10


def minmax(matrix: np.ndarray) -> np.ndarray:
    low, high = matrix.min(), matrix.max()
    return (matrix - low) / (high - low) if high > low else np.zeros_like(matrix)


def scale_to_radius(matrix: np.ndarray, radius: float) -> np.ndarray:
    current = np.abs(np.linalg.eigvals(matrix)).max()
    return matrix * (radius / current) if current > 0 else matrix


def bio_init(field: Field, rng: np.random.Generator) -> np.ndarray:
    """lognormal × minmax(corr) × minmax(STTC), mean 0.1, non-zero entries ≥ 0.01, spectral radius 0.95."""
    weight = rng.lognormal(-0.5, 0.5, size=field.corr.shape) * minmax(field.corr) * minmax(field.sttc)
    weight *= 0.1 / weight.mean()
    weight = np.where(weight > 0, np.maximum(weight, 0.01), 0.0)
    return scale_to_radius(weight, 0.95)


def initial_weights(variant: Variant, field: Field, rng: np.random.Generator) -> np.ndarray:
    n_neurons = field.n_neurons
    if variant.init == "W*":
        return bio_init(field, rng)
    if variant.init == "W!":
        weight = bio_init(field, rng)
        permutation = rng.permutation(n_neurons)
        return weight[np.ix_(permutation, permutation)]
    if variant.init == "W0":
        return 0.95 * np.eye(n_neurons)
    q, r = np.linalg.qr(rng.standard_normal((n_neurons, n_neurons)))
    return q * np.sign(np.diag(r))


def distances(variant: Variant, field: Field, mode: str) -> np.ndarray:
    """The distance matrix of the variant's penalty (all ones off the diagonal for plain L1)."""
    n_neurons = field.n_neurons
    if variant.distance is None:
        return 1.0 - np.eye(n_neurons)
    if variant.distance == "D*":
        positions = field.positions_um
        if mode == "faithful":  # the notebook's reshape(3, -1) of the voxel triples, read as points
            positions = (field.positions_um * 1000.0 / VOXEL_NM).reshape(3, -1).T
        matrix = pairwise_distances(positions)
        return matrix / matrix.max()
    grid = np.stack(np.unravel_index(np.arange(n_neurons), field.grid), axis=1).astype(float)
    matrix = pairwise_distances(grid)
    return matrix / matrix.max() if mode == "corrected" else matrix


def target_communicability(field: Field, mode: str) -> torch.Tensor:
    """Sorted off-diagonal communicability values of the field's connectome (the C* target)."""
    connectome = torch.tensor(field.connectome, dtype=torch.float64).unsqueeze(0)
    if mode == "faithful":
        strength = connectome.sum(dim=-1).clamp(min=FAITHFUL_ZERO_STRENGTH).rsqrt()
        value = torch.linalg.matrix_exp(strength.unsqueeze(-1) * connectome * strength.unsqueeze(-2))
        value = value * (1 - torch.eye(field.n_neurons, dtype=torch.float64))
    else:
        value = communicability(connectome)
    off = ~torch.eye(field.n_neurons, dtype=torch.bool)
    return torch.sort(value[0][off]).values.float()


@dataclass
class Penalty:
    """λ-weighted wiring penalty of one variant, for a one-member or ensemble recurrent matrix (E, N, N)."""

    variant: Variant
    distance: torch.Tensor
    strength: float
    emd_strength: float
    target: torch.Tensor | None
    ignore_lambda_for_l1: bool

    @property
    def effective_strength(self) -> float:
        """The λ actually applied (the faithful plain L1 penalty ignores λ, i.e. uses 1)."""
        return 1.0 if self.variant.distance is None and self.ignore_lambda_for_l1 else self.strength

    def to(self, device: torch.device) -> Penalty:
        """The same penalty with its constants on ``device``."""
        return replace(self, distance=self.distance.to(device),
                       target=None if self.target is None else self.target.to(device))

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        magnitude = weight.abs()
        if self.variant.distance is None:
            return self.effective_strength * magnitude.sum(dim=(-2, -1))
        if self.variant.communicability == "C":
            return self.strength * (magnitude * self.distance * communicability(weight)).sum(dim=(-2, -1))
        cost = self.strength * (magnitude * self.distance).sum(dim=(-2, -1))
        if self.variant.communicability == "C*":
            assert self.target is not None, "the C* penalty needs its target communicability"
            off = ~torch.eye(weight.shape[-1], dtype=torch.bool, device=weight.device)
            model = torch.sort(communicability(weight)[:, off], dim=-1).values
            cost = cost + self.emd_strength * (model - self.target).abs().mean(dim=-1)
        return cost


def matching_point(field: Field, seed: int) -> torch.Tensor:
    """The common weights at which matched mode equalises the penalties: one orthogonal matrix, (1, N, N)."""
    orthogonal = initial_weights(Variant("W", None, None), field, np.random.default_rng(seed))
    return torch.tensor(orthogonal, dtype=torch.float32).unsqueeze(0)


def make_penalty(variant: Variant, field: Field, mode: str, *, strength: float, emd_strength: float,
                 reference: str = "W*D*C", match_seed: int = 0) -> Penalty:
    """The variant's penalty in ``mode``; in matched mode, rescaled to the reference's at the matching point."""
    if mode not in MODES:
        raise InputError(f"unknown MICrONS mode '{mode}'.", field="microns.modes", fix=f"use {', '.join(MODES)}.")
    choices = "faithful" if mode == "faithful" else "corrected"
    target = target_communicability(field, choices) if variant.communicability == "C*" else None
    penalty = Penalty(variant, torch.tensor(distances(variant, field, choices), dtype=torch.float32), strength,
                      emd_strength, target, ignore_lambda_for_l1=mode == "faithful")
    if mode != "matched":
        return penalty
    if strength <= 0:
        raise InputError("matched mode rescales λ, so λ must be positive.", field="microns.lambda",
                         fix="set microns.lambda > 0, or drop 'matched' from microns.modes.")
    point = matching_point(field, match_seed)
    with torch.no_grad():
        wanted = float(make_penalty(Variant.parse(reference), field, "corrected", strength=strength,
                                    emd_strength=emd_strength)(point)[0])
        own = float(penalty(point)[0])
    if not own > 0:
        raise InputError(f"the penalty of {variant.name} is {own} at the matching point of field {field.name}; "
                         "it cannot be matched.", field="microns.modes",
                         fix="check the field's positions (distinct somata), or drop 'matched' from microns.modes.")
    factor = wanted / own
    return replace(penalty, strength=strength * factor, emd_strength=emd_strength * factor)
