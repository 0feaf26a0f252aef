"""Subject-specific gradient-regularised RNNs (our open version of Abulikemu et al., arXiv:2511.02722).

One recurrent unit per parcel, placed at its region's coordinates in the subject's gradient
space (G1..Gk). The wiring cost λ Σ|W_ij| d_ij charges each connection for its length in that
space, in the gradient's own units: a subject with a wider (more spread) hierarchy pays more for
long-range connections. Variants separate the geometry from the mere presence of a penalty:

* ``gradreg``: the subject's own gradient distances;
* ``unregularised``: no penalty;
* ``l1``: a plain L1 penalty of matched strength (every distance = the subject's mean distance);
* ``shuffled``: the subject's coordinates with regions permuted (same distances, wrong regions);
* ``groupavg``: the group reference gradient's distances (same for every subject).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

from brainrnn.engine import build_shape, build_task, training_options
from brainrnn.errors import InputError
from brainrnn.fmri.gradients import check_gradients
from brainrnn.models.regularisers import pairwise_distances, wiring_cost
from brainrnn.models.rnn import LeakyRNN
from brainrnn.seeding import derive_seed
from brainrnn.stats import spearman_permutation
from brainrnn.tasks.base import stack_batches
from brainrnn.training import evaluate, train_ensemble

VARIANTS = ("gradreg", "unregularised", "l1", "shuffled", "groupavg")


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
    if variant == "unregularised":
        return np.zeros_like(own), False
    if variant == "l1":
        off_diagonal = ~np.eye(len(own), dtype=bool)
        return np.where(off_diagonal, own[off_diagonal].mean(), 0.0), True
    if variant == "shuffled":
        permutation = np.random.default_rng(seed).permutation(len(own))
        return pairwise_distances(subject.coordinates[permutation]), True
    return pairwise_distances(group.coordinates), True


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
        raise InputError("no usable timescale to set unit time constants.", field="rnn.model.time_constants",
                         fix="use time_constants: uniform, or check the timescale stage's log.")
    taus = np.where(finite, taus, np.median(taus[finite]))
    scaled = base_tau_ms * taus / np.median(taus)
    return torch.tensor(np.clip(scaled, dt_ms, 20 * base_tau_ms), dtype=torch.float32)


def alignment(weight: np.ndarray, distances: np.ndarray) -> float:
    """How much the learned wiring follows the geometry: −Spearman ρ(|W_ij|, d_ij) off the diagonal.

    Positive when strong connections are short (aligned), about 0 when unrelated.
    """
    off_diagonal = ~np.eye(len(distances), dtype=bool)
    return float(-stats.spearmanr(np.abs(weight[off_diagonal]), distances[off_diagonal]).statistic)


@dataclass
class TrainedEnsemble:
    """One job's ensemble (one member per seed) and what each member learned."""

    model: LeakyRNN
    history: pd.DataFrame
    metrics: list[dict]
    member_seeds: list[int]


