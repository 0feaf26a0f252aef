"""Association-sensory gradients: deterministic diffusion maps, orientation of G1, alignment and spread.

Embeddings are computed with an exact dense eigensolver (scipy ``eigh``) on the symmetric form of
the diffusion operator, so the result does not depend on any random start vector. BrainSpace 0.3.0
calls the iterative ``eigsh`` on the non-symmetric Markov matrix with a random start vector, and
where the first two eigenvalues nearly tie (BrainSpace's own Schaefer-400 group FC) the component it
returns first changes with ``random_state``. Past ``dense_max_regions`` regions we fall back to
``eigsh`` on the symmetric operator with a fixed start vector (still seed-free).

Which component is G1 is decided by :func:`orient_reference` in one of three ways, in order of
preference: the component most correlated with a template map (one value per region, e.g. the
principal gradient of Margulies et al. 2016 averaged over the atlas's regions), the component that
best separates named sensory from association regions, or eigenvalue order with an anchor region
for the sign. Subjects are rotated onto the oriented reference by orthogonal Procrustes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import eigh, orthogonal_procrustes
from scipy.sparse.linalg import eigsh

from brainrnn.errors import InputError

ORIENTATION_METHODS = ("template", "names", "order")
"""How G1 is chosen and signed: template map, region-name patterns, eigenvalue order + anchor region."""
EIGENGAP_WARNING = 0.05
"""A chosen G1 whose eigenvalue is within this relative distance of a neighbour's is reported as near-tied."""
MIN_TEMPLATE_REGIONS = 3


@dataclass(frozen=True)
class GradientOptions:
    """Embedding settings (the ``gradients`` config section documents each and holds the defaults)."""

    n_components: int
    approach: str
    kernel: str | None
    sparsity: float
    dense_max_regions: int

    @classmethod
    def from_config(cls, gradients: dict) -> GradientOptions:
        return cls(n_components=gradients["n_components"], approach=gradients["approach"],
                   kernel=gradients["kernel"], sparsity=gradients["sparsity"],
                   dense_max_regions=gradients["dense_max_regions"])


@dataclass(frozen=True)
class OrientationOptions:
    """How G1 is chosen and signed (``gradients.orientation``; the template map itself is read separately)."""

    method: str
    sensory_regions: tuple[str, ...]
    association_regions: tuple[str, ...]
    anchor_region: str | None

    @classmethod
    def from_config(cls, orientation: dict) -> OrientationOptions:
        return cls(method=orientation["method"], sensory_regions=tuple(orientation["sensory_regions"]),
                   association_regions=tuple(orientation["association_regions"]),
                   anchor_region=orientation["anchor_region"])


@dataclass(frozen=True)
class Embedding:
    """Gradients (regions × components) and their eigenvalues, in one consistent order."""

    gradients: np.ndarray
    eigenvalues: np.ndarray


def affinity(fc: np.ndarray, options: GradientOptions) -> np.ndarray:
    """BrainSpace's affinity matrix: row-wise sparsified FC through the configured kernel."""
    from brainspace.gradient.kernels import compute_affinity

    return np.asarray(compute_affinity(np.asarray(fc, dtype=float), kernel=options.kernel,
                                       sparsity=options.sparsity), dtype=float)


def _symmetric(matrix: np.ndarray) -> np.ndarray:
    return (matrix + matrix.T) / 2.0


def _leading_eigenpairs(matrix: np.ndarray, count: int, dense: bool, *, largest: bool = True
                        ) -> tuple[np.ndarray, np.ndarray]:
    """``count`` eigenpairs of a symmetric matrix, largest (or smallest) first, without any random start."""
    n_regions = matrix.shape[0]
    if dense:
        subset = [n_regions - count, n_regions - 1] if largest else [0, count - 1]
        values, vectors = eigh(matrix, subset_by_index=subset)
    else:
        start = np.full(n_regions, 1.0 / np.sqrt(n_regions))
        values, vectors = eigsh(matrix, k=count, which="LA" if largest else "SA", v0=start, tol=0)
    order = np.argsort(values)[::-1] if largest else np.argsort(values)
    return values[order], vectors[:, order]


def _consistent_sign(vectors: np.ndarray) -> np.ndarray:
    """Each column signed so that its largest-magnitude entry is positive (BrainSpace's convention)."""
    peaks = vectors[np.abs(vectors).argmax(axis=0), np.arange(vectors.shape[1])]
    return vectors * np.where(peaks < 0, -1.0, 1.0)


