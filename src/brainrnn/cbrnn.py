"""Cortico-cerebellar RNNs: parameter matching, curriculum training, freezing, ablation, dimensionality.

The core is a leaky RNN (leaky ReLU, τ = 1.5 steps); the CB-RNN adds a :class:`Cerebellum` as the
core's bias hook. The plain RNN baseline gets the hidden size whose parameter count is closest to
the CB-RNN's. Training follows a curriculum on binary-sequence tasks: start at N = 2 and advance a
member to N + 1 when its test accuracy reaches ``advance_at``. Members of an ensemble (seeds) keep
their own level; shorter sequences are left-padded and the state held until a trial starts, so
each member trains exactly as it would alone.

Stages: ``train`` (CB-RNN and RNN-only), ``freeze`` (from the state at the end of level 1, the
core is frozen and only cerebellum + readout learn: the full reservoir; the interleaved variant
re-enables core learning for one level every ``interleave_every`` levels), ``ablate`` (accuracy
per N with the cerebellar bias removed or the module re-initialised), ``dimensionality`` (PCA
participation ratio and autocorrelation timescale of core and cerebellar activity).

Curriculum training writes a checkpoint (model, optimiser, generator states, levels, level-one
snapshot, history) atomically after every epoch; a rerun after a crash resumes from it and ends
with the weights of an uninterrupted run.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from brainrnn.io import atomic_path, write_json, write_table
from brainrnn.models.cerebellum import Cerebellum, CerebellumShape
from brainrnn.models.rnn import LeakyRNN, RNNShape, save_member
from brainrnn.provenance import config_hash, provenance
from brainrnn.seeding import derive_seed
from brainrnn.tasks import Task, make_task
from brainrnn.tasks.base import TaskBatch, stack_batches
from brainrnn.training import clip_per_member, load_checked

LOG = logging.getLogger(__name__)
CORE_GROUPS = ("input", "recurrent", "bias")
"""Parameter groups of the recurrent core (frozen in the reservoir stages)."""


@dataclass(frozen=True)
class CBConfig:
    """Architecture of both groups (see the config schema, section ``cbrnn``)."""

    task: str = "ndms"
    hidden: int = 64
    granule: int = 256
    purkinje: int = 64
    sees_input: bool = True
    activation: str = "leaky_relu"
    tau_steps: float = 1.5

    def core_shape(self, task: Task, hidden: int) -> RNNShape:
        return RNNShape(n_inputs=task.n_inputs, n_hidden=hidden, n_outputs=task.n_outputs,
                        activation=self.activation, dt_ms=1.0, tau_ms=self.tau_steps, init_gain=1.0)

    def cerebellum_shape(self, task: Task) -> CerebellumShape:
        return CerebellumShape(n_core=self.hidden, n_inputs=task.n_inputs, n_granule=self.granule,
                               n_purkinje=self.purkinje, sees_input=self.sees_input)


@dataclass(frozen=True)
class CurriculumOptions:
    """Curriculum and optimiser (the source: SGD, Nesterov momentum 0.1, lr 0.01, clip 7.5)."""

    start_level: int = 2
    advance_at: float = 0.98
    max_level: int = 60
    epochs: int = 1000
    train_steps: int = 100
    test_steps: int = 50
    batch_size: int = 64
    optimiser: str = "sgd"
    learning_rate: float = 0.01
    momentum: float = 0.1
    clip_grad_norm: float = 7.5
    interleave_every: int = 10

    def as_dict(self) -> dict:
        return asdict(self)


def count_parameters(model: torch.nn.Module) -> int:
    """Parameters of one member (every parameter has the member axis first)."""
    return int(sum(parameter[0].numel() for parameter in model.parameters()))


def plain_rnn_parameters(hidden: int, n_inputs: int, n_outputs: int) -> int:
    """Parameters of a LeakyRNN: input, recurrent, bias, readout weights and readout bias."""
    return n_inputs * hidden + hidden * hidden + hidden + hidden * n_outputs + n_outputs


def matched_hidden(target: int, n_inputs: int, n_outputs: int) -> int:
    """Hidden size of the plain RNN whose parameter count is closest to ``target``."""
    best, hidden = None, 1
    while plain_rnn_parameters(hidden, n_inputs, n_outputs) <= 2 * target:
        gap = abs(plain_rnn_parameters(hidden, n_inputs, n_outputs) - target)
        if best is None or gap < best[0]:
            best = (gap, hidden)
        hidden += 1
    return best[1]


def build_model(group: str, config: CBConfig, seeds: list[int], core: LeakyRNN | None = None) -> LeakyRNN:
    """A CB-RNN (``cbrnn``, also the start of ``reservoir``/``interleaved``) or the matched plain RNN.

    With ``core`` (a trained one-member network, e.g. a subject's gradient-regularised RNN) the
    CB-RNN gets one core unit per unit of ``core`` and starts from its recurrent weights and biases
    (input and readout weights are task-specific and start fresh).
    """
    if core is not None:
        config = dataclasses.replace(config, hidden=core.shape.n_hidden)
    task = make_task(config.task, n_back=2)
    if group == "rnn":
        target = count_parameters(build_model("cbrnn", config, [0], core))
        hidden = matched_hidden(target, task.n_inputs, task.n_outputs)
        return LeakyRNN(config.core_shape(task, hidden), seeds)
    cerebellum = Cerebellum(config.cerebellum_shape(task), [derive_seed(seed, "cerebellum") for seed in seeds])
    model = LeakyRNN(config.core_shape(task, config.hidden), seeds, bias_hook=cerebellum)
    if core is not None:
        with torch.no_grad():
            model.recurrent.copy_(core.recurrent_weight[0].expand_as(model.recurrent))
            model.bias.copy_(core.bias[0].expand_as(model.bias))
    return model


def pad_left(batch: TaskBatch, n_steps: int) -> TaskBatch:
    """Left-pad a right-aligned batch to ``n_steps`` (no input, no loss, not running)."""
    extra = n_steps - batch.n_steps
    if extra == 0:
        return batch

    def pad(tensor: torch.Tensor, value: float | bool = 0) -> torch.Tensor:
        return torch.cat([torch.full((extra, *tensor.shape[1:]), value, dtype=tensor.dtype), tensor])

    return TaskBatch(pad(batch.inputs), pad(batch.targets), pad(batch.mask), pad(batch.decision, False),
                     batch.labels, {name: pad(mask, False) for name, mask in batch.epochs.items()},
                     pad(batch.running, False))


def sample_levels(task_name: str, levels: list[int], batch_size: int,
                  generators: list[torch.Generator]) -> tuple[TaskBatch, Task]:
    """One batch per member at its own level, padded to a common length and stacked."""
    tasks = [make_task(task_name, n_back=level) for level in levels]
    batches = [task.sample(batch_size, generator) for task, generator in zip(tasks, generators)]
    longest = max(batch.n_steps for batch in batches)
    return stack_batches([pad_left(batch, longest) for batch in batches]), tasks[0]


@dataclass
class CurriculumResult:
    history: pd.DataFrame
    levels: list[int]
    level_one_state: dict[str, torch.Tensor]
    level_one_epoch: list[int | None] = field(default_factory=list)


def train_curriculum(model: LeakyRNN, task_name: str, options: CurriculumOptions, member_seeds: list[int], *,
                     frozen_core: str | None = None, start_level: int | None = None,
                     checkpoint: Path | None = None, config_hash: str = "") -> CurriculumResult:
    """Train every member through the curriculum; ``frozen_core`` is None, 'reservoir' or 'interleaved'.

    With ``checkpoint``, the state is saved after every epoch and training resumes from it when it exists.
    """
    members = model.members
    generators = [torch.Generator().manual_seed(derive_seed(seed, "curriculum")) for seed in member_seeds]
    start = options.start_level if start_level is None else start_level
    levels = [start] * members
    if frozen_core is not None:
        for group in CORE_GROUPS:
            for parameter in model.parameter_groups()[group]:
                parameter.requires_grad_(frozen_core == "interleaved")
    trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
    core = [parameter for group in CORE_GROUPS for parameter in model.parameter_groups()[group]]
    if options.optimiser == "sgd":
        optimiser = torch.optim.SGD(trainable, lr=options.learning_rate, momentum=options.momentum, nesterov=True)
    else:
        optimiser = torch.optim.Adam(trainable, lr=options.learning_rate)
    level_one = {name: value.detach().clone() for name, value in model.state_dict().items()}
    level_one_epoch: list[int | None] = [None] * members
    rows: list[dict] = []
    done = 0
    if checkpoint is not None and checkpoint.exists():
        state = load_checked(checkpoint, config_hash)
        model.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        for generator, saved in zip(generators, state["generators"], strict=True):
            generator.set_state(saved)
        done, levels, rows = state["epoch"], list(state["levels"]), list(state["history"])
        level_one, level_one_epoch = state["level_one"], list(state["level_one_epoch"])
        LOG.info("resumed from %s after epoch %d", checkpoint, done)
    for epoch in range(done + 1, options.epochs + 1):
        core_open = torch.tensor([_core_learns(frozen_core, level, start, options.interleave_every)
                                  for level in levels])
        losses = torch.zeros(members)
        for _ in range(options.train_steps):
            batch, task = sample_levels(task_name, levels, options.batch_size, generators)
            outputs, _ = model(batch.inputs, running=batch.running)
            loss = task.loss(outputs, batch)
            optimiser.zero_grad(set_to_none=False)
            loss.sum().backward()
            clip_per_member(trainable, options.clip_grad_norm)
            saved = [parameter.detach().clone() for parameter in core] if frozen_core == "interleaved" else []
            optimiser.step()
            if saved:
                _keep_closed(core, saved, core_open)
            losses += loss.detach()
        accuracy = curriculum_accuracy(model, task_name, levels, options, generators)
        for member in range(members):
            rows.append({"member": member, "epoch": epoch, "level": levels[member],
                         "train_loss": float(losses[member]) / options.train_steps,
                         "test_accuracy": float(accuracy[member])})
            if float(accuracy[member]) >= options.advance_at and levels[member] < options.max_level:
                if levels[member] == start and level_one_epoch[member] is None:
                    level_one_epoch[member] = epoch
                    for name, value in model.state_dict().items():
                        level_one[name][member] = value[member].detach()
                levels[member] += 1
        LOG.info("epoch %d/%d  levels %s  accuracy %s", epoch, options.epochs, levels,
                 " ".join(f"{float(a):.3f}" for a in accuracy))
        if checkpoint is not None:
            state = {"model": model.state_dict(), "optimiser": optimiser.state_dict(),
                     "generators": [generator.get_state() for generator in generators], "epoch": epoch,
                     "levels": levels, "history": rows, "level_one": level_one, "level_one_epoch": level_one_epoch,
                     "config_hash": config_hash}
            with atomic_path(checkpoint) as tmp, open(tmp, "wb") as stream:  # a stream: no temp name in the bytes
                torch.save(state, stream)
    for member in range(members):
        if level_one_epoch[member] is None:  # never passed level 1: its last state stands in
            for name, value in model.state_dict().items():
                level_one[name][member] = value[member].detach()
    history = pd.DataFrame(rows, columns=["member", "epoch", "level", "train_loss", "test_accuracy"])
    return CurriculumResult(history, levels, level_one, level_one_epoch)


def _core_learns(frozen_core: str | None, level: int, start: int, every: int) -> bool:
    if frozen_core is None:
        return True
    if frozen_core == "reservoir":
        return False
    return level > start and (level - start) % every == 0


def _keep_closed(parameters: list[torch.nn.Parameter], saved: list[torch.Tensor], open_: torch.Tensor) -> None:
    """Undo the update of the core for members whose core is closed at this level."""
    with torch.no_grad():
        for parameter, before in zip(parameters, saved):
            keep = open_.view(-1, *([1] * (parameter.dim() - 1)))
            parameter.copy_(torch.where(keep, parameter, before))


@torch.no_grad()
def curriculum_accuracy(model: LeakyRNN, task_name: str, levels: list[int], options: CurriculumOptions,
                  generators: list[torch.Generator]) -> torch.Tensor:
    """Mean accuracy per member over ``test_steps`` fresh batches at each member's level."""
    total = torch.zeros(model.members)
    for _ in range(options.test_steps):
        batch, task = sample_levels(task_name, levels, options.batch_size, generators)
        outputs, _ = model(batch.inputs, running=batch.running)
        total += task.accuracy(outputs, batch)
    return total / options.test_steps


def curriculum_metrics(levels_by_epoch: np.ndarray) -> dict[str, float]:
    """Max, final and mean level, and the area under the level-against-epoch curve."""
    levels = np.asarray(levels_by_epoch, dtype=float)
    return {"max_level": float(levels.max()), "final_level": float(levels[-1]), "mean_level": float(levels.mean()),
            "auc": float(np.trapezoid(levels, dx=1.0)) if levels.size > 1 else float(levels.sum())}


def epochs_to_level(levels_by_epoch: np.ndarray, level: float) -> float:
    """First epoch (1-based) at which the level reaches ``level``; NaN if never."""
    reached = np.flatnonzero(np.asarray(levels_by_epoch) >= level)
    return float(reached[0] + 1) if reached.size else float("nan")


@torch.no_grad()
def ablation_accuracy(model: LeakyRNN, task_name: str, levels: range, *, trials: int, seed: int) -> pd.DataFrame:
    """Accuracy per level of one CB-RNN member: intact, cerebellar bias removed, cerebellum re-initialised."""
    cerebellum = model.bias_hook
    if not isinstance(cerebellum, Cerebellum):
        raise ValueError("ablation needs a CB-RNN")
    original = {name: value.clone() for name, value in cerebellum.state_dict().items()}
    rows = []
    for condition in ("intact", "no_cerebellum", "reinitialised_cerebellum"):
        cerebellum.load_state_dict(original)
        cerebellum.enabled = condition != "no_cerebellum"
        if condition == "reinitialised_cerebellum":
            cerebellum.reinitialise(0, derive_seed(seed, "reinitialise"))
        for level in levels:
            task = make_task(task_name, n_back=level)
            batch = stack_batches([task.sample(trials, torch.Generator().manual_seed(derive_seed(seed, level)))])
            outputs, _ = model(batch.inputs, running=batch.running)
            rows.append({"condition": condition, "level": level, "accuracy": float(task.accuracy(outputs, batch)[0])})
    cerebellum.load_state_dict(original)
    cerebellum.enabled = True
    return pd.DataFrame(rows)


def participation_ratio(activity: np.ndarray) -> float:
    """(Σλ)² / Σλ² of the covariance eigenvalues of samples × units activity."""
    centred = activity - activity.mean(axis=0)
    eigenvalues = np.clip(np.linalg.eigvalsh(centred.T @ centred / max(len(centred) - 1, 1)), 0, None)
    total = eigenvalues.sum()
    return float(total**2 / (eigenvalues**2).sum()) if total > 0 else 0.0


def lag_one_timescale(activity: np.ndarray, running: np.ndarray) -> float:
    """Median over units of τ = −1 / ln ρ₁ (steps), ρ₁ from consecutive running steps of (T, B, units)."""
    pairs = running[1:] & running[:-1]
    now, before = activity[1:][pairs], activity[:-1][pairs]
    now, before = now - now.mean(axis=0), before - before.mean(axis=0)
    denominator = np.sqrt((now**2).sum(axis=0) * (before**2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (now * before).sum(axis=0) / denominator
        tau = -1.0 / np.log(rho)
    usable = np.isfinite(tau) & (rho > 0) & (rho < 1)
    return float(np.median(tau[usable])) if usable.any() else float("nan")


@torch.no_grad()
def dimensionality(model: LeakyRNN, task_name: str, level: int, *, trials: int, seed: int) -> pd.DataFrame:
    """Participation ratio and lag-1 timescale of core, granule and Purkinje activity at one level."""
    task = make_task(task_name, n_back=level)
    batch = task.sample(trials, torch.Generator().manual_seed(seed))
    _, states = model(batch.inputs, running=batch.running)
    states = states[:, 0]
    previous = torch.cat([torch.zeros_like(states[:1]), states[:-1]])
    running = batch.running.numpy()
    modules = {"core": states.numpy()}
    if isinstance(model.bias_hook, Cerebellum):
        granule, purkinje = model.bias_hook.activity(previous.reshape(1, -1, states.shape[-1]),
                                                     batch.inputs.reshape(1, -1, batch.inputs.shape[-1]))
        modules["granule"] = granule.reshape(*states.shape[:2], -1).numpy()
        modules["purkinje"] = purkinje.reshape(*states.shape[:2], -1).numpy()
    rows = []
    for module, activity in modules.items():
        samples = activity[running]
        active = samples.std(axis=0) > 0
        rows.append({"module": module, "level": level, "units": activity.shape[-1], "active_units": int(active.sum()),
                     "participation_ratio": participation_ratio(samples[:, active]) if active.any() else 0.0,
                     "timescale_steps": lag_one_timescale(activity[..., active], running) if active.any()
                     else float("nan")})
    return pd.DataFrame(rows)


GROUPS = ("cbrnn", "rnn", "reservoir", "interleaved")
RUN_MEASURES = ("max_level", "final_level", "mean_level", "auc", "epochs_to_half_max")


def cb_config(section: dict) -> CBConfig:
    return CBConfig(task=section["task"], hidden=section["hidden"], granule=section["granule"],
                    purkinje=section["purkinje"], sees_input=section["sees_input"], activation=section["activation"],
                    tau_steps=section["tau_steps"])


def curriculum_options(section: dict) -> CurriculumOptions:
    return CurriculumOptions(**section["curriculum"])


@dataclass
class GroupRun:
    """One group's ensemble after training, with per-member metrics and the level-one snapshot."""

    model: LeakyRNN
    result: CurriculumResult
    metrics: list[dict]


def run_group(group: str, section: dict, seeds: list[int], base_seed: int,
              level_one_models: list[LeakyRNN] | None = None, core: LeakyRNN | None = None,
              checkpoint: Path | None = None, config_hash: str = "") -> GroupRun:
    """Train one group: ``cbrnn`` and ``rnn`` from scratch (the CB-RNN's core optionally from
    ``core``); ``reservoir`` and ``interleaved`` from the CB-RNNs' level-one states
    (``level_one_models``, one per seed), core frozen. ``checkpoint`` makes the training resumable."""
    if group not in GROUPS:
        raise ValueError(f"unknown group '{group}' (use one of {', '.join(GROUPS)})")
    config, options = cb_config(section), curriculum_options(section)
    member_seeds = [derive_seed(base_seed, "cbrnn", seed) for seed in seeds]
    if group in ("reservoir", "interleaved") and level_one_models:
        core = level_one_models[0]  # the shape to build; every weight is then loaded from level one
    model = build_model("rnn" if group == "rnn" else "cbrnn", config, member_seeds, core)
    frozen, start = None, None
    if group in ("reservoir", "interleaved"):
        if level_one_models is None or len(level_one_models) != len(seeds):
            raise ValueError("the freeze stages need one level-one CB-RNN per seed")
        model.load_state_dict({name: torch.cat([m.state_dict()[name] for m in level_one_models])
                               for name in model.state_dict()})
        frozen, start = group, options.start_level + 1
    result = train_curriculum(model, config.task, options, member_seeds, frozen_core=frozen, start_level=start,
                              checkpoint=checkpoint, config_hash=config_hash)
    counts = {"cbrnn": count_parameters(build_model("cbrnn", config, [0], core)),
              "rnn": count_parameters(build_model("rnn", config, [0], core))}
    metrics = []
    for member, seed in enumerate(seeds):
        levels = result.history.loc[result.history["member"] == member, "level"].to_numpy()
        metrics.append({"family": "cbrnn", "group": group, "seed": seed, "member_seed": member_seeds[member],
                        "task": config.task, "n_parameters": count_parameters(model),
                        "n_parameters_cbrnn": counts["cbrnn"], "n_parameters_rnn": counts["rnn"],
                        "hidden": model.shape.n_hidden, "level_one_epoch": result.level_one_epoch[member],
                        "final_level_reached": result.levels[member], **curriculum_metrics(levels)})
    return GroupRun(model, result, metrics)


def summarise_runs(runs: pd.DataFrame, histories: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-run metrics with epochs to half of the global max N, and their mean and SEM per group."""
    global_max = float(histories["level"].max())
    runs = runs.copy()
    runs["epochs_to_half_max"] = [
        epochs_to_level(histories.loc[(histories["group"] == row.group) & (histories["seed"] == row.seed),
                                      "level"].to_numpy(), global_max / 2)
        for row in runs.itertuples()]
    rows = []
    for group, block in runs.groupby("group", sort=False):
        row = {"group": group, "n_seeds": len(block), "n_parameters": int(block["n_parameters"].iloc[0]),
               "global_max_level": global_max}
        for measure in RUN_MEASURES:
            values = block[measure].to_numpy(dtype=float)
            row[f"{measure}_mean"] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            row[f"{measure}_sem"] = float(pd.Series(values).sem()) if len(values) > 1 else float("nan")
        rows.append(row)
    return runs, pd.DataFrame(rows)


def summarise_ablation(ablation: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy per condition and level over seeds, and the drop from the intact network."""
    table = ablation.groupby(["condition", "level"], as_index=False)["accuracy"].agg(["mean", "sem", "count"])
    table = table.rename(columns={"mean": "accuracy_mean", "sem": "accuracy_sem", "count": "n_seeds"})
    intact = table[table["condition"] == "intact"].set_index("level")["accuracy_mean"]
    table["drop_from_intact"] = table["level"].map(intact) - table["accuracy_mean"]
    return table


def model_meta(metrics: dict, level: int) -> dict:
    """What the fixed-point and ablation stages need to rebuild the task at the network's level."""
    return {"family": "cbrnn", "group": metrics["group"], "seed": metrics["seed"], "task": metrics["task"],
            "task_settings": {"n_back": int(level), "dt_ms": 1.0}, "analysis_epoch": "sequence"}


def write_group_outputs(run: GroupRun, settings: dict, *, models: list[str], histories: list[str],
                        metrics: list[str], level_one: list[str] | None = None, start_level: int = 2) -> None:
    """Write each member's model, history and metrics (with provenance), and its level-one snapshot."""
    digest = config_hash(settings)
    for member, record in enumerate(run.metrics):
        save_member(run.model, member, models[member], config_hash=digest,
                    meta=model_meta(record, record["final_level_reached"]))
        history = run.result.history[run.result.history["member"] == member].drop(columns="member")
        write_table(history, histories[member])
        write_json({**record, "provenance": provenance(settings, record["member_seed"])}, metrics[member])
    if level_one is not None:
        snapshot = copy.deepcopy(run.model)
        snapshot.load_state_dict(run.result.level_one_state)
        for member, record in enumerate(run.metrics):
            save_member(snapshot, member, level_one[member], config_hash=digest, meta=model_meta(record, start_level))
