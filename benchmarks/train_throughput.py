"""Training throughput: brainrnn's engine beside a seed-style loop, stock nn.RNN, torch.compile and Keras.

One run prints, for every variant, training steps per second, model-steps per second (one step of
one trained model), the matrix-product GFLOP/s they amount to and that rate as a share of a large
float32 ``torch.matmul`` timed in the same run with the same threads (the practical ceiling).

Variants at N = 64, 128, 256, 512 (task ``dms``, dt 40 ms, T = 32 steps, batch 64, tanh, τ 100 ms,
recurrent noise, per-member clipping, Adam, fresh trials every step):

  seed-style loop      one model as the source documents write it: ``nn.Linear`` input, recurrent and
                       readout layers, the leaky update in a Python loop over time;
  stock nn.RNN         ``torch.nn.RNN`` (fused, not leaky: α = 1) with a linear readout, one model;
  step loop xE         the engine's previous forward: the per-step update under autograd (members E);
  compiled step xE     that per-step update compiled with ``torch.compile`` (the alternative to fusing);
  engine xE            ``LeakyRNN`` as trained by ``brainrnn.training.train_step``: the fused sequence
                       with its hand-written backward, E members in one model, chunked by the engine;
  step product         not a training step: the step's batched matrix product alone, 3 x T times (the
                       most the per-step matrix work of E = 16 members can reach at this size).

and the MICrONS source's configuration (312 ReLU units, α = 1, batch 128, one-choice task, T = 50,
no recurrent noise): the seed-style loop, nn.RNN, the engine with 1, 3 and 16 members, and a Keras
``SimpleRNN`` fitted with ``train_on_batch`` when Keras is installed (``pip install keras
tensorflow-cpu``; otherwise the row says why it is skipped).

Every variant is timed for ``--seconds`` of this process's CPU time per round (``time.process_time``:
on a shared machine the CPU time a step takes moves far less with the load than its wall time), the
rounds interleaved, and its best round kept, so a burst of load favours no variant. FLOPs
count matrix products only: per time step 2B(N² + n_in N + N n_out) forward, x 3 for forward +
backward. The targets of issue 16 are checked at the end.

Run:  .venv/bin/python benchmarks/train_throughput.py [--hidden 64 128 256 512] [--threads 1] [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from brainrnn.config import default_config
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.models.sequence import member_chunk
from brainrnn.tasks.base import Task, stack_batches
from brainrnn.tasks.registry import make_task
from brainrnn.training import TrainingOptions, make_optimiser, member_generators, member_noise, train_step

ROOT = Path(__file__).resolve().parents[1]
DMS = {"dt_ms": 40, "n_stimuli": 2}
ENSEMBLES = (1, 4, 16)
Step = Callable[[], None]


@dataclass
class Setting:
    """One network size and task: what every variant of a table trains."""

    task: Task
    n_hidden: int
    batch: int
    activation: str
    alpha: float
    options: TrainingOptions

    @property
    def model_flops(self) -> float:
        """Matrix-product FLOPs of one training step of one model (forward x 3)."""
        task, n = self.task, self.n_hidden
        return 3.0 * task.max_steps * 2 * self.batch * (n * n + task.n_inputs * n + n * task.n_outputs)


# ----------------------------------------------------------------------------- the comparison models

class SeedStyleRNN(nn.Module):
    """One leaky RNN as the source documents write it: layers and a Python loop over time."""

    def __init__(self, setting: Setting) -> None:
        super().__init__()
        task, n = setting.task, setting.n_hidden
        self.input2h, self.h2h = nn.Linear(task.n_inputs, n), nn.Linear(n, n, bias=False)
        self.readout = nn.Linear(n, task.n_outputs)
        self.alpha, self.phi = setting.alpha, torch.tanh if setting.activation == "tanh" else torch.relu

    def forward(self, inputs: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        hidden = torch.zeros(inputs.shape[1], self.h2h.in_features)
        outputs = []
        for t in range(inputs.shape[0]):
            pre = self.input2h(inputs[t]) + self.h2h(hidden)
            if noise is not None:
                pre = pre + noise[t]
            hidden = (1.0 - self.alpha) * hidden + self.alpha * self.phi(pre)
            outputs.append(self.readout(hidden))
        return torch.stack(outputs)


class StockRNN(nn.Module):
    """``torch.nn.RNN`` (fused, non-leaky) and a linear readout."""

    def __init__(self, setting: Setting) -> None:
        super().__init__()
        task = setting.task
        self.rnn = nn.RNN(task.n_inputs, setting.n_hidden, nonlinearity=setting.activation)
        self.readout = nn.Linear(setting.n_hidden, task.n_outputs)

    def forward(self, inputs: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        states, _ = self.rnn(inputs)
        return self.readout(states)


def previous_step(state: torch.Tensor, drive: torch.Tensor, transposed: torch.Tensor, alpha: torch.Tensor,
                  running: torch.Tensor | None, phi: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """The engine's update before fusion, one step under autograd."""
    updated = (1.0 - alpha) * state + alpha * phi(drive + torch.bmm(state, transposed))
    return updated if running is None else torch.where(running.unsqueeze(-1), updated, state)