def diffusion_map(weights: np.ndarray, n_components: int, *, alpha: float = 0.5, dense: bool = True) -> Embedding:
    """Multi-scale diffusion map (Coifman & Lafon 2006) as in BrainSpace, solved on the symmetric operator.

    W(α) = D^-α W D^-α; the Markov matrix P = D(α)^-1 W(α) has the eigenvalues of the symmetric
    S = D(α)^-½ W(α) D(α)^-½ and right eigenvectors D(α)^-½ u. The trivial eigenvector is dropped,
    eigenvalues become λ / (1 − λ) (all diffusion times) and scale the eigenvectors.
    """
    weights = _symmetric(np.asarray(weights, dtype=float))
    degree = weights.sum(axis=1)
    if np.any(degree <= 0):
        raise ValueError("the affinity matrix has a region with no connections")
    scale = degree**-alpha
    anisotropic = weights * scale[:, None] * scale[None, :]
    inverse_root = anisotropic.sum(axis=1) ** -0.5
    operator = _symmetric(anisotropic * inverse_root[:, None] * inverse_root[None, :])
    values, vectors = _leading_eigenpairs(operator, n_components + 1, dense)
    vectors = vectors * inverse_root[:, None]
    vectors = vectors / vectors[:, [0]]
    values = values / values[0]
    values, vectors = values[1:], vectors[:, 1:]
    values = values / (1.0 - values)
    return Embedding(_consistent_sign(vectors * values[None, :]), values)


def laplacian_map(weights: np.ndarray, n_components: int, *, dense: bool = True) -> Embedding:
    """Laplacian eigenmaps (normalised Laplacian) as in BrainSpace, solved without a random start."""
    weights = _symmetric(np.asarray(weights, dtype=float))
    np.fill_diagonal(weights, 0.0)
    degree = weights.sum(axis=1)
    if np.any(degree <= 0):
        raise ValueError("the affinity matrix has a region with no connections")
    inverse_root = degree**-0.5
    laplacian = np.eye(len(degree)) - weights * inverse_root[:, None] * inverse_root[None, :]
    values, vectors = _leading_eigenpairs(_symmetric(laplacian), n_components + 1, dense, largest=False)
    vectors = vectors * inverse_root[:, None]
    return Embedding(_consistent_sign(vectors[:, 1:]), values[1:])


def pca_map(weights: np.ndarray, n_components: int) -> Embedding:
    """Principal components of the affinity matrix (full SVD, deterministic); eigenvalues = variance ratios."""
    centred = np.asarray(weights, dtype=float) - np.asarray(weights, dtype=float).mean(axis=0)
    left, singular, _ = np.linalg.svd(centred, full_matrices=False)
    ratio = singular**2 / np.sum(singular**2)
    return Embedding(_consistent_sign(left[:, :n_components] * singular[:n_components]), ratio[:n_components])


def embed(fc: np.ndarray, options: GradientOptions) -> Embedding:
    """Native embedding of one FC matrix (components in eigenvalue order); no random state is involved."""
    fc = np.asarray(fc, dtype=float)
    if fc.shape[0] <= options.n_components + 1:
        raise ValueError(f"{fc.shape[0]} regions cannot support {options.n_components} gradients")
    weights = affinity(fc, options)
    dense = fc.shape[0] <= options.dense_max_regions
    if options.approach == "dm":
        return diffusion_map(weights, options.n_components, dense=dense)
    if options.approach == "le":
        return laplacian_map(weights, options.n_components, dense=dense)
    return pca_map(weights, options.n_components)


def eigengap(eigenvalues: np.ndarray, index: int) -> float:
    """Relative distance of eigenvalue ``index`` to its nearest neighbour among the computed ones.

    A small gap means the component's identity is fragile: a slightly different matrix could swap it
    with its neighbour (the reason G1 is chosen by a map or names, never by index alone).
    """
    values = np.asarray(eigenvalues, dtype=float)
    others = np.delete(values, index)
    return float(np.min(np.abs(others - values[index])) / abs(values[index]))


def region_mask(names: Sequence[str], patterns: Sequence[str]) -> np.ndarray:
    """Boolean mask of the regions whose name matches any of the regular expressions."""
    compiled = [re.compile(pattern) for pattern in patterns]
    return np.array([any(regex.search(name) for regex in compiled) for name in names])


def orientation_problem(names: Sequence[str], orientation: OrientationOptions,
                        template: pd.Series | None) -> InputError | None:
    """Why G1 could not be chosen and signed for these region names, or None when it can.

    Called while the workflow parses (when the names are known then), in each time-series job and
    in the reference job, so that a study that cannot orient G1 stops as early as possible.
    """
    names = list(names)
    fix_template = ("give gradients.orientation.template (a TSV with columns region and value), a region table "
                    "with a 'template' column (fmri.regions.table) or a known atlas (fmri.regions.atlas); or "
                    "set gradients.orientation.method to names (with region labels: fmri.regions.table) or order "
                    "(with gradients.orientation.anchor_region)")
    if orientation.method == "template":
        if template is None:
            return InputError("gradients.orientation.method is template but no template map is given.",
                              field="gradients.orientation.template", fix=fix_template + ".")
        usable = template.reindex(names).notna().sum()
        if usable < MIN_TEMPLATE_REGIONS:
            return InputError(f"the template map has values for {usable} of the {len(names)} regions "
                              f"(first regions: {names[:3]}; template regions: {list(template.index[:3])}).",
                              field="gradients.orientation.template",
                              fix="give template values keyed by the series' region names, or region labels "
                                  "(fmri.regions.table) that match the template.")
        return None
    if orientation.method == "names":
        for field, patterns in (("gradients.orientation.sensory_regions", orientation.sensory_regions),
                                ("gradients.orientation.association_regions", orientation.association_regions)):
            if not region_mask(names, patterns).any():
                return InputError(f"no region name matches {field}, so G1 cannot be oriented sensory to "
                                  f"association (region names: {names[:3]}...).", field=field,
                                  fix="give region labels (fmri.regions.table, a TSV with a 'name' column) and "
                                      "patterns that match them, or use gradients.orientation.method: template.")
        return None
    if orientation.anchor_region is None or orientation.anchor_region not in names:
        return InputError(f"orientation by eigenvalue order needs an anchor region among the region names; got "
                          f"{orientation.anchor_region!r}.", field="gradients.orientation.anchor_region",
                          fix=f"name an association region of the series (e.g. one of {names[:3]}).")
    return None


