"""Fixed and slow points of a discrete-time map, by minimising q(x) = ½‖F(x) − x‖² from many states.

The method of FixedPointFinder (Golub & Sussillo 2018), organised for speed:

1. **Search** (float32 where the map allows): every initial state runs its own Adam minimisation
   of q, with its own learning rate cut by ``lr_factor`` after ``lr_patience`` iterations without
   improvement (FixedPointFinder cuts one rate for all states), and stops on its own as soon as
   q < ``tol_q`` or q changes by less than ``tol_dq`` × its rate — stopped states cost nothing
   while the others go on. ``tol_q`` can be loose (1e-8) because the polish below takes fixed
   points to machine precision; FixedPointFinder, without a polish, runs on to 1e-12. With a map
   that knows its gradient in closed form (an RNN: ∇q = (J − I)ᵀ(F(x) − x), two matrix products)
   no autograd graph is built.
2. **Candidates**: states that ended with q < ``slow_below``; duplicates within ``merge_tol``
   merged (lowest q kept), points farther from the trajectories than ``outlier_factor`` × their
   mean spread dropped — so the expensive steps below run once per distinct point.
3. **Polish** (float64): Newton steps x ← x − (J − I)⁻¹(F(x) − x), each kept only when it lowers q
   and moves the point less than ``newton_radius`` (a slow point, which has no root nearby, is not
   thrown onto a distant fixed point), then the candidates are merged again.
4. **Classes**: ``fixed`` when q < ``fixed_below``, ``slow`` when q < ``slow_below``; the rest are
   discarded. Each kept point is linearised: the eigenvalues of its Jacobian (stable when all
   |λ| < 1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from brainrnn.devices import CPU
from brainrnn.io import atomic_path
from brainrnn.options import from_section

StateMap = Callable[[torch.Tensor], torch.Tensor]
"""F: a batch of states (K, N) → next states (K, N), differentiable, with the input held fixed."""
FIXED, SLOW = 0, 1
KINDS = ("fixed", "slow")


@runtime_checkable
class Dynamics(Protocol):
    """A map with its Jacobian and the gradient of q, in one precision; ``cast`` gives another."""

    def __call__(self, states: torch.Tensor) -> torch.Tensor: ...

    def jacobian(self, states: torch.Tensor) -> torch.Tensor:
        """dF/dx at each state, (K, N, N)."""

    def q_and_gradient(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(x) per state (K,) and ∇q(x) (K, N)."""

    def cast(self, dtype: torch.dtype) -> Dynamics:
        """The same map in ``dtype``."""