class StepwiseRNN(LeakyRNN):
    """LeakyRNN whose forward runs :func:`previous_step` per time step (optionally compiled)."""

    def __init__(self, shape: RNNShape, seeds: list[int], step: Callable[..., torch.Tensor]) -> None:
        super().__init__(shape, seeds)
        self.update = step

    def forward(self, inputs: torch.Tensor, *, noise: torch.Tensor | None = None,
                initial_state: torch.Tensor | None = None,
                running: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        drive = self.input_drive(inputs) + (0 if noise is None else noise)
        state = drive.new_zeros(drive.shape[1:])
        transposed, alpha, states = self.recurrent_weight.transpose(1, 2), self.alpha.unsqueeze(1), []
        for t, drive_t in enumerate(drive.unbind(0)):
            state = self.update(state, drive_t, transposed, alpha, None if running is None else running[t], self.phi)
            states.append(state)
        stacked = torch.stack(states)
        return torch.einsum("tebn,eno->tebo", stacked, self.readout_weight) + self.readout_bias.unsqueeze(1), stacked


# ----------------------------------------------------------------------------- steppers

def one_model_stepper(model: nn.Module, setting: Setting) -> Step:
    """A training step of a one-model network: trials, noise, forward, masked loss, clipping, Adam."""
    optimiser = torch.optim.Adam(model.parameters(), lr=setting.options.learning_rate)
    generator, task, options = torch.Generator().manual_seed(0), setting.task, setting.options

    def step() -> None:
        batch = task.sample(setting.batch, generator)
        noise = None
        if options.recurrent_noise:
            noise = options.recurrent_noise * torch.randn(batch.n_steps, setting.batch, setting.n_hidden,
                                                          generator=generator)
        outputs = model(batch.inputs, noise)
        loss = (nn.functional.cross_entropy(outputs.movedim(-1, 1), batch.targets, reduction="none")
                * batch.mask).sum() / batch.mask.sum()
        optimiser.zero_grad()
        loss.backward()
        if options.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), options.clip_grad_norm)
        optimiser.step()

    return step


def engine_stepper(model: LeakyRNN, setting: Setting) -> Step:
    """One step of the pipeline's trainer (train_step): fresh trials and noise per member, clipping, Adam."""
    seeds = list(range(model.members))
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    optimiser = make_optimiser(trainable, setting.options)
    generators, options = member_generators(seeds, "data"), setting.options

    def step() -> None:
        batch = stack_batches([setting.task.sample(setting.batch, generator) for generator in generators])
        noise = None
        if options.recurrent_noise:
            noise = member_noise(generators, batch.n_steps, setting.batch, setting.n_hidden, options.recurrent_noise)
        train_step(model, optimiser, trainable, batch, setting.task, noise=noise,
                   clip_grad_norm=options.clip_grad_norm)

    return step


def shape_of(setting: Setting) -> RNNShape:
    return RNNShape(setting.task.n_inputs, setting.n_hidden, setting.task.n_outputs, activation=setting.activation,
                    dt_ms=setting.task.dt_ms, tau_ms=setting.task.dt_ms / setting.alpha)


def product_stepper(setting: Setting, members: int) -> Step:
    """3 x T batched products of the step's shape: the ceiling of the per-step matrix work."""
    n, batch = setting.n_hidden, setting.batch
    drive, state, weight = torch.randn(members, batch, n), torch.randn(members, batch, n), torch.randn(members, n, n)

    def step() -> None:
        for _ in range(3 * setting.task.max_steps):
            torch.baddbmm(drive, state, weight)

    return step


