"""Fixed points of a discrete-time map by batched minimisation of q(x) = ½‖F(x) − x‖².

The method of FixedPointFinder (Golub & Sussillo 2018): start from many states sampled from the
network's own trajectories plus Gaussian noise, hold the input fixed, minimise q for all of them
jointly, refine with Newton steps, keep points with q below a tolerance, merge duplicates, drop
outliers far from the trajectories, and linearise: the eigenvalues of the Jacobian dF/dx tell
which fixed points are stable (all |λ| < 1) and how slowly activity leaves them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from brainrnn.io import atomic_path

StateMap = Callable[[torch.Tensor], torch.Tensor]
"""F: a batch of states (K, N) → next states (K, N), differentiable, with the input held fixed."""
StateJacobian = Callable[[torch.Tensor], torch.Tensor]
"""dF/dx: a batch of states (K, N) → Jacobians (K, N, N); a closed form spares N backward passes per state."""


@dataclass(frozen=True)
class FixedPointOptions:
    """Hyperparameters of the search (the ``fixed_points`` config section holds their defaults, which
    follow FixedPointFinder where it documents them).

    n_initial: initial states sampled from the trajectories; noise_std: std of the Gaussian
    perturbation added to them; tol_q: a point is fixed when q < tol_q; max_iters and
    learning_rate: Adam on all points jointly, the rate halved whenever the summed q stalls;
    newton_steps: Newton refinements x ← x − (J − I)⁻¹(F(x) − x), kept only where q drops;
    merge_tol: points closer than this are one fixed point; outlier_factor: points farther
    from the trajectories' centroid than this × the trajectories' mean distance are dropped;
    seed: the sampling of initial states (derived from the config seed and the job's wildcards).
    """

    n_initial: int
    noise_std: float
    tol_q: float
    max_iters: int
    learning_rate: float
    newton_steps: int
    merge_tol: float
    outlier_factor: float
    seed: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any], *, seed: int) -> FixedPointOptions:
        return cls(seed=seed, **{field.name: section[field.name] for field in dataclasses.fields(cls)
                                 if field.name != "seed"})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FixedPoints:
    """Unique fixed points with their q, Jacobian eigenvalues and stability."""

    states: np.ndarray
    q: np.ndarray
    eigenvalues: np.ndarray
    n_initial: int
    n_converged: int

    @property
    def count(self) -> int:
        return int(self.states.shape[0])

    @property
    def leading_abs_eigenvalue(self) -> np.ndarray:
        """max |λ| of each fixed point's Jacobian."""
        if self.count == 0:
            return np.zeros(0)
        return np.abs(self.eigenvalues).max(axis=1)

    @property
    def is_stable(self) -> np.ndarray:
        return self.leading_abs_eigenvalue < 1.0

    def summary(self) -> dict[str, float | int]:
        """Count, stable count, smallest q and largest leading |λ| (NaN when none was found)."""
        leading = self.leading_abs_eigenvalue
        return {"n_fixed_points": self.count, "n_stable": int(self.is_stable.sum()),
                "min_q": float(self.q.min()) if self.count else float("nan"),
                "max_abs_eigenvalue": float(leading.max()) if self.count else float("nan"),
                "mean_leading_abs_eigenvalue": float(leading.mean()) if self.count else float("nan"),
                "n_initial": self.n_initial, "n_converged": self.n_converged}

    def save(self, path: str | Path, **extra: np.ndarray) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as stream:
            np.savez(stream, states=self.states, q=self.q, eigenvalues=self.eigenvalues,
                     is_stable=self.is_stable, n_initial=self.n_initial, n_converged=self.n_converged,
                     allow_pickle=True, **extra)  # the default, named so ``extra`` cannot be taken for it


def q_value(step: StateMap, states: torch.Tensor) -> torch.Tensor:
    """q = ½‖F(x) − x‖² per state."""
    return 0.5 * (step(states) - states).pow(2).sum(dim=-1)


def jacobians(step: StateMap, states: torch.Tensor) -> torch.Tensor:
    """dF/dx at each state, (K, N, N)."""
    def single(state: torch.Tensor) -> torch.Tensor:
        return step(state.unsqueeze(0)).squeeze(0)

    return torch.func.vmap(torch.func.jacrev(single))(states)


def sample_initial_states(trajectories: np.ndarray, options: FixedPointOptions) -> np.ndarray:
    """n_initial states drawn from the trajectory states (M, N), plus N(0, noise_std²) noise."""
    rng = np.random.default_rng(options.seed)
    picks = rng.integers(0, trajectories.shape[0], size=options.n_initial)
    return trajectories[picks] + options.noise_std * rng.standard_normal((options.n_initial, trajectories.shape[1]))


def find_fixed_points(step: StateMap, initial_states: np.ndarray, options: FixedPointOptions,
                      reference_states: np.ndarray | None = None,
                      jacobian: StateJacobian | None = None) -> FixedPoints:
    """Search from ``initial_states`` (K, N); ``reference_states`` define outliers (default: the initial ones).

    ``jacobian``, when given, is F's Jacobian in closed form (used by the Newton steps and the
    linearisation); by default it is computed by automatic differentiation.
    """
    jacobian_of = jacobian if jacobian is not None else partial(jacobians, step)
    states = torch.tensor(initial_states, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([states], lr=options.learning_rate)
    best = float("inf")
    for _ in range(options.max_iters):
        optimiser.zero_grad()
        q = q_value(step, states)
        if float(q.detach().max()) < options.tol_q:
            break
        total = q.sum()
        total.backward()
        optimiser.step()
        if float(total.detach()) > 0.999 * best:
            for group in optimiser.param_groups:
                group["lr"] = max(group["lr"] * 0.5, 1e-6)
        best = min(best, float(total.detach()))
    found = states.detach()
    for _ in range(options.newton_steps):
        found = _newton_step(step, jacobian_of, found)
    with torch.no_grad():
        q = q_value(step, found)
    converged = (q < options.tol_q).numpy()
    points, q_kept = found.numpy()[converged], q.numpy()[converged]
    points, q_kept = _merge(points, q_kept, options.merge_tol)
    reference = initial_states if reference_states is None else reference_states
    points, q_kept = _drop_outliers(points, q_kept, reference, options.outlier_factor)
    if len(points):
        jac = jacobian_of(torch.tensor(points, dtype=torch.float64)).detach()
        eigenvalues = torch.linalg.eigvals(jac).numpy()
    else:
        eigenvalues = np.zeros((0, initial_states.shape[1]), dtype=complex)
    order = np.lexsort((points[:, 0] if len(points) else np.zeros(0), q_kept))
    return FixedPoints(points[order], q_kept[order], eigenvalues[order], len(initial_states), int(converged.sum()))


def _newton_step(step: StateMap, jacobian_of: StateJacobian, states: torch.Tensor) -> torch.Tensor:
    """One Newton update per state, kept only where it lowers q."""
    with torch.no_grad():
        residual = step(states) - states
    jac = jacobian_of(states).detach()
    eye = torch.eye(states.shape[1], dtype=states.dtype)
    try:
        delta = torch.linalg.solve(jac - eye, residual.unsqueeze(-1)).squeeze(-1)
    except RuntimeError:  # a singular J − I somewhere: fall back to per-point least squares
        delta = torch.linalg.lstsq(jac - eye, residual.unsqueeze(-1)).solution.squeeze(-1)
    candidate = states - delta
    with torch.no_grad():
        better = q_value(step, candidate) < q_value(step, states)
    return torch.where(better.unsqueeze(-1), candidate, states)


def _merge(points: np.ndarray, q: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep the lowest-q point of every cluster of points within ``tol`` of each other."""
    kept: list[int] = []
    for index in np.argsort(q, kind="stable"):
        if all(np.linalg.norm(points[index] - points[other]) > tol for other in kept):
            kept.append(int(index))
    return points[kept], q[kept]


def _drop_outliers(points: np.ndarray, q: np.ndarray, reference: np.ndarray,
                   factor: float) -> tuple[np.ndarray, np.ndarray]:
    centroid = reference.mean(axis=0)
    scale = np.linalg.norm(reference - centroid, axis=1).mean()
    keep = np.linalg.norm(points - centroid, axis=1) <= factor * max(scale, 1e-12)
    return points[keep], q[keep]
