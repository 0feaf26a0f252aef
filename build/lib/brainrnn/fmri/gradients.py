"""Association-sensory gradients (BrainSpace diffusion maps), alignment and gradient spread.

The reference embedding comes from the group FC. Because the first two diffusion eigenvalues can
be nearly equal, the component index says little about which axis is the association-sensory
one: we pick as G1 the reference component that best separates named sensory from association
regions and orient it sensory (negative) to association (positive). Each subject's embedding is
then rotated onto the reference by orthogonal Procrustes, which keeps distances (and hence the
spread) intact.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import orthogonal_procrustes

from brainrnn.errors import InputError


@dataclass(frozen=True)
class GradientOptions:
    """BrainSpace settings (the ``gradients`` config section documents each and holds the defaults)."""

    n_components: int
    approach: str
    kernel: str | None
    sparsity: float

    @classmethod
    def from_config(cls, gradients: dict) -> GradientOptions:
        return cls(n_components=gradients["n_components"], approach=gradients["approach"],
                   kernel=gradients["kernel"], sparsity=gradients["sparsity"])


@dataclass(frozen=True)
class Embedding:
    """Gradients (regions × components) and their eigenvalues, in one consistent order."""

    gradients: np.ndarray
    eigenvalues: np.ndarray


def embed(fc: np.ndarray, options: GradientOptions, seed: int = 0) -> Embedding:
    """Native BrainSpace embedding of one FC matrix (components in eigenvalue order)."""
    from brainspace.gradient import GradientMaps

    fc = np.asarray(fc, dtype=float)
    if fc.shape[0] <= options.n_components + 1:
        raise ValueError(f"{fc.shape[0]} regions cannot support {options.n_components} gradients")
    maps = GradientMaps(n_components=options.n_components, approach=options.approach,
                        kernel=options.kernel, random_state=seed)
    maps.fit(fc, sparsity=options.sparsity)
    return Embedding(np.asarray(maps.gradients_, dtype=float), np.asarray(maps.lambdas_, dtype=float))


def region_mask(names: Sequence[str], patterns: Sequence[str]) -> np.ndarray:
    """Boolean mask of the regions whose name matches any of the regular expressions."""
    compiled = [re.compile(pattern) for pattern in patterns]
    return np.array([any(regex.search(name) for regex in compiled) for name in names])


def orient_reference(embedding: Embedding, names: Sequence[str], sensory: Sequence[str],
                     association: Sequence[str]) -> tuple[Embedding, int]:
    """Reorder so G1 is the component that best separates association from sensory regions.

    Separation is the difference of the two groups' mean loadings in units of the component's
    standard deviation. G1 is flipped so association regions score positive; the other
    components keep eigenvalue order, each signed so its largest-magnitude loading is positive
    (a convention that makes reruns and subjects comparable). Returns the new embedding and the
    native index of the component chosen as G1.
    """
    sensory_mask, association_mask = region_mask(names, sensory), region_mask(names, association)
    if not sensory_mask.any() or not association_mask.any():
        which = "gradients.sensory_regions" if not sensory_mask.any() else "gradients.association_regions"
        raise InputError("no region name matches the patterns, so G1 cannot be oriented sensory to "
                         "association.", field=which,
                         fix=f"give regular expressions that match region names (e.g. {list(names[:3])}).")
    grads = embedding.gradients
    separation = (grads[association_mask].mean(axis=0) - grads[sensory_mask].mean(axis=0)) / grads.std(axis=0)
    first = int(np.argmax(np.abs(separation)))
    order = [first] + [index for index in range(grads.shape[1]) if index != first]
    oriented = grads[:, order].copy()
    oriented[:, 0] *= np.sign(separation[first])
    for column in range(1, oriented.shape[1]):
        peak = oriented[np.argmax(np.abs(oriented[:, column])), column]
        oriented[:, column] *= np.sign(peak)
    return Embedding(oriented, embedding.eigenvalues[order]), first


def align_to_reference(embedding: Embedding, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotate a subject's embedding onto the reference (orthogonal Procrustes, no scaling).

    Returns the aligned gradients and the rotation ``R`` (aligned = native @ R).
    """
    if embedding.gradients.shape != reference.shape:
        raise ValueError(f"subject embedding {embedding.gradients.shape} and reference {reference.shape} differ")
    rotation, _ = orthogonal_procrustes(embedding.gradients, reference)
    return embedding.gradients @ rotation, rotation


def explained_share(eigenvalues: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Share of the eigenvalue mass carried by each aligned component (sums to 1).

    With aligned = native @ R and R orthogonal, aligned component j mixes native components with
    weights R[:, j]², so its share is Σ_i R_ij² λ_i / Σ_i λ_i.
    """
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    return (rotation**2).T @ eigenvalues / eigenvalues.sum()


def gradient_spread(gradients: np.ndarray, dims: int) -> dict[str, float]:
    """Range of G1 and dispersion (mean distance to the centroid) in G1..G<dims>."""
    gradients = np.asarray(gradients, dtype=float)
    dims = min(dims, gradients.shape[1])
    space = gradients[:, :dims]
    dispersion = float(np.linalg.norm(space - space.mean(axis=0), axis=1).mean())
    return {"g1_range": float(np.ptp(gradients[:, 0])), "dispersion": dispersion}


def gradients_frame(gradients: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Regions × G1..Gk table with region names as the index."""
    columns = [f"G{index + 1}" for index in range(gradients.shape[1])]
    return pd.DataFrame(gradients, index=pd.Index(list(names), name="region"), columns=columns)