class AutogradDynamics:
    """Any differentiable map: Jacobians and gradients of q by automatic differentiation (float64)."""

    def __init__(self, step: StateMap) -> None:
        self.step = step

    def __call__(self, states: torch.Tensor) -> torch.Tensor:
        return self.step(states)

    def jacobian(self, states: torch.Tensor) -> torch.Tensor:
        return jacobians(self.step, states)

    def q_and_gradient(self, states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.enable_grad():
            leaf = states.detach().requires_grad_(True)
            q = q_value(self.step, leaf)
            (gradient,) = torch.autograd.grad(q.sum(), leaf)
        return q.detach(), gradient

    def cast(self, dtype: torch.dtype) -> Dynamics:
        return self


@dataclass(frozen=True)
class FixedPointOptions:
    """Hyperparameters of the search and its analysis (the ``fixed_points`` config section documents
    each and holds the defaults, which follow FixedPointFinder where it documents them).

    ``seed`` draws the initial states; it is derived from the config seed and the job's wildcards.
    """

    n_initial: int
    noise_std: float
    max_iters: int
    learning_rate: float
    lr_factor: float
    lr_patience: int
    tol_q: float
    tol_dq: float
    newton_steps: int
    newton_radius: float
    fixed_below: float
    slow_below: float
    merge_tol: float
    outlier_factor: float
    attractor_steps: int
    attractor_tol: float
    seed: int

    @classmethod
    def from_config(cls, section: Mapping[str, Any], *, seed: int) -> FixedPointOptions:
        return from_section(cls, section, seed=seed)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FixedPoints:
    """Unique fixed and slow points with their q, class (``kind``: 0 fixed, 1 slow), Jacobian
    eigenvalues and the search's bookkeeping (``n_converged``: initial states that ended below
    ``slow_below``; ``iterations``: Adam iterations of the longest-running state)."""

    states: np.ndarray
    q: np.ndarray
    kind: np.ndarray
    eigenvalues: np.ndarray
    n_initial: int
    n_converged: int
    iterations: int = 0

    @property
    def count(self) -> int:
        return int(self.states.shape[0])

    @property
    def is_fixed(self) -> np.ndarray:
        return self.kind == FIXED

    @property
    def is_slow(self) -> np.ndarray:
        return self.kind == SLOW

    @property
    def leading_abs_eigenvalue(self) -> np.ndarray:
        """max |λ| of each point's Jacobian."""
        if self.count == 0:
            return np.zeros(0)
        return np.abs(self.eigenvalues).max(axis=1)

    @property
    def is_stable(self) -> np.ndarray:
        return self.leading_abs_eigenvalue < 1.0

    def summary(self) -> dict[str, float | int]:
        """Counts per class, stable fixed points, smallest q, and the leading |λ| over the fixed points
        (largest and mean; NaN when there is none)."""
        fixed = self.leading_abs_eigenvalue[self.is_fixed]
        return {"n_fixed_points": int(self.is_fixed.sum()), "n_slow_points": int(self.is_slow.sum()),
                "n_stable": int((self.is_stable & self.is_fixed).sum()),
                "min_q": float(self.q.min()) if self.count else float("nan"),
                "max_abs_eigenvalue": float(fixed.max()) if fixed.size else float("nan"),
                "mean_leading_abs_eigenvalue": float(fixed.mean()) if fixed.size else float("nan"),
                "n_initial": self.n_initial, "n_converged": self.n_converged}

    def save(self, path: str | Path, **extra: np.ndarray) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as stream:
            np.savez(stream, states=self.states, q=self.q, kind=self.kind, eigenvalues=self.eigenvalues,
                     is_stable=self.is_stable, n_initial=self.n_initial, n_converged=self.n_converged,
                     allow_pickle=True, **extra)  # the default, named so ``extra`` cannot be taken for it


def q_value(step: StateMap, states: torch.Tensor) -> torch.Tensor:
    """q = ½‖F(x) − x‖² per state."""
    return 0.5 * (step(states) - states).pow(2).sum(dim=-1)


def jacobians(step: StateMap, states: torch.Tensor) -> torch.Tensor:
    """dF/dx at each state by automatic differentiation, (K, N, N)."""
    def single(state: torch.Tensor) -> torch.Tensor:
        return step(state.unsqueeze(0)).squeeze(0)

    return torch.func.vmap(torch.func.jacrev(single))(states)


def sample_initial_states(trajectories: np.ndarray, options: FixedPointOptions) -> np.ndarray:
    """n_initial states drawn from the trajectory states (M, N), plus N(0, noise_std²) noise."""
    rng = np.random.default_rng(options.seed)
    picks = rng.integers(0, trajectories.shape[0], size=options.n_initial)
    return trajectories[picks] + options.noise_std * rng.standard_normal((options.n_initial, trajectories.shape[1]))


def find_fixed_points(system: Dynamics | StateMap, initial_states: np.ndarray, options: FixedPointOptions,
                      reference_states: np.ndarray | None = None, *,
                      search_dtype: torch.dtype = torch.float32, device: torch.device = CPU) -> FixedPoints:
    """Search from ``initial_states`` (K, N); ``reference_states`` define outliers (default: the initial ones).

    ``system`` is a :class:`Dynamics` (closed-form Jacobian and gradient), searched in ``search_dtype``,
    or a plain differentiable map, which is then differentiated automatically, in float64 throughout.
    The states live on ``device``, where ``system`` must compute; the merging and the result are on the CPU.
    """
    dynamics = system if isinstance(system, Dynamics) else AutogradDynamics(system)
    dtype = torch.float64 if isinstance(dynamics, AutogradDynamics) else search_dtype
    found, final_q, iterations = _search(dynamics.cast(dtype), torch.tensor(initial_states, dtype=dtype, device=device),
                                            options)
    candidates = final_q < options.slow_below
    reference = initial_states if reference_states is None else reference_states
    points, _ = _merge(found[candidates].astype(float), final_q[candidates].astype(float), options.merge_tol)
    points = points[_within_reach(points, reference, options.outlier_factor)]
    exact = dynamics.cast(torch.float64)
    polished = _polish(exact, torch.tensor(points, dtype=torch.float64, device=device), options)
    with torch.no_grad():
        q = q_value(exact, polished).cpu().numpy()
    keep = q < options.slow_below
    points, q = _merge(polished.cpu().numpy()[keep], q[keep], options.merge_tol)
    kind = np.where(q < options.fixed_below, FIXED, SLOW).astype(np.int8)
    if len(points):
        with torch.no_grad():
            jacobian = exact.jacobian(torch.tensor(points, dtype=torch.float64, device=device))
            eigenvalues = torch.linalg.eigvals(jacobian).cpu().numpy()
    else:
        eigenvalues = np.zeros((0, initial_states.shape[1]), dtype=complex)
    # fixed points first, then by position (q of exact points is rounding noise, no order)
    order = np.lexsort((*np.round(points, 6).T[::-1], kind)) if len(points) else np.zeros(0, dtype=int)
    return FixedPoints(points[order], q[order], kind[order], eigenvalues[order], len(initial_states),
                       int(candidates.sum()), iterations)


def _search(dynamics: Dynamics, states: torch.Tensor, options: FixedPointOptions) -> tuple[np.ndarray, np.ndarray,
                                                                                             int]:
    """Adam on q for every state independently, each with its own plateau-cut learning rate, each stopping
    on its own; returns the final states, their q and the iterations of the longest-running state.

    The running states are kept packed (a stopped state is written out and dropped), so an iteration
    costs what its running states cost."""
    count, dtype, device = states.shape[0], states.dtype, states.device
    final_states, final_q = states.clone(), torch.full((count,), float("inf"), dtype=dtype, device=device)
    index = torch.arange(count, device=device)
    x = states.clone()
    first, second = torch.zeros_like(x), torch.zeros_like(x)
    rate = torch.full((count,), options.learning_rate, dtype=dtype, device=device)
    best = torch.full((count,), float("inf"), dtype=dtype, device=device)
    previous = torch.full((count,), float("nan"), dtype=dtype, device=device)
    stalled = torch.zeros(count, dtype=torch.long, device=device)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    iteration = 0
    while index.numel() and iteration < options.max_iters:
        iteration += 1
        with torch.no_grad():
            q, gradient = dynamics.q_and_gradient(x)
        done = (q < options.tol_q) | ((previous - q).abs() < options.tol_dq * rate)
        if bool(done.any()):
            final_states[index[done]], final_q[index[done]] = x[done], q[done]
            keep = ~done
            index, x, q, gradient = index[keep], x[keep], q[keep], gradient[keep]
            first, second, rate, best, stalled = first[keep], second[keep], rate[keep], best[keep], stalled[keep]
            if not index.numel():
                break
        improved = q < best
        best = torch.where(improved, q, best)
        stalled = torch.where(improved, 0, stalled + 1)
        cut = stalled > options.lr_patience
        rate = torch.where(cut, rate * options.lr_factor, rate)
        stalled = torch.where(cut, 0, stalled)
        previous = q
        first.mul_(beta1).add_(gradient, alpha=1 - beta1)
        second.mul_(beta2).addcmul_(gradient, gradient, value=1 - beta2)
        bias_first, bias_second = 1 - beta1**iteration, 1 - beta2**iteration
        x = x - (rate / bias_first).unsqueeze(-1) * first / ((second / bias_second).sqrt() + eps)
    if index.numel():
        final_states[index] = x
        with torch.no_grad():
            final_q[index] = q_value(dynamics, x)
    return final_states.cpu().numpy(), final_q.cpu().numpy(), iteration


def _polish(dynamics: Dynamics, states: torch.Tensor, options: FixedPointOptions) -> torch.Tensor:
    """Newton steps in float64 for every candidate, each kept where it lowers q within ``newton_radius``."""
    if not states.shape[0]:
        return states
    eye = torch.eye(states.shape[1], dtype=states.dtype, device=states.device)
    with torch.no_grad():
        for _ in range(options.newton_steps):
            residual = dynamics(states) - states
            system = dynamics.jacobian(states) - eye
            try:
                delta = torch.linalg.solve(system, residual.unsqueeze(-1)).squeeze(-1)
            except RuntimeError:  # a singular J − I somewhere: per-point least squares
                delta = torch.linalg.lstsq(system, residual.unsqueeze(-1)).solution.squeeze(-1)
            candidate = states - delta
            better = (q_value(dynamics, candidate) < q_value(dynamics, states)) & \
                (delta.norm(dim=-1) <= options.newton_radius)
            if not bool(better.any()):
                break
            states = torch.where(better.unsqueeze(-1), candidate, states)
    return states


def _merge(points: np.ndarray, q: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Keep the lowest-q point of every cluster of points within ``tol`` of each other."""
    kept: list[int] = []
    for index in np.argsort(q, kind="stable"):
        if not kept or np.linalg.norm(points[kept] - points[index], axis=1).min() > tol:
            kept.append(int(index))
    return points[kept].reshape(len(kept), points.shape[1]), q[kept]


def _within_reach(points: np.ndarray, reference: np.ndarray, factor: float) -> np.ndarray:
    """Points no farther from the reference centroid than ``factor`` × the reference's mean spread."""
    centroid = reference.mean(axis=0)
    scale = np.linalg.norm(reference - centroid, axis=1).mean()
    return np.linalg.norm(points - centroid, axis=1) <= factor * max(scale, 1e-12)


def attractors(dynamics: Dynamics, end_states: np.ndarray, found: FixedPoints,
               options: FixedPointOptions, device: torch.device = CPU) -> np.ndarray:
    """For each end-of-epoch state, the index of the kept point its forward trajectory settles on, or −1.

    The map is iterated ``attractor_steps`` times from each state (float64); a trajectory settles on a
    point when it ends within ``attractor_tol`` of it (the nearest one is taken), on ``device``.
    """
    if found.count == 0 or len(end_states) == 0:
        return np.full(len(end_states), -1)
    exact = dynamics.cast(torch.float64)
    states = torch.tensor(end_states, dtype=torch.float64, device=device)
    with torch.no_grad():
        for _ in range(options.attractor_steps):
            states = exact(states)
    distances = np.linalg.norm(states.cpu().numpy()[:, None, :] - found.states[None, :, :], axis=-1)
    nearest = distances.argmin(axis=1)
    return np.where(distances[np.arange(len(nearest)), nearest] <= options.attractor_tol, nearest, -1)
