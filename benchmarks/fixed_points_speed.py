"""Fixed-point search: Jacobians by automatic differentiation against the closed form, side by side.

For each network size, one ReLU RNN with no leak (dt = τ, as in the MICrONS family) whose recurrent
matrix is a random orthogonal matrix scaled to radius 0.95, under a fixed held input. The same
search (FixedPointOptions defaults of the workflow: 256 initial states, 2,000 Adam iterations,
10 Newton steps) runs twice:

  (a) autograd      Jacobians by ``torch.func.vmap(jacrev)``: N backward passes per state;
  (b) closed form   (1 − α) I + α φ'(W h + W_in u + b) W from ``epoch_jacobian``: one product.

Both start from the same initial states; the table gives the wall time, the speed-up and the
largest difference between the fixed points (and eigenvalues) the two runs return.

Run:  .venv/bin/python benchmarks/fixed_points_speed.py [--hidden 100 312] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from brainrnn.analysis.fixed_points import FixedPointOptions, find_fixed_points, sample_initial_states
from brainrnn.analysis.rnn_fixed_points import epoch_jacobian, epoch_map
from brainrnn.config import default_config
from brainrnn.models.rnn import LeakyRNN, RNNShape


def relu_network(n_hidden: int, seed: int) -> LeakyRNN:
    """A no-leak ReLU RNN with an orthogonal recurrent matrix of radius 0.95 and a positive drive."""
    shape = RNNShape(n_inputs=3, n_hidden=n_hidden, n_outputs=2, activation="relu", dt_ms=1.0, tau_ms=1.0)
    model = LeakyRNN(shape, [seed])
    generator = torch.Generator().manual_seed(seed)
    orthogonal, _ = torch.linalg.qr(torch.randn(n_hidden, n_hidden, generator=generator))
    with torch.no_grad():
        model.recurrent[0] = 0.95 * orthogonal
        model.bias[0] = 0.1 * torch.rand(n_hidden, generator=generator)
    return model


def timed_search(model: LeakyRNN, held: torch.Tensor, initial: np.ndarray, options: FixedPointOptions,
                 closed_form: bool):
    step = epoch_map(model, held)
    jacobian = epoch_jacobian(model, held) if closed_form else None
    start = time.perf_counter()
    found = find_fixed_points(step, initial, options, jacobian=jacobian)
    return time.perf_counter() - start, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[100, 312])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = default_config(Path(__file__).resolve().parents[1] / "config" / "schemas")["fixed_points"]
    options = FixedPointOptions.from_config({**settings, "n_initial": 256, "max_iters": 2000}, seed=args.seed)
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, n_initial={options.n_initial}, "
          f"max_iters={options.max_iters}, newton_steps={options.newton_steps}")
    header = (f"{'N':>5} {'autograd s':>11} {'closed form s':>14} {'speed-up':>9} {'points':>7} {'max |Δx|':>10} "
              f"{'max |Δλ|':>10}")
    print(header)
    print("-" * len(header))
    for n_hidden in args.hidden:
        model = relu_network(n_hidden, args.seed)
        held = torch.tensor([1.0, 0.5, 0.0])
        trajectories = np.random.default_rng(args.seed).uniform(0.0, 1.0, (512, n_hidden))
        initial = sample_initial_states(trajectories, options)
        auto_s, automatic = timed_search(model, held, initial, options, closed_form=False)
        closed_s, closed = timed_search(model, held, initial, options, closed_form=True)
        same = automatic.count == closed.count
        dx = float(np.abs(automatic.states - closed.states).max()) if same and closed.count else float("nan")
        dl = float(np.abs(automatic.eigenvalues - closed.eigenvalues).max()) if same and closed.count else float("nan")
        points = f"{closed.count}" if same else f"{automatic.count}/{closed.count}"
        print(f"{n_hidden:>5} {auto_s:>11.2f} {closed_s:>14.2f} {auto_s / closed_s:>8.1f}x {points:>7} {dx:>10.1e} "
              f"{dl:>10.1e}")


if __name__ == "__main__":
    main()
