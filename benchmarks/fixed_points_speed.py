"""Fixed-point search: brainrnn against FixedPointFinder's torch backend, on the same networks and states.

Two trained networks, each analysed in its delay epoch with the input held at its delay value:
(1) a delayed match-to-sample network, 128 tanh units, trained 300 steps; (2) a MICrONS-constrained
network, 312 ReLU units (field 6_6_2, variant W*D*C, Go/NoGo, 200 steps; the synthetic field stands
in when the field's folder is missing). Both searches start from the same states: ``--n-initial``
delay-epoch states plus N(0, 0.5²) noise.

FixedPointFinder (Golub & Sussillo 2018) runs from a checkout given with ``--fff`` (never copied
into this project: ``git clone https://github.com/mattgolub/fixed-point-finder``) at its defaults:
Adam at rate 1 with ReduceLROnPlateau, tol_q 1e-12, tol_dq 1e-20, 5,000 iterations, float32,
Jacobians decomposed. brainrnn runs at the config schema's defaults (the same hyperparameters,
per-state schedule and early exit, closed-form gradients, float64 Newton polish).

Both sides' points are classed by q as the pipeline does (fixed < 1e-10 ≤ slow < 1e-4; the rest
discarded) and matched: a point of one side is found by the other when the other has a point
within ``--match-tol``. Run:

    .venv/bin/python benchmarks/fixed_points_speed.py --fff /path/to/fixed-point-finder
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from brainrnn.analysis.fixed_points import FixedPointOptions, find_fixed_points, sample_initial_states
from brainrnn.analysis.rnn_fixed_points import RNNDynamics
from brainrnn.config import default_config
from brainrnn.microns.analysis import null_statistics
from brainrnn.microns.field import load_field, synthetic_field
from brainrnn.microns.train import train_variant
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.tasks.registry import make_task
from brainrnn.training import FixedTask, TrainingOptions, train_ensemble

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = default_config(ROOT / "config" / "schemas")


class HeldInputRNN(nn.Module):
    """The network's one-step map in the nn.RNN calling convention FixedPointFinder expects:
    ``output, h_n = rnn(inputs (B, 1, n_in), h0 (1, B, N))``."""

    batch_first = True

    def __init__(self, model: LeakyRNN) -> None:
        super().__init__()
        self.weight = nn.Parameter(model.recurrent_weight[0].detach().clone())
        self.input_weight = nn.Parameter(model.input_weight[0].detach().clone())
        self.bias = nn.Parameter(model.bias[0].detach().clone())
        self.register_buffer("alpha", model.alpha[0].detach().clone())
        self.phi = model.phi

    def forward(self, inputs: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        state = hidden[0]
        pre = state @ self.weight.T + inputs[:, 0] @ self.input_weight + self.bias
        following = (1 - self.alpha) * state + self.alpha * self.phi(pre)
        return following.unsqueeze(1), following.unsqueeze(0)


def delay_states(model: LeakyRNN, task_name: str, settings: dict, trials: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Delay-epoch states of noise-free trials and the delay's input."""
    task = make_task(task_name, **{**settings, "input_noise": 0.0})
    batch = task.sample(trials, torch.Generator().manual_seed(0))
    with torch.no_grad():
        _, states = model(batch.inputs, running=batch.running)
    delay = batch.epochs["delay"]
    return states[:, 0][delay].double().numpy(), batch.inputs[delay].mean(dim=0).double().numpy()


def dms_network() -> tuple[str, LeakyRNN, np.ndarray, np.ndarray]:
    settings = {"dt_ms": 40.0, "n_stimuli": 2}
    task = make_task("dms", **settings)
    model = LeakyRNN(RNNShape(task.n_inputs, 128, task.n_outputs, dt_ms=40.0, init_gain=1.5), [11])
    training = {**DEFAULTS["gradreg"]["training"], "steps": 300, "learning_rate": 0.01, "eval_every": 100}
    schedule = FixedTask.from_config(task, [11], training, eval_seed=1)
    train_ensemble(model, schedule, TrainingOptions.from_config(training))
    states, held = delay_states(model, "dms", settings)
    return "DMS, 128 tanh", model, states, held


