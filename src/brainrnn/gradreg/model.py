"""What a gradient-regularised network is built from: the subject's geometry and the variant's distances.

The wiring cost λ Σ|W_ij| d_ij charges each connection for its length in the subject's gradient
space, in the gradient's own units: a subject with a wider (more spread) hierarchy pays more for
long-range connections. The variants (:data:`brainrnn.gradreg.VARIANTS`) separate the geometry
from the mere presence of a penalty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.errors import InputError
from brainrnn.fmri.tables import check_gradients
from brainrnn.gradreg import VARIANTS, parse_variant
from brainrnn.models.regularisers import pairwise_distances
from brainrnn.models.rnn import RNNShape
from brainrnn.tasks.base import Task
from brainrnn.tasks.registry import make_task


@dataclass(frozen=True)
class SubjectGeometry:
    """Region names, gradient coordinates (N, k) and optional timescales (N,) of one subject."""

    regions: list[str]
    coordinates: np.ndarray
    timescales_s: np.ndarray | None


def load_geometry(gradients_path: str | Path, n_dims: int, *, subject: str,
                  timescales_path: str | Path | None = None) -> SubjectGeometry:
    """Read a subject's gradients (and timescales), checking they describe the same regions."""
    gradients_path = Path(gradients_path)
    if not gradients_path.is_file():
        raise InputError("no gradients for this subject.", file=gradients_path, subject=subject, field="gradients",
                         fix="run the gradients rule for the subject first (or add it to the sheet).")
    frame = pd.read_csv(gradients_path, sep="\t", index_col="region")
    check_gradients(frame, file=str(gradients_path), subject=subject)
    if n_dims > frame.shape[1]:
        raise InputError(f"{n_dims} gradient dimensions requested, the table has {frame.shape[1]}.",
                         file=gradients_path, subject=subject, field="gradreg.gradient_dims",
                         fix="lower gradreg.gradient_dims or raise gradients.n_components.")
    taus = None
    if timescales_path is not None:
        table = pd.read_csv(timescales_path, sep="\t", index_col="region")
        if len(table) != len(frame) or list(table.index) != list(frame.index):
            raise InputError(f"{len(table)} timescale regions but {len(frame)} gradient regions (or another order).",
                             file=timescales_path, subject=subject, field="region",
                             fix="derive both from the same time series (rerun timescales and gradients).")
        taus = table["tau_s"].to_numpy(dtype=float)
    return SubjectGeometry([str(name) for name in frame.index], frame.iloc[:, :n_dims].to_numpy(dtype=float), taus)


def variant_distances(variant: str, subject: SubjectGeometry, group: SubjectGeometry,
                      seed: int) -> tuple[np.ndarray, bool]:
    """Distance matrix (N, N) charged by the variant's wiring cost, and whether a penalty applies."""
    if variant not in VARIANTS:
        raise InputError(f"unknown variant '{variant}'.", field="gradreg.variants",
                         fix=f"use any of: {', '.join(VARIANTS)}.")
    if group.regions != subject.regions:
        raise InputError("the group reference and the subject list different regions.", subject=None,
                         field="region", fix="rerun the fMRI stages with one atlas for every subject.")
    own = pairwise_distances(subject.coordinates)
    if variant == "gradreg":
        return own, True
    if variant == "normalised":
        return own / own[~np.eye(len(own), dtype=bool)].mean(), True
    if variant == "unregularised":
        return np.zeros_like(own), False
    if variant == "l1":
        off_diagonal = ~np.eye(len(own), dtype=bool)
        return np.where(off_diagonal, own[off_diagonal].mean(), 0.0), True
    if variant == "shuffled":
        permutation = np.random.default_rng(seed).permutation(len(own))
        return pairwise_distances(subject.coordinates[permutation]), True
    return pairwise_distances(group.coordinates), True


def compress_gradient(geometry: SubjectGeometry, scale: float) -> SubjectGeometry:
    """The subject's geometry with G1 rescaled about its mean by ``scale`` (G2.. unchanged): a compressed
    (scale < 1) or expanded principal gradient, the manipulation the across-subject correlation lacks."""
    coordinates = geometry.coordinates.copy()
    coordinates[:, 0] = coordinates[:, 0].mean() + scale * (coordinates[:, 0] - coordinates[:, 0].mean())
    return SubjectGeometry(geometry.regions, coordinates, geometry.timescales_s)


def run_geometry(name: str, geometry: SubjectGeometry) -> tuple[str, SubjectGeometry]:
    """The base variant of a run and the geometry it trains on (compressed for ``<variant>-x<scale>``)."""
    try:
        variant, scale = parse_variant(name)
    except ValueError:
        raise InputError(f"unknown variant '{name}'.", field="gradreg.variants",
                         fix=f"use any of: {', '.join(VARIANTS)}.") from None
    return variant, geometry if scale is None else compress_gradient(geometry, scale)


def unit_time_constants(timescales_s: np.ndarray | None, base_tau_ms: float, dt_ms: float) -> torch.Tensor | None:
    """Per-unit τ (ms) proportional to the regions' OU timescales, with median ``base_tau_ms``.

    BOLD timescales (seconds) and task time constants (tens of ms) live on different scales, so
    only the relative heterogeneity is carried over; τ is kept within [dt, 20 × base].
    """
    if timescales_s is None:
        return None
    taus = np.asarray(timescales_s, dtype=float)
    finite = np.isfinite(taus) & (taus > 0)
    if not finite.any():
        raise InputError("no usable timescale to set unit time constants.", field="gradreg.model.time_constants",
                         fix="use time_constants: uniform, or check the timescale stage's log.")
    taus = np.where(finite, taus, np.median(taus[finite]))
    scaled = base_tau_ms * taus / np.median(taus)
    return torch.tensor(np.clip(scaled, dt_ms, 20 * base_tau_ms), dtype=torch.float32)


def task_settings(section: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of the configured task: time step, timing and the task's own settings
    (also stored with each model, so the fixed-point stage rebuilds the same task)."""
    specific = dict(section["tasks"].get(section["task"], {}))
    return {"dt_ms": section["dt_ms"], **section["timing"], **specific}


def build_task(section: dict[str, Any]) -> Task:
    return make_task(section["task"], **task_settings(section))


def build_shape(section: dict[str, Any], task: Task, n_hidden: int) -> RNNShape:
    """The leaky RNN of one subject: one unit per region, the configured dynamics."""
    model = section["model"]
    return RNNShape(n_inputs=task.n_inputs, n_hidden=n_hidden, n_outputs=task.n_outputs,
                    activation=model["activation"], dt_ms=section["dt_ms"], tau_ms=model["tau_ms"],
                    init_gain=model["init_gain"])
