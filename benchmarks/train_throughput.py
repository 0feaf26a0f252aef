"""Training throughput: a textbook one-model RNN loop against brainrnn's batched ensemble engine.

Variants, all on the same task (delayed match-to-sample, dt 40 ms, 2 stimuli), batch 64, the same
number of timed steps after a few warm-up steps, on the CPU with a fixed number of threads:

  (a) reference   one model written as the source documents write it: ``nn.Linear`` input,
                  recurrent and readout layers, an ``RNNCell``-like leaky tanh update in a Python
                  loop over time, masked cross-entropy, gradient-norm clipping, Adam;
  (b) engine x1   ``LeakyRNN(shape, [seed])`` trained with brainrnn.training.train_step, the step the
                  pipeline's trainer runs;
  (c) engine xE   ``LeakyRNN(shape, list(range(E)))``: E members in one batched model.

Every step of every variant draws fresh trials (one stream per member, as train_ensemble does),
adds recurrent noise, runs forward and backward, clips and updates. "model-steps/s" counts one
step of one trained model; the speed-up is model-steps/s relative to (a) at the same N.

GFLOP/s counts only the matrix products — per time step 2·B·(N² + n_in·N + N·n_out) forward,
×3 for forward + backward — and is set against a large dense float32 matmul timed on the same
machine with the same threads, the practical ceiling for these kernels.

Run:  .venv/bin/python benchmarks/train_throughput.py [--hidden 64 128] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from brainrnn.config import default_config
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.tasks.base import Task, stack_batches
from brainrnn.tasks.registry import make_task
from brainrnn.training import TrainingOptions, make_optimiser, member_generators, train_step

ROOT = Path(__file__).resolve().parents[1]

TASK_SETTINGS = {"dt_ms": 40, "n_stimuli": 2}


# ----------------------------------------------------------------------------- (a) the reference

class ReferenceRNN(nn.Module):
    """One leaky tanh RNN in the usual tutorial style (one model, a Python loop over time)."""

    def __init__(self, n_inputs: int, n_hidden: int, n_outputs: int, alpha: float, gain: float = 1.5) -> None:
        super().__init__()
        self.input2h = nn.Linear(n_inputs, n_hidden)
        self.h2h = nn.Linear(n_hidden, n_hidden, bias=False)
        self.readout = nn.Linear(n_hidden, n_outputs)
        self.alpha = alpha
        with torch.no_grad():
            self.h2h.weight.normal_(0.0, gain / n_hidden**0.5)

    def forward(self, inputs: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        hidden = torch.zeros(inputs.shape[1], self.h2h.in_features)
        outputs = []
        for t in range(inputs.shape[0]):
            pre = self.input2h(inputs[t]) + self.h2h(hidden) + noise[t]
            hidden = (1.0 - self.alpha) * hidden + self.alpha * torch.tanh(pre)
            outputs.append(self.readout(hidden))
        return torch.stack(outputs)


def reference_stepper(task: Task, n_hidden: int, options: TrainingOptions, batch_size: int) -> Callable[[], None]:
    model = ReferenceRNN(task.n_inputs, n_hidden, task.n_outputs, alpha=task.dt_ms / 100.0)
    optimiser = torch.optim.Adam(model.parameters(), lr=options.learning_rate)
    generator = torch.Generator().manual_seed(0)
    loss_fn = nn.CrossEntropyLoss(reduction="none")

    def step() -> None:
        batch = task.sample(batch_size, generator)
        noise = options.recurrent_noise * torch.randn(batch.n_steps, batch_size, n_hidden, generator=generator)
        outputs = model(batch.inputs, noise)                              # (T, B, n_out)
        per_step = loss_fn(outputs.reshape(-1, task.n_outputs), batch.targets.reshape(-1))
        loss = (per_step * batch.mask.reshape(-1)).sum() / batch.mask.sum()
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), options.clip_grad_norm)
        optimiser.step()

    return step


# ----------------------------------------------------------------------------- (b), (c) the engine

def engine_stepper(task: Task, n_hidden: int, members: int, options: TrainingOptions,
                   batch_size: int) -> Callable[[], None]:
    """One step of the pipeline's trainer (brainrnn.training.train_step): fresh trials per member,
    recurrent noise, forward, backward, per-member clipping, Adam; no evaluation or checkpoints."""
    seeds = list(range(members))
    shape = RNNShape(task.n_inputs, n_hidden, task.n_outputs, dt_ms=task.dt_ms, init_gain=1.5)
    model = LeakyRNN(shape, seeds)
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimiser = make_optimiser(trainable, options)
    generators = member_generators(seeds, "data")

    def step() -> None:
        batch = stack_batches([task.sample(batch_size, generator) for generator in generators])
        noise = torch.stack([torch.randn(batch.n_steps, batch_size, n_hidden, generator=generator)
                             for generator in generators], dim=1)
        train_step(model, optimiser, trainable, batch, task, noise=options.recurrent_noise * noise,
                   clip_grad_norm=options.clip_grad_norm)

    return step


# ----------------------------------------------------------------------------- measuring

def steps_per_second(step: Callable[[], None], warmup: int, steps: int, repeats: int) -> float:
    for _ in range(warmup):
        step()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = max(best, steps / (time.perf_counter() - start))
    return best


def flops_per_model_step(task: Task, n_hidden: int, batch: int, n_steps: int) -> float:
    """Matrix-product FLOPs of one training step of one model: forward ×3 for forward + backward."""
    per_time = 2 * batch * (n_hidden * n_hidden + task.n_inputs * n_hidden + n_hidden * task.n_outputs)
    return 3.0 * n_steps * per_time


def dense_matmul_gflops(size: int, repeats: int = 5) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2.0 * size**3 / best / 1e9


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as stream:
            for line in stream:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 128], help="hidden sizes N")
    parser.add_argument("--members", type=int, default=16, help="ensemble size of variant (c)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before timing")
    parser.add_argument("--repeats", type=int, default=1, help="timed blocks per variant; the fastest is kept")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--matmul-size", type=int, default=2048, help="size of the dense reference matmul")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    task = make_task("dms", **TASK_SETTINGS)
    n_steps = task.max_steps
    training = default_config(ROOT / "config" / "schemas")["gradreg"]["training"]
    options = TrainingOptions.from_config({**training, "learning_rate": 1e-3})
    peak = dense_matmul_gflops(args.matmul_size)

    print(f"torch {torch.__version__}, {cpu_name()}, threads={torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"task dms {TASK_SETTINGS}: T={n_steps} time steps, n_inputs={task.n_inputs}, "
          f"n_outputs={task.n_outputs}; batch {args.batch}; {args.warmup} warm-up + {args.steps} timed steps "
          f"(best of {args.repeats})")
    print(f"dense float32 matmul {args.matmul_size}x{args.matmul_size}: {peak:.1f} GFLOP/s")
    print()
    header = f"{'variant':<22} {'N':>5} {'members':>8} {'steps/s':>9} {'model-steps/s':>14} {'GFLOP/s':>9} " \
             f"{'% of matmul':>12} {'speed-up vs (a)':>16}"
    print(header)
    print("-" * len(header))
    for n_hidden in args.hidden:
        flops = flops_per_model_step(task, n_hidden, args.batch, n_steps)
        variants = [("(a) reference nn.Linear", 1, reference_stepper(task, n_hidden, options, args.batch)),
                    ("(b) engine, 1 member", 1, engine_stepper(task, n_hidden, 1, options, args.batch)),
                    ("(c) engine, ensemble", args.members,
                     engine_stepper(task, n_hidden, args.members, options, args.batch))]
        baseline = None
        for name, members, stepper in variants:
            rate = steps_per_second(stepper, args.warmup, args.steps, args.repeats)
            model_rate = rate * members
            baseline = model_rate if baseline is None else baseline
            gflops = model_rate * flops / 1e9
            print(f"{name:<22} {n_hidden:>5} {members:>8} {rate:>9.2f} {model_rate:>14.2f} {gflops:>9.3f} "
                  f"{100 * gflops / peak:>11.1f}% {model_rate / baseline:>15.2f}x")
    print()
    print(f"FLOPs per model-step counted: matmuls only, 3 x T x 2B(N^2 + n_in N + N n_out) "
          f"(N=128: {flops_per_model_step(task, 128, args.batch, n_steps) / 1e6:.0f} MFLOP).")


if __name__ == "__main__":
    main()
