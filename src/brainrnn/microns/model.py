"""The MICrONS-constrained RNN variants, in the reference notebook's form and in a corrected form.

A variant name combines an initialisation, a distance and a communicability term:

* init: ``W*`` bio-initialised (lognormal(−0.5, 0.5) × minmax(corr) × minmax(STTC), mean 0.1,
  non-zero entries ≥ 0.01, spectral radius 0.95); ``W!`` the same with rows and columns permuted
  together (connectome structure destroyed, weight statistics kept); ``W`` orthogonal; the diagonal
  controls (ours, :data:`brainrnn.microns.DIAGONAL_INITS`): ``W0`` 0.95 × identity, ``W*off`` W* with
  its diagonal zeroed, ``W*shuf`` W* with its off-diagonal entries shuffled (diagonal kept),
  ``W*diag`` diag(W*) alone;
* distance: ``D*`` soma distances; ``D`` distances on the field's integer grid; none: a plain L1;
* ``C``: the penalty λ Σ|W|⊙D⊙C(W) with C the weighted communicability (seRNN);
  ``C*``: λ Σ|W|⊙D plus λ_EMD × mean |sort(C_connectome) − sort(C(W))| (a distribution match).

Communicability normalises by out-strengths, as seRNN and the notebook do (both sum the Keras
kernel, rows presynaptic, along its rows); the networks' matrices are LeakyRNN's (rows postsynaptic),
the connectome's rows are presynaptic, and :func:`brainrnn.models.regularisers.communicability` is told
which is which.

``faithful`` mode reproduces the notebook, defects included: D* from positions scrambled by a
reshape (then min-max scaled per axis, as the notebook does), grid distances not normalised, zero node
strengths replaced by 1e-10 in the target's communicability, and the plain L1 penalty ignoring λ.
``corrected`` mode uses true soma distances, normalises both distances to a maximum of 1, treats zero
strengths as zero, and applies λ everywhere. In every mode ``penalty_diagonal`` (``as_source`` or
``free``) says whether the plain L1 penalty charges the self-connections, as the notebook's does, or
leaves them free like every distance penalty (d_ii = 0).

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
from brainrnn.microns import MODES, PENALTY_DIAGONAL, Variant
from brainrnn.microns.field import VOXEL_NM, Field
from brainrnn.models.regularisers import communicability, pairwise_distances
from brainrnn.seeding import derive_seed

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
    """The variant's initial recurrent matrix (LeakyRNN orientation); the W*-derived controls draw W*
    first from ``rng``, exactly as the W* variant does, then keep the part of it they name."""
    n_neurons = field.n_neurons
    if variant.init == "W*":
        return bio_init(field, rng)
    if variant.init == "W!":
        weight = bio_init(field, rng)
        permutation = rng.permutation(n_neurons)
        return weight[np.ix_(permutation, permutation)]
    if variant.init == "W*off":
        return bio_init(field, rng) * (1.0 - np.eye(n_neurons))
    if variant.init == "W*diag":
        return np.diag(np.diag(bio_init(field, rng)))
    if variant.init == "W*shuf":
        weight = bio_init(field, rng)
        off = ~np.eye(n_neurons, dtype=bool)
        weight[off] = rng.permutation(weight[off])
        return weight
    if variant.init == "W0":
        return 0.95 * np.eye(n_neurons)
    q, r = np.linalg.qr(rng.standard_normal((n_neurons, n_neurons)))
    return q * np.sign(np.diag(r))


def init_seed(member_seed: int, name: str) -> int:
    """Seed of a member's initial weights. A W*-derived control uses the seed of the W* variant with its
    penalty (W*offD*C that of W*D*C), so each control member starts from a part of the very W* its bio
    counterpart with the same seed index starts from."""
    variant = Variant.parse(name)
    source = "W*" + variant.penalty if variant.init in ("W*off", "W*shuf", "W*diag") else name
    return derive_seed(member_seed, "init", source)


def distances(variant: Variant, field: Field, mode: str) -> np.ndarray:
    """The distance matrix of the variant's penalty (all ones off the diagonal for plain L1)."""
    n_neurons = field.n_neurons
    if variant.distance is None:
        return 1.0 - np.eye(n_neurons)
    if variant.distance == "D*":
        if mode == "faithful":
            return pairwise_distances(notebook_coordinates(field))
        matrix = pairwise_distances(field.positions_um)
        return matrix / matrix.max()
    grid = np.stack(np.unravel_index(np.arange(n_neurons), field.grid), axis=1).astype(float)
    matrix = pairwise_distances(grid)
    return matrix / matrix.max() if mode == "corrected" else matrix


def notebook_coordinates(field: Field) -> np.ndarray:
    """The notebook's D* coordinates (N, 3): the voxel triples reshaped (3, N) where a transpose was needed,
    each of the three rows then min-max scaled to [0, 1] and read as one axis."""
    scrambled = (field.positions_um * 1000.0 / VOXEL_NM).reshape(3, -1)
    low, high = scrambled.min(axis=1, keepdims=True), scrambled.max(axis=1, keepdims=True)
    return ((scrambled - low) / np.where(high > low, high - low, 1.0)).T