def orient_reference(embedding: Embedding, names: Sequence[str], orientation: OrientationOptions,
                     template: pd.Series | None = None) -> tuple[Embedding, dict[str, Any]]:
    """Reorder so G1 comes first, signed sensory (negative) → association (positive).

    ``template``: G1 is the component most correlated (Pearson, regions with a template value) with
    the map, signed to correlate positively. ``names``: the component whose association-minus-sensory
    mean loading, in units of its standard deviation, is largest in magnitude. ``order``: native
    component 1, signed so that the anchor region is positive. The other components keep eigenvalue
    order, each signed so its largest-magnitude loading is positive. Returns the oriented embedding
    and a record (method, native component, score, eigengap) for the sidecar.
    """
    problem = orientation_problem(names, orientation, template)
    if problem is not None:
        raise problem
    grads = embedding.gradients
    if orientation.method == "template":
        assert template is not None, "orientation_problem refuses a missing template"
        values = template.reindex(list(names)).to_numpy(dtype=float)
        usable = np.isfinite(values)
        scores = np.array([np.corrcoef(grads[usable, k], values[usable])[0, 1] for k in range(grads.shape[1])])
    elif orientation.method == "names":
        sensory = region_mask(names, orientation.sensory_regions)
        association = region_mask(names, orientation.association_regions)
        scores = (grads[association].mean(axis=0) - grads[sensory].mean(axis=0)) / grads.std(axis=0)
    else:
        anchor = list(names).index(str(orientation.anchor_region))
        scores = np.zeros(grads.shape[1])
        scores[0] = 1.0 if grads[anchor, 0] >= 0 else -1.0
    first = int(np.argmax(np.abs(scores)))
    order = [first] + [index for index in range(grads.shape[1]) if index != first]
    oriented = grads[:, order].copy()
    oriented[:, 0] *= 1.0 if scores[first] >= 0 else -1.0
    oriented[:, 1:] = _consistent_sign(oriented[:, 1:])
    record = {"method": orientation.method, "native_component": first + 1, "score": float(scores[first]),
              "scores": [float(score) for score in scores],
              "eigengap": eigengap(embedding.eigenvalues, first),
              "eigenvalues": [float(value) for value in embedding.eigenvalues]}
    return Embedding(oriented, embedding.eigenvalues[order]), record


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


def dispersion(space: np.ndarray) -> float:
    """Mean Euclidean distance of the regions to their centroid."""
    space = np.asarray(space, dtype=float)
    return float(np.linalg.norm(space - space.mean(axis=0), axis=1).mean())


def gradient_spread(gradients: np.ndarray, dims: int) -> dict[str, float]:
    """Range of G1 and dispersion (mean distance to the centroid) in G1..G<dims> of aligned gradients.

    Both depend on the reference rotation: Procrustes keeps distances in the full k-dimensional
    embedding, not the range of one aligned axis nor distances in its first ``dims`` axes.
    """
    gradients = np.asarray(gradients, dtype=float)
    dims = min(dims, gradients.shape[1])
    return {"g1_range": float(np.ptp(gradients[:, 0])), "dispersion": dispersion(gradients[:, :dims])}


def native_spread(native: Embedding, reference_g1: np.ndarray, dims: int) -> dict[str, float]:
    """Spread measures that do not depend on the Procrustes rotation.

    ``g1_range_matched``: range of the subject's native component most correlated (in absolute value)
    with the reference G1 (the reference only picks the component); ``dispersion_native``: dispersion
    in the subject's own first ``dims`` components (eigenvalue order, no reference at all);
    ``dispersion_full``: dispersion in all k components, which any rotation leaves unchanged.
    """
    grads = native.gradients
    correlations = np.array([np.corrcoef(grads[:, k], reference_g1)[0, 1] for k in range(grads.shape[1])])
    matched = int(np.argmax(np.abs(correlations)))
    return {"g1_range_matched": float(np.ptp(grads[:, matched])), "matched_component": matched + 1,
            "matched_r": float(abs(correlations[matched])),
            "dispersion_native": dispersion(grads[:, :min(dims, grads.shape[1])]),
            "dispersion_full": dispersion(grads)}


def gradients_frame(gradients: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Regions × G1..Gk table with region names as the index."""
    columns = [f"G{index + 1}" for index in range(gradients.shape[1])]
    return pd.DataFrame(gradients, index=pd.Index(list(names), name="region"), columns=columns)
