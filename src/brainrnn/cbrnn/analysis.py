"""Analyses of trained cortico-cerebellar networks: cerebellar ablation (beside the plain RNN at the same N)
and the dimensionality of activity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from brainrnn.cbrnn import ABLATION_CONDITIONS, PLAIN_RNN
from brainrnn.models.cerebellum import Cerebellum
from brainrnn.models.rnn import LeakyRNN
from brainrnn.seeding import derive_seed
from brainrnn.tasks.base import stack_batches
from brainrnn.tasks.registry import make_task


@torch.no_grad()
def accuracy_at(model: LeakyRNN, task_name: str, level: int, *, trials: int, seed: int) -> float:
    """Test accuracy of a one-member network at one level, on trials that depend on ``seed`` and the level
    only (so two networks evaluated with one seed see the same trials)."""
    task = make_task(task_name, n_back=level)
    batch = stack_batches([task.sample(trials, torch.Generator().manual_seed(derive_seed(seed, level)))])
    outputs, _ = model(batch.inputs, running=batch.running)
    return float(task.accuracy(outputs, batch)[0])


def ablation_accuracy(model: LeakyRNN, plain: LeakyRNN, task_name: str, level: int, *, trials: int,
                      seed: int) -> pd.DataFrame:
    """Accuracy at one level of one CB-RNN member: intact, cerebellar bias removed, cerebellum re-initialised;
    and of the parameter-matched ``plain`` RNN (condition ``plain_rnn``) on the same trials."""
    cerebellum = model.bias_hook
    if not isinstance(cerebellum, Cerebellum):
        raise ValueError("ablation needs a CB-RNN")
    original = {name: value.clone() for name, value in cerebellum.state_dict().items()}
    rows = []
    for condition in ABLATION_CONDITIONS:
        cerebellum.load_state_dict(original)
        cerebellum.enabled = condition != "no_cerebellum"
        if condition == "reinitialised_cerebellum":
            cerebellum.reinitialise(0, derive_seed(seed, "reinitialise"))
        rows.append({"condition": condition, "level": level,
                     "accuracy": accuracy_at(model, task_name, level, trials=trials, seed=seed)})
    cerebellum.load_state_dict(original)
    cerebellum.enabled = True
    rows.append({"condition": PLAIN_RNN, "level": level,
                 "accuracy": accuracy_at(plain, task_name, level, trials=trials, seed=seed)})
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
    assert batch.running is not None, "the binary sequence tasks mark when each trial runs"
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
