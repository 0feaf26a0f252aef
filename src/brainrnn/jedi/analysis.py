"""How well JEDI recovers what it was fitted to: R² of activity, and fixed points of decoded networks
against the teachers'.

**R²** of a set of trials: 1 − Σ(y − ŷ)² / Σ(y − ȳ)², summed over trials, active steps and observed
units, ȳ each unit's mean over those trials and steps (variance-weighted; our choice, the paper does
not define its R²).

**Fixed points**: for each teacher context, the input of the task's analysis epoch (noise-free, its
mean over the epoch) is held and the shared search (:func:`brainrnn.analysis.fixed_points.find_fixed_points`
on :class:`brainrnn.analysis.rnn_fixed_points.RNNDynamics`) runs on the teacher and on the decoded
network (the one-member engine RNN the hypernetwork generates from the context's embedding), each from
its own states on the same noise-free trials. The decoded network lives in another state space (other
units, another size), so its states are aligned to the teacher's on that activity: both are reduced to
their leading ``align_dims`` principal components and the student's are mapped onto the teacher's by
orthogonal Procrustes with a scale. Teacher and decoded fixed points are then paired by optimal
assignment on their aligned distance; a teacher point is *recovered* when its partner lies within
``match_distance`` × the RMS spread of the teacher's activity and has the same stability. The
eigenvalue distance of a pair is the mean |λ − μ| of their leading ``n_eigenvalues`` Jacobian
eigenvalues (by modulus), optimally assigned (eigenvalues need no alignment: they are invariant
under a change of coordinates). Only points in the region the activity visits count on either side: within
``visited_radius`` × the RMS distance of the epoch's states from their centroid (the data say nothing about
the dynamics far from where the activity goes).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from brainrnn.analysis.fixed_points import FixedPointOptions, FixedPoints, find_fixed_points, sample_initial_states
from brainrnn.analysis.rnn_fixed_points import RNNDynamics
from brainrnn.models.rnn import LeakyRNN
from brainrnn.seeding import derive_seed
from brainrnn.tasks import CATALOGUE
from brainrnn.tasks.registry import make_task


def r_squared(prediction: np.ndarray, target: np.ndarray, mask: np.ndarray) -> float:
    """Variance-weighted R² of (T, M, units) predictions over the active steps ``mask`` (T, M)."""
    weights = mask[..., None].astype(float)
    count = weights.sum(axis=(0, 1))
    mean = (target * weights).sum(axis=(0, 1)) / np.maximum(count, 1)
    residual = ((prediction - target) ** 2 * weights).sum()
    total = ((target - mean) ** 2 * weights).sum()
    return float(1.0 - residual / total) if total > 0 else float("nan")


@dataclass
class EpochTrials:
    """Noise-free trials of one context: its task inputs (T, B, n_task_inputs), the mask of the analysis
    epoch (T, B), and the input held for the fixed-point search (its mean over the epoch)."""

    inputs: torch.Tensor
    epoch: torch.Tensor
    held_input: torch.Tensor


def epoch_trials(task_name: str, settings: dict[str, Any], trials: int, seed: int) -> EpochTrials:
    """Noise-free trials of a task condition and the input of its analysis epoch (``CATALOGUE``)."""
    task = make_task(task_name, **settings)
    if hasattr(task, "input_noise"):
        task.input_noise = 0.0
    batch = task.sample(trials, torch.Generator().manual_seed(seed))
    epoch = batch.epochs[CATALOGUE[task_name].analysis_epoch]
    if batch.running is not None:
        epoch = epoch & batch.running
    return EpochTrials(batch.inputs, epoch, batch.inputs[epoch].mean(dim=0))


@dataclass
class PointComparison:
    """The fixed points of a teacher and of its decoded network under one held input, and how they pair."""

    teacher: FixedPoints
    decoded: FixedPoints
    pairs: list[tuple[int, int]]
    distances: np.ndarray
    recovered: np.ndarray
    eigenvalue_distances: np.ndarray
    teacher_main: int
    decoded_main: int

    def summary(self, teacher_dt_ms: float, decoded_dt_ms: float) -> dict[str, float | int]:
        """Counts, stability, recovery, eigenvalue distance and the leading eigenvalue of each side's main
        point (the fixed point nearest the epoch's mean activity) as |Im λ| and as a frequency in Hz."""
        fixed_teacher, fixed_decoded = self.teacher.is_fixed, self.decoded.is_fixed
        row: dict[str, float | int] = {
            "n_fixed_teacher": int(fixed_teacher.sum()), "n_fixed_decoded": int(fixed_decoded.sum()),
            "n_stable_teacher": int((self.teacher.is_stable & fixed_teacher).sum()),
            "n_stable_decoded": int((self.decoded.is_stable & fixed_decoded).sum()),
            "fixed_point_match": float(self.recovered.mean()) if self.recovered.size else float("nan"),
            "eigenvalue_distance": float(self.eigenvalue_distances.mean()) if self.eigenvalue_distances.size
            else float("nan")}
        for side, points, main, dt_ms in (("teacher", self.teacher, self.teacher_main, teacher_dt_ms),
                                          ("decoded", self.decoded, self.decoded_main, decoded_dt_ms)):
            leading = _leading(points.eigenvalues[main], 1)[0] if main >= 0 else complex("nan")
            row[f"leading_abs_{side}"] = float(abs(leading))
            row[f"leading_imag_{side}"] = float(abs(leading.imag))
            row[f"leading_frequency_hz_{side}"] = float(abs(np.angle(leading)) / (2 * np.pi * dt_ms / 1000.0))
        return row


def _leading(eigenvalues: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` eigenvalues of largest modulus (ties broken by the larger imaginary part)."""
    order = np.lexsort((-eigenvalues.imag, -np.abs(eigenvalues)))
    return eigenvalues[order[:count]]


def eigenvalue_set_distance(first: np.ndarray, second: np.ndarray, count: int) -> float:
    """Mean |λ − μ| between the leading ``count`` eigenvalues of two spectra, optimally assigned."""
    a, b = _leading(first, count), _leading(second, count)
    cost = np.abs(a[:, None] - b[None, :])
    rows, columns = linear_sum_assignment(cost)
    return float(cost[rows, columns].mean())


def procrustes_map(source: np.ndarray, target: np.ndarray, dims: int) -> tuple[Any, Any]:
    """Functions taking source states (K, N_s) and target states (K, N_t) into one aligned d-dimensional space:
    both reduced to their leading principal components, the source's rotated and scaled onto the target's
    (orthogonal Procrustes) on the paired rows of ``source`` and ``target``."""
    dims = min(dims, source.shape[1], target.shape[1], len(source))
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_axes = np.linalg.svd(source - source_mean, full_matrices=False)[2][:dims].T
    target_axes = np.linalg.svd(target - target_mean, full_matrices=False)[2][:dims].T
    source_pc, target_pc = (source - source_mean) @ source_axes, (target - target_mean) @ target_axes
    left, singular, right = np.linalg.svd(source_pc.T @ target_pc)
    rotation = left @ right
    scale = singular.sum() / max(float((source_pc ** 2).sum()), 1e-12)

    def from_source(states: np.ndarray) -> np.ndarray:
        return scale * ((states - source_mean) @ source_axes) @ rotation

    def from_target(states: np.ndarray) -> np.ndarray:
        return (states - target_mean) @ target_axes

    return from_source, from_target


def compare_fixed_points(teacher: LeakyRNN, decoded: LeakyRNN, trials: EpochTrials, decoded_inputs: torch.Tensor,
                         decoded_held: torch.Tensor, options: FixedPointOptions, *, align_dims: int,
                         match_distance: float, n_eigenvalues: int, visited_radius: float) -> PointComparison:
    """Search both networks' fixed points under the held input from their own epoch states, keep those in the
    region the activity visits, align the decoded state space to the teacher's on the same trials' activity,
    and pair the points (module docstring)."""
    with torch.no_grad():
        _, teacher_states = teacher(trials.inputs)
        _, decoded_states = decoded(decoded_inputs)
    epoch = trials.epoch
    teacher_epoch = teacher_states[:, 0][epoch].double().numpy()
    decoded_epoch = decoded_states[:, 0][epoch].double().numpy()
    searched = []
    for side, (network, held, states) in enumerate(((teacher, trials.held_input, teacher_epoch),
                                                    (decoded, decoded_held, decoded_epoch))):
        settings = dataclasses.replace(options, seed=derive_seed(options.seed, "side", side))
        searched.append(find_fixed_points(RNNDynamics(network, held), sample_initial_states(states, settings),
                                          settings, reference_states=states))
    teacher_points = _visited(searched[0], teacher_epoch, visited_radius)
    decoded_points = _visited(searched[1], decoded_epoch, visited_radius)
    from_decoded, from_teacher = procrustes_map(decoded_epoch, teacher_epoch, align_dims)
    spread = float(np.sqrt((from_teacher(teacher_epoch) ** 2).sum(axis=1).mean()))
    fixed_t, fixed_d = np.flatnonzero(teacher_points.is_fixed), np.flatnonzero(decoded_points.is_fixed)
    pairs: list[tuple[int, int]] = []
    distances = np.zeros(0)
    if fixed_t.size and fixed_d.size:
        aligned_t = from_teacher(teacher_points.states[fixed_t])
        aligned_d = from_decoded(decoded_points.states[fixed_d])
        cost = np.linalg.norm(aligned_t[:, None, :] - aligned_d[None, :, :], axis=-1) / max(spread, 1e-12)
        rows, columns = linear_sum_assignment(cost)
        pairs = [(int(fixed_t[r]), int(fixed_d[c])) for r, c in zip(rows, columns, strict=True)]
        distances = cost[rows, columns]
    recovered = np.zeros(fixed_t.size, dtype=bool)
    for (t, d), distance in zip(pairs, distances, strict=True):
        recovered[np.flatnonzero(fixed_t == t)[0]] = (
            distance <= match_distance and bool(teacher_points.is_stable[t]) == bool(decoded_points.is_stable[d]))
    eigen = np.array([eigenvalue_set_distance(teacher_points.eigenvalues[t], decoded_points.eigenvalues[d],
                                              n_eigenvalues) for t, d in pairs])
    return PointComparison(teacher_points, decoded_points, pairs, distances, recovered, eigen,
                           _main_point(teacher_points, teacher_epoch), _main_point(decoded_points, decoded_epoch))


def _visited(points: FixedPoints, states: np.ndarray, radius: float) -> FixedPoints:
    """The points within ``radius`` × the RMS distance of the epoch states from their centroid (the region
    the data constrain; a point beyond it is kept by neither side)."""
    centre = states.mean(axis=0)
    spread = float(np.sqrt(((states - centre) ** 2).sum(axis=1).mean()))
    keep = np.linalg.norm(points.states - centre, axis=1) <= radius * max(spread, 1e-12)
    return FixedPoints(points.states[keep], points.q[keep], points.kind[keep], points.eigenvalues[keep],
                       points.n_initial, points.n_converged, points.iterations)


def _main_point(points: FixedPoints, states: np.ndarray) -> int:
    """The fixed point nearest the mean epoch state (−1 when there is none)."""
    fixed = np.flatnonzero(points.is_fixed)
    if not fixed.size:
        return -1
    distances = np.linalg.norm(points.states[fixed] - states.mean(axis=0), axis=1)
    return int(fixed[np.argmin(distances)])


def analyse_teacher_contexts(teachers: dict[str, LeakyRNN], model: Any, contexts: Any,
                             embeddings: dict[str, np.ndarray], options: FixedPointOptions, settings: dict[str, Any],
                             *, teacher_dt_ms: float) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Compare every teacher context's fixed points with those of the network decoded from its embedding
    (``embeddings[context]``; ``settings``: the ``jedi.fixed_points`` section); returns one summary row per
    context and the eigenvalues of each side's main point (``<context>/teacher``, ``<context>/decoded``)."""
    rows, spectra = [], {}
    for _, context in contexts.iterrows():
        name = str(context["context"])
        if context["kind"] != "teacher" or name not in embeddings:
            continue
        trials = epoch_trials(str(context["task"]), json.loads(context["settings"]), settings["trials"],
                              derive_seed(options.seed, "trials", name))
        offset, width = int(context["input_offset"]), int(context["input_width"])
        decoded_inputs = torch.zeros(*trials.inputs.shape[:2], model.shape.n_inputs)
        decoded_inputs[..., offset:offset + width] = trials.inputs
        decoded_held = torch.zeros(model.shape.n_inputs)
        decoded_held[offset:offset + width] = trials.held_input
        decoded = model.decode(torch.tensor(embeddings[name], dtype=torch.float32), int(context["recording"]))
        comparison = compare_fixed_points(
            teachers[str(context["network"])], decoded, trials, decoded_inputs, decoded_held,
            dataclasses.replace(options, seed=derive_seed(options.seed, name)), align_dims=settings["align_dims"],
            match_distance=settings["match_distance"], n_eigenvalues=settings["n_eigenvalues"],
            visited_radius=settings["visited_radius"])
        rows.append({"context": name, **comparison.summary(teacher_dt_ms, model.shape.dt_ms)})
        for side, points, main in (("teacher", comparison.teacher, comparison.teacher_main),
                                   ("decoded", comparison.decoded, comparison.decoded_main)):
            spectra[f"{name}/{side}"] = points.eigenvalues[main] if main >= 0 else np.zeros(0, dtype=complex)
    return rows, spectra