def keras_stepper(setting: Setting) -> tuple[Step | None, str]:
    """A Keras SimpleRNN (the MICrONS source's tool) fitted batch by batch, or why it cannot run."""
    try:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
    except ImportError as error:
        return None, f"skipped: Keras is not installed ({error}); pip install keras tensorflow-cpu to add it"
    import numpy as np

    task = setting.task
    model = keras.Sequential([keras.Input((task.max_steps, task.n_inputs)),
                              keras.layers.SimpleRNN(setting.n_hidden, activation="relu", return_sequences=True),
                              keras.layers.Dense(task.n_outputs)])
    model.compile(optimizer=keras.optimizers.Adam(setting.options.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    generator = torch.Generator().manual_seed(0)

    def step() -> None:
        batch = task.sample(setting.batch, generator)
        model.train_on_batch(np.ascontiguousarray(batch.inputs.transpose(0, 1).numpy()),
                             np.ascontiguousarray(batch.targets.transpose(0, 1).numpy()),
                             sample_weight=np.ascontiguousarray(batch.mask.transpose(0, 1).numpy()))

    return step, f"keras {keras.__version__} ({keras.backend.backend()} backend)"


# ----------------------------------------------------------------------------- measuring

@dataclass
class Row:
    name: str
    members: int
    step: Step | None
    rate: float = 0.0
    note: str = ""


def measure(rows: list[Row], seconds: float, rounds: int, warmup: int) -> None:
    """Best steps/s of each row over interleaved rounds of about ``seconds`` each (rows without a step: skipped)."""
    runnable = [(row, row.step) for row in rows if row.step is not None]
    for _, step in runnable:
        for _ in range(warmup):
            step()
    for _ in range(rounds):
        for row, step in runnable:
            steps, start = 0, time.process_time()
            while steps < 2 or time.process_time() - start < seconds:
                step()
                steps += 1
            row.rate = max(row.rate, steps / (time.process_time() - start))


def dense_matmul_gflops(size: int, repeats: int = 5) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        torch.mm(a, b)
        best = min(best, time.process_time() - start)
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


def print_table(title: str, setting: Setting, rows: list[Row], peak: float) -> dict[str, float]:
    """Print one table; return model-steps/s by row name."""
    flops = setting.model_flops
    baseline = rows[0].rate * rows[0].members
    print(f"\n{title}: N = {setting.n_hidden}, {setting.activation}, batch {setting.batch}, "
          f"T = {setting.task.max_steps}, {flops / 1e6:.0f} MFLOP per model-step")
    print(f"{'variant':<20} {'members':>7} {'chunk':>5} {'steps/s':>9} {'model-steps/s':>14} {'GFLOP/s':>8} "
          f"{'% of matmul':>11} {'vs seed loop':>12}")
    rates = {}
    for row in rows:
        if row.rate == 0.0:
            print(f"{row.name:<20} {row.note}")
            continue
        model_rate = row.rate * row.members
        gflops = model_rate * flops / 1e9
        chunk = member_chunk(row.members, setting.batch, setting.n_hidden, torch.device("cpu")) \
            if row.name.startswith("engine") else ""
        print(f"{row.name:<20} {row.members:>7} {chunk!s:>5} {row.rate:>9.2f} {model_rate:>14.1f} {gflops:>8.2f} "
              f"{100 * gflops / peak:>10.1f}% {model_rate / baseline:>11.2f}x"
              + (f"  {row.note}" if row.note else ""))
        rates[row.name] = model_rate
    return rates


def dms_rows(setting: Setting, compiled: bool) -> list[Row]:
    shape = shape_of(setting)
    rows = [Row("seed-style loop", 1, one_model_stepper(SeedStyleRNN(setting), setting)),
            Row("stock nn.RNN", 1, one_model_stepper(StockRNN(setting), setting))]
    for members in (1, 16):
        model = StepwiseRNN(shape, list(range(members)), previous_step)
        rows.append(Row(f"step loop x{members}", members, engine_stepper(model, setting)))
    if compiled:
        for members in (1, 16):
            step = torch.compile(previous_step, dynamic=False)
            model = StepwiseRNN(shape, list(range(members)), step)
            rows.append(Row(f"compiled step x{members}", members, engine_stepper(model, setting)))
    for members in ENSEMBLES:
        rows.append(Row(f"engine x{members}", members, engine_stepper(LeakyRNN(shape, list(range(members))),
                                                                      setting)))
    rows.append(Row("step product x16", 16, product_stepper(setting, 16), note="(matrix products only)"))
    return rows


def microns_rows(setting: Setting) -> list[Row]:
    shape = shape_of(setting)
    rows = [Row("seed-style loop", 1, one_model_stepper(SeedStyleRNN(setting), setting)),
            Row("stock nn.RNN", 1, one_model_stepper(StockRNN(setting), setting))]
    rows += [Row(f"engine x{members}", members, engine_stepper(LeakyRNN(shape, list(range(members))), setting))
             for members in (1, 3, 16)]
    step, note = keras_stepper(setting)
    rows.append(Row("keras SimpleRNN", 1, step, note=note))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[64, 128, 256, 512], help="hidden sizes N")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per variant and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each variant's best is kept")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before timing (compilation included)")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (a pipeline job's threads)")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--no-compile", action="store_true", help="leave out the torch.compile rows")
    parser.add_argument("--no-microns", action="store_true", help="leave out the MICrONS-size table")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    defaults = default_config(ROOT / "config" / "schemas")
    dms_options = TrainingOptions.from_config({**defaults["gradreg"]["training"], "learning_rate": 1e-3})
    microns_options = TrainingOptions.from_config(defaults["microns"]["training"])
    peak = dense_matmul_gflops(args.matmul_size)
    print(f"torch {torch.__version__}, {cpu_name()}, threads={torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"dense float32 matmul {args.matmul_size}x{args.matmul_size}: {peak:.1f} GFLOP/s; each variant "
          f"{args.warmup} warm-up steps, then the best of {args.rounds} interleaved rounds of {args.seconds:.1f} s")

    results: dict[int, dict[str, float]] = {}
    torch._dynamo.config.recompile_limit = 64  # every size and ensemble compiles its own step
    for n_hidden in args.hidden:
        setting = Setting(make_task("dms", **DMS), n_hidden, args.batch, "tanh", DMS["dt_ms"] / 100.0, dms_options)
        rows = dms_rows(setting, compiled=not args.no_compile)
        measure(rows, args.seconds, args.rounds, args.warmup)
        results[n_hidden] = print_table("dms", setting, rows, peak)
        results[n_hidden]["product"] = results[n_hidden].pop("step product x16")
    microns: dict[str, float] = {}
    if not args.no_microns:
        task = make_task("one_choice", input_noise=0.05)
        setting = Setting(task, 312, 128, "relu", 1.0, microns_options)
        rows = microns_rows(setting)
        measure(rows, args.seconds, args.rounds, args.warmup)
        microns = print_table("MICrONS source configuration (one_choice)", setting, rows, peak)

    print("\nTargets (issue 16):")
    for n_hidden, rates in results.items():
        flops = Setting(make_task("dms", **DMS), n_hidden, args.batch, "tanh", 0.4, dms_options).model_flops
        best = max(rates[f"engine x{members}"] for members in ENSEMBLES)
        share = best * flops / 1e9 / peak
        ceiling = rates["product"] * flops / 1e9 / peak
        ordered = [rates[f"engine x{members}"] for members in ENSEMBLES]
        monotone = all(later >= 0.95 * earlier for earlier, later in zip(ordered, ordered[1:], strict=False))
        line = (f"  N = {n_hidden}: best engine {100 * share:.0f}% of matmul (step product alone "
                f"{100 * ceiling:.0f}%), x16 per model {rates['engine x16'] / rates['seed-style loop']:.1f}x the seed "
                f"loop, larger ensembles never slower per model (5% noise): {'yes' if monotone else 'NO'}")
        print(line)
    if microns:
        keras_rate = microns.get("keras SimpleRNN")
        versus = "Keras not measured" if keras_rate is None else \
            f"engine x1 / Keras = {microns['engine x1'] / keras_rate:.2f}"
        print(f"  MICrONS size: engine x3 per model {microns['engine x3'] / microns['seed-style loop']:.1f}x the seed "
              f"loop; {versus}")


if __name__ == "__main__":
    main()