def model_communicability(weight: torch.Tensor) -> torch.Tensor:
    """Communicability of LeakyRNN matrices (rows postsynaptic), normalised by out-strengths (seRNN)."""
    return communicability(weight, orientation="post_pre", strength="out")


def target_communicability(field: Field, mode: str) -> torch.Tensor:
    """Sorted off-diagonal communicability values of the field's connectome (the C* target).

    The connectome's rows are presynaptic, so its out-strengths are its row sums (as in the notebook).
    """
    connectome = torch.tensor(field.connectome, dtype=torch.float64).unsqueeze(0)
    if mode == "faithful":
        strength = connectome.sum(dim=-1).clamp(min=FAITHFUL_ZERO_STRENGTH).rsqrt()
        value = torch.linalg.matrix_exp(strength.unsqueeze(-1) * connectome * strength.unsqueeze(-2))
        value = value * (1 - torch.eye(field.n_neurons, dtype=torch.float64))
    else:
        value = communicability(connectome, orientation="pre_post", strength="out")
    off = ~torch.eye(field.n_neurons, dtype=torch.bool)
    return torch.sort(value[0][off]).values.float()


@dataclass
class Penalty:
    """λ-weighted wiring penalty of one variant, for a one-member or ensemble recurrent matrix (E, N, N).

    ``distance`` is zero on the diagonal for every distance penalty and for the plain L1 penalty when
    the diagonal is free; ``charge_l1_diagonal`` makes the plain L1 penalty charge it (the notebook's).
    """

    variant: Variant
    distance: torch.Tensor
    strength: float
    emd_strength: float
    target: torch.Tensor | None
    ignore_lambda_for_l1: bool
    charge_l1_diagonal: bool

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
            charged = magnitude if self.charge_l1_diagonal else magnitude * self.distance
            return self.effective_strength * charged.sum(dim=(-2, -1))
        if self.variant.communicability == "C":
            return self.strength * (magnitude * self.distance * model_communicability(weight)).sum(dim=(-2, -1))
        cost = self.strength * (magnitude * self.distance).sum(dim=(-2, -1))
        if self.variant.communicability == "C*":
            assert self.target is not None, "the C* penalty needs its target communicability"
            off = ~torch.eye(weight.shape[-1], dtype=torch.bool, device=weight.device)
            model = torch.sort(model_communicability(weight)[:, off], dim=-1).values
            cost = cost + self.emd_strength * (model - self.target).abs().mean(dim=-1)
        return cost


def matching_point(field: Field, seed: int) -> torch.Tensor:
    """The common weights at which matched mode equalises the penalties: one orthogonal matrix, (1, N, N)."""
    orthogonal = initial_weights(Variant("W", None, None), field, np.random.default_rng(seed))
    return torch.tensor(orthogonal, dtype=torch.float32).unsqueeze(0)


def make_penalty(variant: Variant, field: Field, mode: str, *, strength: float, emd_strength: float,
                 diagonal: str, reference: str = "W*D*C", match_seed: int = 0) -> Penalty:
    """The variant's penalty in ``mode``; in matched mode, rescaled to the reference's at the matching point.

    ``diagonal`` is ``microns.penalty_diagonal``: ``as_source`` or ``free``.
    """
    if mode not in MODES:
        raise InputError(f"unknown MICrONS mode '{mode}'.", field="microns.modes", fix=f"use {', '.join(MODES)}.")
    if diagonal not in PENALTY_DIAGONAL:
        raise InputError(f"unknown penalty_diagonal '{diagonal}'.", field="microns.penalty_diagonal",
                         fix=f"use {', '.join(PENALTY_DIAGONAL)}.")
    choices = "faithful" if mode == "faithful" else "corrected"
    target = target_communicability(field, choices) if variant.communicability == "C*" else None
    penalty = Penalty(variant, torch.tensor(distances(variant, field, choices), dtype=torch.float32), strength,
                      emd_strength, target, ignore_lambda_for_l1=mode == "faithful",
                      charge_l1_diagonal=diagonal == "as_source")
    if mode != "matched":
        return penalty
    if strength <= 0:
        raise InputError("matched mode rescales λ, so λ must be positive.", field="microns.lambda",
                         fix="set microns.lambda > 0, or drop 'matched' from microns.modes.")
    point = matching_point(field, match_seed)
    with torch.no_grad():
        wanted = float(make_penalty(Variant.parse(reference), field, "corrected", strength=strength,
                                    emd_strength=emd_strength, diagonal=diagonal)(point)[0])
        own = float(penalty(point)[0])
    if not own > 0:
        raise InputError(f"the penalty of {variant.name} is {own} at the matching point of field {field.name}; "
                         "it cannot be matched.", field="microns.modes",
                         fix="check the field's positions (distinct somata), or drop 'matched' from microns.modes.")
    factor = wanted / own
    return replace(penalty, strength=strength * factor, emd_strength=emd_strength * factor)