def train_variant(*, variant: str, subject: str, seeds: list[int], base_seed: int, geometry: SubjectGeometry,
                  group_geometry: SubjectGeometry, rnn: dict, gradreg: dict, checkpoint: Path | None = None,
                  config_hash: str = "") -> TrainedEnsemble:
    """Train all seeds of one variant × subject as one ensemble and measure each member.

    Initial weights and data streams depend only on the seed index, not on the subject or the
    variant: every comparison between variants or subjects is paired.
    """
    task = build_task(rnn)
    n_units = len(geometry.regions)
    tau = unit_time_constants(geometry.timescales_s, rnn["model"]["tau_ms"], rnn["dt_ms"]) \
        if rnn["model"]["time_constants"] == "timescales" else None
    member_seeds = [derive_seed(base_seed, "rnn", seed) for seed in seeds]
    model = LeakyRNN(build_shape(rnn, task, n_units), member_seeds, tau_ms=tau)
    charged = [variant_distances(variant, geometry, group_geometry, derive_seed(base_seed, "shuffle", subject, seed))
               for seed in seeds]
    distances = torch.tensor(np.stack([d for d, _ in charged]), dtype=torch.float32)
    lambdas = [float(gradreg["lambda"]) if penalised else 0.0 for _, penalised in charged]
    strength = torch.tensor(lambdas)

    def penalty(network: LeakyRNN) -> torch.Tensor:
        return wiring_cost(network.recurrent_weight, distances, strength,
                           with_communicability=gradreg["communicability"])

    options = training_options(rnn)
    result = train_ensemble(model, task, options, member_seeds, eval_seed=derive_seed(base_seed, "heldout"),
                            penalty=penalty, checkpoint=checkpoint, config_hash=config_hash)
    test = task.sample(2 * options.eval_trials, torch.Generator().manual_seed(derive_seed(base_seed, "test")))
    accuracy, _ = evaluate(model, task, stack_batches([test] * model.members))
    own = pairwise_distances(geometry.coordinates)
    weights = model.recurrent_weight.detach().numpy()
    metrics = [{
        "family": "gradreg", "variant": variant, "subject": subject, "seed": seed, "member_seed": member_seed,
        "task": rnn["task"], "n_units": n_units, "lambda": lambdas[member],
        "steps_run": result.steps_run, "steps_to_criterion": result.steps_to_criterion[member],
        "plateau_loss": result.plateau_loss[member], "final_accuracy": float(accuracy[member]),
        "alignment": alignment(weights[member], own),
        "mean_distance": float(own[~np.eye(n_units, dtype=bool)].mean()),
    } for member, (seed, member_seed) in enumerate(zip(seeds, member_seeds))]
    return TrainedEnsemble(model, result.history, metrics, member_seeds)


LEARNING_MEASURES = ("steps_to_criterion", "plateau_loss", "final_accuracy", "alignment", "epoch_energy",
                     "n_fixed_points", "n_stable", "max_abs_eigenvalue", "mean_leading_abs_eigenvalue")
SPREAD_MEASURES = ("dispersion", "g1_range")


def summary_table(metrics: list[dict], fixed_points: pd.DataFrame, spread: pd.DataFrame, steps: int) -> pd.DataFrame:
    """One row per subject × variant × seed: spread, group, learning and fixed-point measures.

    Members that never reached the criterion get ``steps_to_criterion`` = the step budget
    (right-censored) and ``reached_criterion`` = False.
    """
    table = pd.DataFrame(metrics)
    table["subject"] = table["subject"].astype(str)
    table["reached_criterion"] = table["steps_to_criterion"].notna()
    table["steps_to_criterion"] = table["steps_to_criterion"].fillna(steps).astype(float)
    points = fixed_points.astype({"subject": str})
    table = table.merge(points.drop(columns=["family", "task"], errors="ignore"),
                        on=["variant", "subject", "seed"], how="left", validate="one_to_one")
    spread = spread.astype({"subject": str})
    table = table.merge(spread, on="subject", how="left", validate="many_to_one")
    first = ["subject", "group", "variant", "seed", *SPREAD_MEASURES, "explained_G1"]
    return table[first + [column for column in table.columns if column not in first]].sort_values(
        ["variant", "subject", "seed"], kind="stable").reset_index(drop=True)


def spread_correlations(summary: pd.DataFrame, n_permutations: int, seed: int) -> pd.DataFrame:
    """Per variant, Spearman ρ across subjects (seed-averaged) of each spread measure with each measure."""
    rng = np.random.default_rng(seed)
    rows = []
    for variant, block in summary.groupby("variant", sort=True):
        per_subject = block.groupby("subject")[[*SPREAD_MEASURES, *LEARNING_MEASURES]].mean()
        for spread_measure in SPREAD_MEASURES:
            for measure in LEARNING_MEASURES:
                rho, p_value = spearman_permutation(per_subject[spread_measure], per_subject[measure],
                                                    n_permutations, rng)
                rows.append({"variant": variant, "spread_measure": spread_measure, "measure": measure,
                             "rho": rho, "p_permutation": p_value, "n_subjects": len(per_subject)})
    return pd.DataFrame(rows)
