"""Fixed-point finding on systems whose fixed points, Jacobians and stability are known exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from brainrnn.analysis.fixed_points import (
    SLOW,
    AutogradDynamics,
    FixedPointOptions,
    FixedPoints,
    attractors,
    find_fixed_points,
    jacobians,
    q_value,
    sample_initial_states,
)
from brainrnn.analysis.rnn_fixed_points import analyse_epoch, epoch_map, input_conditions
from brainrnn.errors import InputError
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.tasks.registry import make_task

from conftest import section, train_fixed


def fixed_point_options(**overrides) -> FixedPointOptions:
    """The search at its schema defaults (``fixed_points``), some settings overridden."""
    seed = overrides.pop("seed", 0)
    return FixedPointOptions.from_config(section("fixed_points", **overrides), seed=seed)


FAST = fixed_point_options(max_iters=300)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """These problems are tiny: extra intra-op threads only add overhead (and stall on a busy machine)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


# ----------------------------------------------------------------------------- known systems

def linear_system(n: int = 5, seed: int = 0, radius: float = 0.8):
    """F(x) = A x + b with spectral radius of A equal to ``radius``."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    a *= radius / np.abs(np.linalg.eigvals(a)).max()
    b = rng.standard_normal(n)
    a_t, b_t = torch.tensor(a), torch.tensor(b)

    def step(states: torch.Tensor) -> torch.Tensor:
        return states @ a_t.T + b_t

    return a, b, step


def cubic_step(states: torch.Tensor) -> torch.Tensor:
    """F(x, y) = (x + 0.1 (x − x³), 0.9 y): fixed points (±1, 0) stable, (0, 0) a saddle."""
    x, y = states[:, 0], states[:, 1]
    return torch.stack([x + 0.1 * (x - x**3), 0.9 * y], dim=-1)


def cubic_grid() -> np.ndarray:
    xs, ys = np.meshgrid(np.linspace(-2.0, 2.0, 13), np.linspace(-0.5, 0.5, 3))
    return np.column_stack([xs.ravel(), ys.ravel()])


def sort_complex(values: np.ndarray) -> np.ndarray:
    """Sort by (real, imag) after rounding, so conjugate pairs order the same in both inputs."""
    keys = np.lexsort((np.round(values.imag, 8), np.round(values.real, 8)))
    return values[keys]


def assert_eigenvalues_belong_to_states(step, found: FixedPoints) -> None:
    """Each row of ``eigenvalues`` is the spectrum of the Jacobian at the same row of ``states``."""
    jac = jacobians(step, torch.tensor(found.states)).detach().numpy()
    for row, matrix in enumerate(jac):
        np.testing.assert_allclose(sort_complex(found.eigenvalues[row]), sort_complex(np.linalg.eigvals(matrix)),
                                   atol=1e-9)


def h_star() -> float:
    """The positive root of h = tanh(2h), by fixed-point iteration (a contraction near the root)."""
    h = 1.0
    for _ in range(200):
        h = math.tanh(2.0 * h)
    return h


def two_unit_network(recurrent: torch.Tensor, *, tau_ms: torch.Tensor | None = None,
                     input_weight: float = 0.0, bias: torch.Tensor | None = None) -> LeakyRNN:
    shape = RNNShape(n_inputs=1, n_hidden=2, n_outputs=1, activation="tanh", dt_ms=50, tau_ms=100)
    model = LeakyRNN(shape, [0], tau_ms=tau_ms)
    with torch.no_grad():
        model.recurrent[0] = recurrent
        model.input_weight.fill_(input_weight)
        model.bias[0] = torch.zeros(2) if bias is None else bias
    return model


# ----------------------------------------------------------------------------- tests

@pytest.mark.parametrize("activation,rank", [("tanh", None), ("relu", None), ("softplus", None),
                                             ("leaky_relu", None), ("tanh", 3)])
def test_closed_form_jacobian_equals_autograd(activation, rank):
    shape = RNNShape(n_inputs=2, n_hidden=12, n_outputs=1, activation=activation, dt_ms=20, tau_ms=100,
                     init_gain=1.5, rank=rank)
    model = LeakyRNN(shape, [4], tau_ms=torch.linspace(20.0, 200.0, 12))
    with torch.no_grad():
        model.bias.normal_(generator=torch.Generator().manual_seed(1))
    held = torch.tensor([0.7, -0.3])
    states = torch.tensor(np.random.default_rng(2).normal(0.0, 1.0, (6, 12)))
    system = epoch_map(model, held)
    torch.testing.assert_close(system.jacobian(states), jacobians(system, states), atol=1e-12, rtol=0)
    q, gradient = system.q_and_gradient(states)
    automatic_q, automatic_gradient = AutogradDynamics(system).q_and_gradient(states)
    torch.testing.assert_close(q, automatic_q, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(gradient, automatic_gradient, atol=1e-12, rtol=1e-10)


def test_a_bias_hook_leaves_the_jacobian_and_gradient_to_autograd():
    shape = RNNShape(n_inputs=1, n_hidden=4, n_outputs=1, activation="tanh", dt_ms=50, tau_ms=100)

    class Feedback(torch.nn.Module):
        def forward(self, state, inputs):
            return 0.3 * state.roll(1, dims=-1)

    model = LeakyRNN(shape, [0], bias_hook=Feedback())
    system = epoch_map(model, torch.zeros(1))
    assert not system.closed_form
    states = torch.tensor(np.random.default_rng(3).normal(0.0, 0.5, (5, 4)))
    torch.testing.assert_close(system.jacobian(states), jacobians(system, states), atol=1e-12, rtol=0)


def test_the_search_finds_the_same_points_in_float32_closed_form_as_in_float64_autograd():
    weight = torch.tensor([[2.0, 0.4], [-0.3, 1.8]])
    model = two_unit_network(weight, bias=torch.tensor([0.05, -0.02]))
    system = epoch_map(model, torch.zeros(1))
    initial = np.random.default_rng(5).uniform(-1.5, 1.5, (64, 2))
    automatic = find_fixed_points(AutogradDynamics(system), initial, FAST)
    closed = find_fixed_points(system, initial, FAST)
    assert automatic.count == closed.count >= 3
    np.testing.assert_allclose(closed.states, automatic.states, atol=1e-10)
    np.testing.assert_allclose(closed.eigenvalues, automatic.eigenvalues, atol=1e-10)


def test_linear_map_has_its_unique_fixed_point():
    a, b, step = linear_system()
    initial = np.random.default_rng(1).standard_normal((20, 5))
    found = find_fixed_points(step, initial, FAST)
    assert found.count == 1
    np.testing.assert_allclose(found.states[0], np.linalg.solve(np.eye(5) - a, b), atol=1e-8)
    assert found.q[0] < 1e-12
    np.testing.assert_allclose(sort_complex(found.eigenvalues[0]), sort_complex(np.linalg.eigvals(a)), atol=1e-10)
    assert found.is_stable.tolist() == [True]
    np.testing.assert_allclose(found.leading_abs_eigenvalue, [0.8], atol=1e-10)


def test_cubic_system_two_stable_points_and_a_saddle():
    found = find_fixed_points(cubic_step, cubic_grid(), fixed_point_options(max_iters=2000))
    assert found.count == 3
    assert_eigenvalues_belong_to_states(cubic_step, found)
    order = np.argsort(found.states[:, 0])
    np.testing.assert_allclose(found.states[order], [[-1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], atol=1e-8)
    assert (found.q < 1e-12).all()
    moduli = np.sort(np.abs(found.eigenvalues[order]), axis=1)
    np.testing.assert_allclose(moduli, [[0.8, 0.9], [0.9, 1.1], [0.8, 0.9]], atol=1e-8)
    assert found.is_stable[order].tolist() == [True, False, True]
    summary = found.summary()
    assert summary["n_fixed_points"] == 3 and summary["n_stable"] == 2 and summary["n_slow_points"] == 0
    assert summary["max_abs_eigenvalue"] == pytest.approx(1.1, abs=1e-8)


def ghost_step(states: torch.Tensor) -> torch.Tensor:
    """F(x, y) = (x + 0.1 (x² + 0.01), 0.9 y): just past a saddle-node, no fixed point, a slow point at 0."""
    x, y = states[:, 0], states[:, 1]
    return torch.stack([x + 0.1 * (x**2 + 0.01), 0.9 * y], dim=-1)


def test_a_slow_point_is_kept_and_classified():
    initial = np.random.default_rng(7).uniform(-0.5, 0.5, (32, 2))
    found = find_fixed_points(ghost_step, initial, fixed_point_options(max_iters=3000))
    assert found.count == 1 and found.kind.tolist() == [SLOW]
    np.testing.assert_allclose(found.states[0], [0.0, 0.0], atol=1e-4)
    assert found.q[0] == pytest.approx(0.5 * (0.1 * 0.01) ** 2, rel=1e-3)  # q at the bottleneck
    np.testing.assert_allclose(np.sort(np.abs(found.eigenvalues[0])), [0.9, 1.0], atol=1e-4)
    summary = found.summary()
    assert summary["n_fixed_points"] == 0 and summary["n_slow_points"] == 1
    assert math.isnan(summary["max_abs_eigenvalue"])  # no fixed point: today's measure is undefined
    strict = find_fixed_points(ghost_step, initial, fixed_point_options(max_iters=3000, slow_below=1e-8))
    assert strict.count == 0  # the same point is discarded under a stricter slow threshold


def test_the_attractor_measure_takes_the_points_trials_settle_on_not_the_saddle():
    """Double well: trials ending near x = ±0.5 settle on the wells (leading |λ| 0.9 there, by hand:
    max(|1 + 0.1 (1 − 3)|, 0.9)); the saddle at 0 (|λ| 1.1) is the largest leading |λ| but no trial reaches it."""
    options = fixed_point_options(max_iters=2000)
    found = find_fixed_points(cubic_step, cubic_grid(), options)
    end_states = np.array([[0.5, 0.1], [-0.4, -0.2], [0.6, 0.0], [-0.7, 0.3]])
    settled = attractors(AutogradDynamics(cubic_step), end_states, found, options)
    assert (settled >= 0).all()
    np.testing.assert_allclose(np.abs(found.states[settled, 0]), 1.0, atol=1e-8)
    np.testing.assert_allclose(found.leading_abs_eigenvalue[settled], 0.9, atol=1e-8)
    assert found.summary()["max_abs_eigenvalue"] == pytest.approx(1.1, abs=1e-8)
    far = attractors(AutogradDynamics(cubic_step), end_states, found,
                     fixed_point_options(attractor_steps=1, attractor_tol=1e-3))
    assert (far == -1).all()  # one step does not reach a point


def test_tanh_network_nine_fixed_points_four_stable():
    model = two_unit_network(2.0 * torch.eye(2))
    assert torch.allclose(model.alpha, torch.full((1, 2), 0.5))
    step = epoch_map(model, torch.zeros(1))
    axis = np.linspace(-1.5, 1.5, 7)
    initial = np.array([[u, v] for u in axis for v in axis])
    found = find_fixed_points(step, initial, fixed_point_options(max_iters=2000))
    h = h_star()
    assert h == pytest.approx(0.9575, abs=1e-4)
    assert found.count == 9
    expected = {(u, v) for u in (-h, 0.0, h) for v in (-h, 0.0, h)}
    for point in found.states:
        nearest = min(expected, key=lambda e: np.linalg.norm(point - np.array(e)))
        np.testing.assert_allclose(point, nearest, atol=1e-8)
        expected.discard(nearest)
    assert not expected
    assert_eigenvalues_belong_to_states(step, found)
    both_nonzero = (np.abs(found.states) > 0.5).all(axis=1)
    assert found.is_stable.tolist() == both_nonzero.tolist()
    assert int(found.is_stable.sum()) == 4
    leading = 0.5 + 0.5 * 2.0 * (1.0 - h**2)
    np.testing.assert_allclose(found.leading_abs_eigenvalue[found.is_stable], leading, atol=1e-6)


def test_jacobian_matches_analytic_form():
    h = torch.tensor(np.random.default_rng(3).uniform(-1, 1, (4, 2)))
    # the designed network: W = 2I, α = 0.5, no input or bias
    step = epoch_map(two_unit_network(2.0 * torch.eye(2)), torch.zeros(1))
    weight = 2.0 * torch.eye(2, dtype=torch.float64)
    for state, jac in zip(h, jacobians(step, h), strict=True):
        pre = weight @ state
        analytic = 0.5 * torch.eye(2, dtype=torch.float64) + 0.5 * torch.diag(1 - torch.tanh(pre) ** 2) @ weight
        torch.testing.assert_close(jac, analytic, atol=1e-12, rtol=0)
    # a non-symmetric W, per-unit α, a held input and a bias: checks W[i, j] is the weight j → i
    weight = torch.tensor([[0.3, -1.7], [0.9, 0.4]], dtype=torch.float64)
    bias = torch.tensor([0.2, -0.1], dtype=torch.float64)
    model = two_unit_network(weight.float(), tau_ms=torch.tensor([100.0, 200.0]), input_weight=0.5,
                             bias=bias.float())
    alpha = model.alpha[0].double()
    assert alpha.tolist() == [0.5, 0.25]
    held = torch.tensor([0.8])
    step = epoch_map(model, held)
    for state, jac in zip(h, jacobians(step, h), strict=True):
        pre = (model.recurrent[0].double() @ state + model.input_weight[0, 0].double() * held.double()
               + model.bias[0].double())
        analytic = (torch.diag(1 - alpha) + torch.diag(alpha * (1 - torch.tanh(pre) ** 2))
                    @ model.recurrent[0].double())
        torch.testing.assert_close(jac, analytic, atol=1e-12, rtol=0)
        next_state = (1 - alpha) * state + alpha * torch.tanh(pre)
        torch.testing.assert_close(step(state.unsqueeze(0))[0], next_state, atol=1e-12, rtol=0)


def test_duplicates_are_merged():
    _, _, step = linear_system()
    initial = np.random.default_rng(2).standard_normal((40, 5))
    found = find_fixed_points(step, initial, FAST)
    assert found.count == 1
    assert found.n_initial == 40 and found.n_converged == 40 > found.count


def test_outliers_far_from_the_reference_states_are_dropped():
    everything = find_fixed_points(cubic_step, cubic_grid(), fixed_point_options(max_iters=2000))
    assert everything.count == 3
    reference = np.array([1.0, 0.0]) + 0.01 * np.random.default_rng(4).standard_normal((50, 2))
    near_one = find_fixed_points(cubic_step, cubic_grid(), fixed_point_options(max_iters=2000, outlier_factor=5.0),
                                 reference_states=reference)
    assert near_one.count == 1
    np.testing.assert_allclose(near_one.states[0], [1.0, 0.0], atol=1e-8)
    assert near_one.n_converged == everything.n_converged  # dropped after convergence, not before


def test_q_value_is_half_squared_residual():
    _, _, step = linear_system()
    states = torch.tensor(np.random.default_rng(5).standard_normal((7, 5)))
    expected = 0.5 * ((step(states) - states) ** 2).sum(dim=1)
    torch.testing.assert_close(q_value(step, states), expected, atol=1e-14, rtol=1e-12)
    for state, q in zip(states, q_value(cubic_step, states[:, :2]), strict=True):
        residual = cubic_step(state[:2].unsqueeze(0))[0] - state[:2]
        assert float(q) == pytest.approx(0.5 * float(residual @ residual), rel=1e-12)


def test_sample_initial_states_draws_from_trajectories():
    trajectories = np.random.default_rng(6).standard_normal((30, 4))
    options = fixed_point_options(n_initial=50, noise_std=0.0, seed=3)
    picked = sample_initial_states(trajectories, options)
    assert picked.shape == (50, 4)
    assert all(any(np.array_equal(row, t) for t in trajectories) for row in picked)
    np.testing.assert_array_equal(picked, sample_initial_states(trajectories, options))
    noisy = sample_initial_states(trajectories, fixed_point_options(n_initial=50, noise_std=0.5, seed=3))
    assert 0.2 < np.std(noisy - picked) < 1.0


def test_empty_result_summary_and_save(tmp_path):
    empty = FixedPoints(np.zeros((0, 3)), np.zeros(0), np.zeros(0, dtype=np.int8), np.zeros((0, 3), dtype=complex), 10,
                        0)
    summary = empty.summary()
    assert summary["n_fixed_points"] == 0 and summary["n_stable"] == 0 and summary["n_converged"] == 0
    assert math.isnan(summary["min_q"]) and math.isnan(summary["max_abs_eigenvalue"])
    assert math.isnan(summary["mean_leading_abs_eigenvalue"])
    # a map with neither fixed nor slow point (a translation: q is 1.5 everywhere)
    none = find_fixed_points(lambda x: x + 1.0, np.zeros((5, 3)), fixed_point_options(max_iters=20))
    assert none.count == 0 and none.eigenvalues.shape == (0, 3) and none.n_converged == 0
    assert math.isnan(none.summary()["min_q"])
    none.save(tmp_path / "none.npz")
    with np.load(tmp_path / "none.npz") as saved:
        assert saved["states"].shape == (0, 3)


def test_save_round_trip(tmp_path):
    found = find_fixed_points(cubic_step, cubic_grid(), fixed_point_options(max_iters=2000))
    path = tmp_path / "sub" / "points.npz"
    found.save(path, held_input=np.array([0.5]))
    with np.load(path) as saved:
        np.testing.assert_array_equal(saved["states"], found.states)
        np.testing.assert_array_equal(saved["q"], found.q)
        np.testing.assert_array_equal(saved["eigenvalues"], found.eigenvalues)
        np.testing.assert_array_equal(saved["is_stable"], found.is_stable)
        np.testing.assert_array_equal(saved["kind"], found.kind)
        assert int(saved["n_initial"]) == found.n_initial and int(saved["n_converged"]) == found.n_converged
        np.testing.assert_array_equal(saved["held_input"], [0.5])
    assert [p.name for p in path.parent.iterdir()] == ["points.npz"]  # no temporary file left behind


def test_analyse_epoch_on_a_briefly_trained_model():
    settings = {"dt_ms": 40, "n_stimuli": 2}
    task = make_task("dms", **settings)
    shape = RNNShape(task.n_inputs, 64, task.n_outputs, dt_ms=40, init_gain=1.5)
    model = LeakyRNN(shape, [11])
    # 150 steps leave this seed at chance (it is still on the loss plateau); 300 reach criterion
    schedule, _ = train_fixed(model, task, [11], eval_seed=1, steps=300, learning_rate=0.01, eval_every=50)
    assert schedule.history(schedule.HISTORY)["eval_accuracy"].iloc[-1] >= 0.9
    options = fixed_point_options(n_initial=64, max_iters=500)
    analysis = analyse_epoch(model, "dms", settings, options, epoch="delay", trials=32, max_conditions=4)
    assert len(analysis.conditions) == 1  # the delay shows one input: the fixation cue
    found = analysis.conditions[0].fixed_points
    assert found.is_fixed.sum() >= 1
    assert (found.q[found.is_fixed] < options.fixed_below).all()
    summary = analysis.summary()
    assert math.isfinite(summary["epoch_energy"]) and summary["epoch_energy"] >= 0
    assert 0 < summary["attractor_fraction"] <= 1.0 and summary["attractor_abs_eigenvalue"] < 1.0
    assert found.eigenvalues.shape == (found.count, 64)
    assert_eigenvalues_belong_to_states(epoch_map(model, torch.tensor(analysis.conditions[0].held_input)), found)
    assert analysis.epoch_states.shape[1] == 64
    with pytest.raises(InputError):
        analyse_epoch(model, "dms", settings, options, epoch="no-such-epoch", trials=4, max_conditions=4)


def test_each_input_condition_of_the_epoch_is_analysed_on_its_own():
    """The sequence tasks show +1 and −1: each is held in turn (the mean, 0, is an input they never see)."""
    task = make_task("ndms", n_back=2)
    model = LeakyRNN(RNNShape(task.n_inputs, 16, task.n_outputs, activation="tanh", dt_ms=1.0, tau_ms=1.5), [3])
    analysis = analyse_epoch(model, "ndms", {"n_back": 2}, fixed_point_options(n_initial=32, max_iters=300),
                             epoch="sequence", trials=16, max_conditions=4)
    assert sorted(float(condition.held_input[0]) for condition in analysis.conditions) == [-1.0, 1.0]
    assert analysis.summary()["n_conditions"] == 2
    inputs = np.array([[0.5], [0.5], [-0.5], [0.25]])
    assert [float(held[0]) for held, _ in input_conditions(inputs, max_conditions=2)] == [pytest.approx(0.75 / 4)]
    assert sorted(int(mask.sum()) for _, mask in input_conditions(inputs, max_conditions=3)) == [1, 1, 2]
