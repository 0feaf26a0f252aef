"""Training for the JEDI family: teachers on their tasks, JEDI and its baselines on observed activity,
and few-shot inference of new contexts, all through the one trainer (:func:`brainrnn.training.train_ensemble`).

What differs from task training is the data and the loss, so it is a :class:`ObservedTrials` schedule:
each member draws trials from its own pool of recorded trials, the targets are the observed activity,
the score is the observation model's negative log-likelihood (Gaussian: squared error; Poisson:
rate − y log rate, with a softplus link), and — for a model whose weights depend on the trial — the
schedule's ``forward`` tells the model which trials the batch holds. The embeddings' N(0, I) prior is
the trainer's per-member penalty (``prior_weight`` × mean ½‖z‖² over the batch's trials).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.jedi.model import JediModel, StudentOptions, engine_shape
from brainrnn.jedi.simulate import Dataset, memory_settings, sine_training_settings
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import TaskBatch
from brainrnn.tasks.registry import make_task
from brainrnn.training import FixedTask, Schedule, TrainingOptions, evaluate, member_generators, train_ensemble

HISTORY = ("member", "step", "train_loss", "train_r2", "penalty")


@dataclass
class Teacher:
    """A trained teacher, its task and how well it does it."""

    model: LeakyRNN
    task: str
    task_settings: dict[str, Any]
    history: pd.DataFrame
    metrics: dict[str, Any]


def train_teacher(name: str, section: Mapping[str, Any], *, base_seed: int) -> Teacher:
    """Train one teacher of the family (``jedi.teachers``): a low-rank engine RNN (``n_units``, ``rank``, the
    factors started at ``gain``) on sine generation over the frequency range, or on the memory task."""
    task_name = "sine" if name == "sine" else section["memory"]["task"]
    settings = sine_training_settings(section) if name == "sine" else memory_settings(section)
    task = make_task(task_name, **settings)
    shape = RNNShape(n_inputs=task.n_inputs, n_hidden=section["n_units"], n_outputs=task.n_outputs,
                     activation=section["activation"], dt_ms=section["dt_ms"], tau_ms=section["tau_ms"],
                     rank=section["rank"], init_gain=section["gain"])
    seed = derive_seed(base_seed, "jedi", "teacher", name)
    model = LeakyRNN(shape, [seed])
    training = section["training"]
    schedule = FixedTask.from_config(task, [seed], training, eval_seed=derive_seed(base_seed, "jedi", "heldout", name))
    run = train_ensemble(model, schedule, TrainingOptions.from_config(training))
    test = task.sample(training["eval_trials"], torch.Generator().manual_seed(derive_seed(base_seed, "jedi", name)))
    accuracy, loss = evaluate(model, task, _one_member(test))
    metrics = {"family": "jedi", "teacher": name, "task": task_name, "seed": 0, "member_seed": seed,
               "steps_run": run.steps_run, "final_accuracy": float(accuracy[0]), "final_loss": float(loss[0]),
               "n_units": shape.n_hidden, "rank": shape.rank, "gain": shape.init_gain}
    return Teacher(model, task_name, settings, schedule.history(FixedTask.HISTORY), metrics)


def _one_member(batch: TaskBatch) -> TaskBatch:
    from brainrnn.tasks.base import stack_batches

    return stack_batches([batch])


class ObservedActivity:
    """Scores predictions of observed activity: the observation model's loss per member, and R² as the
    'accuracy' the trainer records. ``outputs`` are the readout before the link."""

    def __init__(self, observation: str) -> None:
        self.observation = observation

    def link(self, outputs: torch.Tensor) -> torch.Tensor:
        return outputs if self.observation == "gaussian" else torch.nn.functional.softplus(outputs)

    def loss(self, outputs: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        prediction = self.link(outputs)
        if self.observation == "gaussian":
            per_value = (prediction - batch.targets).square()
        else:
            per_value = torch.nn.functional.poisson_nll_loss(prediction, batch.targets, log_input=False,
                                                             full=False, reduction="none")
        weighted = per_value.mean(dim=-1) * batch.mask
        return weighted.sum(dim=(0, -1)) / batch.mask.sum(dim=(0, -1))

    def accuracy(self, outputs: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """R² of the batch per member (pooled over trials, steps and units, each unit about its own mean)."""
        prediction = self.link(outputs)
        mask = batch.mask.unsqueeze(-1)
        count = mask.sum(dim=(0, -2), keepdim=True).clamp(min=1)
        mean = (batch.targets * mask).sum(dim=(0, -2), keepdim=True) / count
        residual = ((prediction - batch.targets).square() * mask).sum(dim=(0, -2, -1))
        total = ((batch.targets - mean).square() * mask).sum(dim=(0, -2, -1))
        return 1.0 - residual / total.clamp(min=1e-12)


class ObservedTrials(Schedule):
    """Each member trains on batches drawn from its own pool of recorded trials (``pools[e]``: trial indices
    into the data set). With ``by_item`` the model is told, through :meth:`forward`, the positions of the
    batch's trials in member 0's pool (its items): what a model with per-trial weights needs. With
    ``batch_size`` None every step holds the whole pool, in order (few-shot problems are tiny)."""

    def __init__(self, data: Dataset, pools: Sequence[np.ndarray], member_seeds: Sequence[int], *,
                 batch_size: int | None, scorer: ObservedActivity, by_item: bool, total_steps: int) -> None:
        self.inputs = torch.from_numpy(data.inputs)
        self.targets = torch.from_numpy(data.observed)
        self.mask = torch.from_numpy(data.mask.astype(np.float32))
        self.pools = [torch.as_tensor(pool, dtype=torch.long) for pool in pools]
        self.batch_size, self.scorer, self.by_item, self.total_steps = batch_size, scorer, by_item, total_steps
        self.generators = member_generators(member_seeds, "observed")
        self.current = torch.zeros(0, dtype=torch.long)
        self.rows: list[dict[str, Any]] = []

    def sample(self) -> tuple[TaskBatch, ObservedActivity]:
        if self.batch_size is None:
            positions = [torch.arange(len(pool)) for pool in self.pools]
        else:
            positions = [torch.randint(len(pool), (min(self.batch_size, len(pool)),), generator=generator)
                         for pool, generator in zip(self.pools, self.generators, strict=True)]
        self.current = positions[0]
        trials = torch.stack([pool[position] for pool, position in zip(self.pools, positions, strict=True)])
        return self.batch(trials), self.scorer

    def batch(self, trials: torch.Tensor) -> TaskBatch:
        """The observed-activity batch of trials (members, B), time-major like a stacked task batch."""
        mask = self.mask[:, trials]
        return TaskBatch(inputs=self.inputs[:, trials], targets=self.targets[:, trials], mask=mask,
                         decision=mask > 0, labels=trials)

    def forward(self, model: Any, batch: TaskBatch, noise: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        if self.by_item:
            return model(batch.inputs, trials=self.current, noise=noise)
        return model(batch.inputs, noise=noise)

    def evaluate(self, model: Any, step: int, train_sums: torch.Tensor, count: int, penalty: torch.Tensor) -> str:
        means = train_sums / count
        for member in range(len(self.pools)):
            self.rows.append({"member": member, "step": step, "train_loss": float(means[0, member]),
                              "train_r2": float(means[1, member]), "penalty": float(penalty[member])})
        return (f"step {step}/{self.total_steps}  loss {float(means[0].mean()):.4f}  "
                f"train R2 {float(means[1].mean()):.3f}")

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.rows, "current": self.current}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rows, self.current = list(state["history"]), state["current"]


@dataclass
class Fit:
    """A trained fit: the model, its history, and the test-trial predictions (T, M_test, n_obs) with the
    embedding each test trial was predicted from (JEDI fits)."""

    name: str
    model: torch.nn.Module
    history: pd.DataFrame
    test_trials: np.ndarray
    predictions: np.ndarray
    context_embeddings: np.ndarray | None


def data_scorer(section: Mapping[str, Any]) -> ObservedActivity:
    return ObservedActivity(section["observation"]["model"])


def training_contexts(data: Dataset) -> list[int]:
    return [int(index) for index in np.flatnonzero(data.contexts["role"].to_numpy() == "train")]


def fit(name: str, data: Dataset, section: Mapping[str, Any], *, base_seed: int, checkpoint: Path | None = None,
        config_hash: str = "") -> Fit:
    """Train one fit (:data:`brainrnn.jedi.FITS`) on the training trials of the training contexts and predict
    every test trial of the training contexts (the context's mean embedding for the embedded fits); resume
    from ``checkpoint`` when it exists."""
    options = StudentOptions.from_config(section["model"])
    scorer = data_scorer(section)
    training = section["training"]
    contexts = training_contexts(data)
    seed = derive_seed(base_seed, "jedi", "fit", name)
    n_inputs, n_observed = data.inputs.shape[-1], data.observed.shape[-1]
    test_trials = data.trials("test", contexts)
    if name == "per_context":
        pools = [data.trials("train", [context]) for context in contexts]
        member_seeds = [derive_seed(seed, context) for context in contexts]
        network = LeakyRNN(engine_shape(options, n_inputs, n_observed, low_rank=True), member_seeds)
        _initialise_readout_bias(network.readout_bias, data, pools, scorer)
        schedule = ObservedTrials(data, pools, member_seeds, batch_size=training["batch_size"], scorer=scorer,
                                  by_item=False, total_steps=training["steps"])
        train_ensemble(network, schedule, TrainingOptions.from_config(training), checkpoint=checkpoint,
                       config_hash=config_hash)
        predictions = _predict_per_context(network, data, contexts, test_trials, scorer)
        return Fit(name, network, schedule.history(HISTORY), test_trials, predictions, None)
    items = data.trials("train", contexts)
    item_context = data.context[items]
    row = np.arange(len(items)) if options.embedding == "trial" else np.searchsorted(contexts, item_context)
    model = JediModel(options, n_inputs=n_inputs, n_observed=n_observed,
                      n_recordings=int(data.recording.max()) + 1,
                      item_recording=torch.as_tensor(data.recording[items]), item_row=torch.as_tensor(row),
                      low_rank=name != "full_rank", embedded=name != "shared", seed=seed)
    _initialise_readout_bias(model.readout_bias, data, [data.trials("train", [c]) for c in contexts], scorer,
                             recordings=[int(data.contexts["recording"].iloc[c]) for c in contexts])
    schedule = ObservedTrials(data, [items], [seed], batch_size=training["batch_size"], scorer=scorer, by_item=True,
                              total_steps=training["steps"])

    def prior(jedi: JediModel) -> torch.Tensor:
        embeddings = jedi.item_embeddings(schedule.current)
        return (options.prior_weight * 0.5 * embeddings.square().sum(dim=1).mean()).reshape(1)

    train_ensemble(model, schedule, TrainingOptions.from_config(training), penalty=prior if name != "shared" else None,
                   checkpoint=checkpoint, config_hash=config_hash)
    means = context_means(model, item_context, contexts)
    test_context = np.searchsorted(contexts, data.context[test_trials])
    predictions = predict(model, data, test_trials, means[test_context], scorer)
    return Fit(name, model, schedule.history(HISTORY), test_trials, predictions, means)


def context_means(model: JediModel, item_context: np.ndarray, contexts: Sequence[int]) -> np.ndarray:
    """Each training context's mean embedding over its training items (contexts, d)."""
    with torch.no_grad():
        embeddings = model.item_embeddings(torch.arange(len(item_context))).numpy()
    return np.stack([embeddings[item_context == context].mean(axis=0) for context in contexts])


def predict(model: JediModel, data: Dataset, trials: np.ndarray, embeddings: np.ndarray,
            scorer: ObservedActivity) -> np.ndarray:
    """Free-running predictions (T, len(trials), n_obs) of trials from their task inputs and given embeddings.

    Only the trials' inputs and recordings enter: never their observed activity."""
    index = torch.as_tensor(trials, dtype=torch.long)
    with torch.no_grad():
        outputs, _ = model(torch.from_numpy(data.inputs)[:, index],
                           embeddings=torch.as_tensor(embeddings, dtype=torch.float32),
                           recordings=torch.as_tensor(data.recording[trials], dtype=torch.long))
    return scorer.link(outputs[:, 0]).numpy()


def _predict_per_context(network: LeakyRNN, data: Dataset, contexts: Sequence[int], trials: np.ndarray,
                         scorer: ObservedActivity) -> np.ndarray:
    """Each test trial predicted by its own context's network."""
    predictions = np.zeros((data.inputs.shape[0], len(trials), data.observed.shape[-1]), dtype=np.float32)
    inputs = torch.from_numpy(data.inputs)
    with torch.no_grad():
        for member, context in enumerate(contexts):
            chosen = np.flatnonzero(data.context[trials] == context)
            single = LeakyRNN(network.shape, [0])
            single.load_state_dict(network.member_state_dict(member))
            outputs, _ = single(inputs[:, torch.as_tensor(trials[chosen], dtype=torch.long)])
            predictions[:, chosen] = scorer.link(outputs[:, 0]).numpy()
    return predictions


def _initialise_readout_bias(bias: torch.nn.Parameter, data: Dataset, pools: Sequence[np.ndarray],
                             scorer: ObservedActivity, *, recordings: Sequence[int] | None = None) -> None:
    """Start each readout at its observed units' mean (through the inverse link), so training starts at the
    mean rather than at zero."""
    with torch.no_grad():
        for index, pool in enumerate(pools):
            row = index if recordings is None else recordings[index]
            mask = data.mask[:, pool]
            mean = torch.as_tensor(data.observed[:, pool][mask].mean(axis=0), dtype=torch.float32)
            if scorer.observation == "poisson":
                mean = mean.clamp(min=1e-3)
                mean = mean + torch.log(-torch.expm1(-mean))  # softplus⁻¹
            bias[row] = mean


class FewShot(torch.nn.Module):
    """Embeddings inferred for new contexts from k trials each, the rest of a trained JEDI model frozen.

    One problem per (context, k); its embedding is shared by its k trials. Items are (problem, trial)
    pairs; ``members`` is 1, so the trainer optimises every problem at once (Adam is element-wise and the
    loss a sum over problems, so each problem's embedding moves as it would alone)."""

    item_problem: torch.Tensor
    item_recording: torch.Tensor

    def __init__(self, jedi: JediModel, problems: int, item_problem: np.ndarray, item_recording: np.ndarray,
                 init: torch.Tensor) -> None:
        super().__init__()
        self.jedi = jedi
        self.jedi.requires_grad_(False)
        self.shape = jedi.shape
        self.embeddings = torch.nn.Parameter(init.expand(problems, -1).clone())
        self.register_buffer("item_problem", torch.as_tensor(item_problem, dtype=torch.long))
        self.register_buffer("item_recording", torch.as_tensor(item_recording, dtype=torch.long))

    @property
    def members(self) -> int:
        return 1

    def forward(self, inputs: torch.Tensor, *, trials: torch.Tensor,
                noise: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.jedi(inputs, embeddings=self.embeddings[self.item_problem[trials]],
                         recordings=self.item_recording[trials], noise=noise)


@dataclass
class FewShotResult:
    """Per (context, k): the inferred embedding, and predictions of the context's test trials."""

    table: pd.DataFrame
    embeddings: np.ndarray
    test_trials: list[np.ndarray]
    predictions: list[np.ndarray]


def infer_new_contexts(model: JediModel, data: Dataset, section: Mapping[str, Any], *,
                       base_seed: int) -> FewShotResult:
    """Infer each held-out context's embedding from its first k few-shot trials, for every k (hypernetwork
    and readouts frozen), then predict its test trials from the task inputs."""
    few_shot = section["few_shot"]
    heldout = [int(index) for index in np.flatnonzero(data.contexts["role"].to_numpy() == "heldout")]
    problems = [(context, k) for context in heldout for k in few_shot["ks"]]
    if not problems:
        return FewShotResult(pd.DataFrame(columns=["context", "k"]), np.zeros((0, model.options.embedding_dim)),
                             [], [])
    pairs = [(index, trial) for index, (context, k) in enumerate(problems)
             for trial in data.trials("few_shot", [context])[:k]]
    items = np.array([trial for _, trial in pairs])
    inferred = FewShot(model, len(problems), np.array([problem for problem, _ in pairs]), data.recording[items],
                       torch.zeros(model.options.embedding_dim))
    scorer = data_scorer(section)
    seed = derive_seed(base_seed, "jedi", "few_shot")
    options = TrainingOptions(steps=few_shot["steps"], learning_rate=few_shot["learning_rate"], optimiser="adam",
                              momentum=0.0, clip_grad_norm=None, recurrent_noise=None, eval_every=few_shot["steps"],
                              checkpoint_every=few_shot["steps"] + 1)
    schedule = ObservedTrials(data, [items], [seed], batch_size=None, scorer=scorer, by_item=True,
                              total_steps=few_shot["steps"])
    weight = model.options.prior_weight

    def prior(few: FewShot) -> torch.Tensor:
        return (weight * 0.5 * few.embeddings.square().sum(dim=1).mean()).reshape(1)

    train_ensemble(inferred, schedule, options, penalty=prior)
    embeddings = inferred.embeddings.detach().numpy()
    rows, tests, predictions = [], [], []
    for index, (context, k) in enumerate(problems):
        test = data.trials("test", [context])
        tests.append(test)
        predictions.append(predict(model, data, test, np.repeat(embeddings[index:index + 1], len(test), axis=0),
                                   scorer))
        rows.append({"context": data.contexts["context"].iloc[context], "k": k})
    return FewShotResult(pd.DataFrame(rows), embeddings, tests, predictions)



def save_fit(result: Fit, path: str, *, config_hash: str, meta: dict[str, Any]) -> None:
    """Write a fit as a self-describing file: its state and what rebuilds it (:func:`load_fit`)."""
    from brainrnn.persistence import save_state

    model = result.model
    if isinstance(model, JediModel):
        build = {"kind": "jedi", "options": dataclasses.asdict(model.options), "n_inputs": model.shape.n_inputs,
                 "n_observed": model.shape.n_outputs, "n_recordings": int(model.readout_weight.shape[0]),
                 "n_items": int(model.item_row.shape[0]), "low_rank": model.low_rank, "embedded": model.embedded}
    else:
        assert isinstance(model, LeakyRNN), "a fit is a JEDI model or an ensemble of engine RNNs"
        build = {"kind": "ensemble", "shape": model.shape.as_dict(), "members": model.members}
    save_state({"state": model.state_dict(), "build": build, "config_hash": config_hash, "meta": meta}, path)


def load_fit(path: str) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a fit written by :func:`save_fit`."""
    from brainrnn.persistence import load_checked

    saved = load_checked(path, None)
    build = saved["build"]
    model: torch.nn.Module
    if build["kind"] == "jedi":
        items = torch.zeros(build["n_items"], dtype=torch.long)
        model = JediModel(StudentOptions(**build["options"]), n_inputs=build["n_inputs"],
                          n_observed=build["n_observed"], n_recordings=build["n_recordings"], item_recording=items,
                          item_row=items, low_rank=build["low_rank"], embedded=build["embedded"], seed=0)
        model.embeddings = torch.nn.Parameter(torch.zeros_like(saved["state"]["embeddings"]),
                                              requires_grad=build["embedded"])
    else:
        model = LeakyRNN(RNNShape(**build["shape"]), list(range(build["members"])))
    model.load_state_dict(saved["state"])
    return model, saved["meta"]