def microns_network(folder: Path) -> tuple[str, LeakyRNN, np.ndarray, np.ndarray]:
    if (folder / "6_6_2").is_dir():
        field, label = load_field(folder, "6_6_2", ROOT / "resources" / "microns" / "INF.md"), "6_6_2"
    else:
        field, label = synthetic_field(312, seed=0, length_um=80.0), "synthetic"
    settings = {**DEFAULTS["microns"], "training": {**DEFAULTS["microns"]["training"], "steps": 200}}
    run = train_variant(field, "W*D*C", "go_nogo", "corrected", [0], 1, settings,
                        null_statistics(field.n_neurons, 0.1, n_nulls=2))
    states, held = delay_states(run.model, "go_nogo", {"input_noise": 0.0})
    return f"MICrONS {label}, {field.n_neurons} ReLU", run.model, states, held


def fixed_point_finder(fff: Path, model: LeakyRNN, held: np.ndarray, initial: np.ndarray):
    sys.path.insert(0, str(fff))
    from FixedPointFinderTorch import FixedPointFinderTorch

    finder = FixedPointFinderTorch(HeldInputRNN(model), verbose=False)
    start = time.perf_counter()
    unique, _ = finder.find_fixed_points(initial.astype(np.float32), held[None, :].astype(np.float32))
    return time.perf_counter() - start, np.asarray(unique.xstar, dtype=float), np.asarray(unique.qstar, dtype=float)


def found_by(points: np.ndarray, others: np.ndarray, tol: float) -> int:
    if not len(points) or not len(others):
        return 0
    distances = np.linalg.norm(points[:, None, :] - others[None, :, :], axis=-1)
    return int((distances.min(axis=1) <= tol).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fff", type=Path, help="a FixedPointFinder checkout (without it, only brainrnn runs)")
    parser.add_argument("--microns-folder", type=Path, default=ROOT.parent / "shared" / "data" / "microns" / "info")
    parser.add_argument("--n-initial", type=int, default=512)
    parser.add_argument("--match-tol", type=float, default=0.05, help="distance under which two points are one")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = FixedPointOptions.from_config({**DEFAULTS["fixed_points"], "n_initial": args.n_initial}, seed=0)
    slow, fixed = options.slow_below, options.fixed_below
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}; "
          f"{args.n_initial} initial states; classes fixed q < {fixed:g} <= slow q < {slow:g}; "
          f"match within {args.match_tol}")
    if args.fff is None or not (args.fff / "FixedPointFinderTorch.py").is_file():
        print("FixedPointFinder not given (--fff PATH to a checkout): brainrnn alone")
    header = (f"{'network':<26} {'method':<16} {'seconds':>8} {'fixed':>6} {'slow':>5} {'found by other':>15} "
              f"{'speed-up':>9}")
    print(header)
    print("-" * len(header))
    for label, model, states, held in (dms_network(), microns_network(args.microns_folder)):
        initial = sample_initial_states(states, options)
        start = time.perf_counter()
        ours = find_fixed_points(RNNDynamics(model, torch.tensor(held)), initial,
                                 dataclasses.replace(options, seed=0), reference_states=states)
        our_seconds = time.perf_counter() - start
        if args.fff is not None and (args.fff / "FixedPointFinderTorch.py").is_file():
            fff_seconds, fff_points, fff_q = fixed_point_finder(args.fff, model, held, initial)
            fff_kept = fff_points[fff_q < slow]
            print(f"{label:<26} {'FixedPointFinder':<16} {fff_seconds:>8.2f} {int((fff_q < fixed).sum()):>6} "
                  f"{int(((fff_q >= fixed) & (fff_q < slow)).sum()):>5} "
                  f"{found_by(fff_kept, ours.states, args.match_tol):>8}/{len(fff_kept):<6} {'1.00x':>9}")
            speed_up = f"{fff_seconds / our_seconds:.2f}x"
            by_other = f"{found_by(ours.states, fff_kept, args.match_tol):>8}/{ours.count:<6}"
        else:
            speed_up, by_other = "", f"{'':>15}"
        print(f"{'':<26} {'brainrnn':<16} {our_seconds:>8.2f} {int(ours.is_fixed.sum()):>6} "
              f"{int(ours.is_slow.sum()):>5} {by_other} {speed_up:>9}   ({ours.iterations} iterations)")


if __name__ == "__main__":
    main()
