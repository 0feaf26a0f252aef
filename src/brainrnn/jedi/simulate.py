"""Ground truth for JEDI: the teacher family, the contexts, and their trials observed through noise.

A *network* is a trained one-member engine RNN (a teacher, or a network another family trained); a
*context* is one network on one task condition (the sine teacher at one frequency, the memory
teacher on its task, a pipeline network on the task it was trained on). A fixed subset of
``n_observed`` units of each network is observed in every context. With ``shared_readout`` every
network is read as one population (the same unit indices, one *recording*, as when one set of neurons
is recorded while its connectivity changes across contexts): a model then has one readout, and what
differs between contexts must be in the dynamics. Otherwise each network is its own recording with
its own units and readout (different animals or sessions). Trials run
from rest with the task's inputs and recurrent (process) noise; what is observed is

* ``gaussian``: the units' activity plus N(0, (noise × unit std)²), the std over the network's trials;
* ``poisson``: spike counts per bin with rate ``max_rate_hz`` × (x − min) / (max − min) per unit
  (min and max over the network's trials), i.e. expected counts ``max_rate_hz × dt``.

Inputs share one space: each distinct task (name and settings other than the condition) has its own
block of input channels, zero in the other tasks' trials. Trials shorter than the longest are padded
with zero input and mask 0. Training contexts split their trials into training and test trials;
held-out contexts into a few-shot pool and test trials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from brainrnn.errors import InputError
from brainrnn.models.rnn import LeakyRNN
from brainrnn.seeding import derive_seed
from brainrnn.tasks.registry import make_task

SPLITS = ("train", "test", "few_shot")
"""Trial roles: ``train`` fits JEDI, ``test`` scores every fit, ``few_shot`` is the pool new contexts are
inferred from."""
CONDITION_KEYS = ("frequency_hz",)
"""Task settings that set a condition within one task (they do not open a new input block)."""


@dataclass(frozen=True)
class ContextSpec:
    """One context: a network, the task and settings its trials are drawn with, and whether it is held out."""

    name: str
    network: str
    task: str
    settings: dict[str, Any]
    heldout: bool
    frequency_hz: float | None = None
    kind: str = "teacher"

    @property
    def input_block(self) -> str:
        """The key of the context's input channels: the task and its settings, without the condition."""
        settings = {key: value for key, value in self.settings.items() if key not in CONDITION_KEYS}
        return f"{self.task} {json.dumps(settings, sort_keys=True)}"


@dataclass
class Dataset:
    """Every trial of every context, time-major: inputs (T, M, n_in), observed and noise-free rates
    (T, M, n_obs), mask (T, M); per trial its context, split and recording; the context table."""

    inputs: np.ndarray
    observed: np.ndarray
    rates: np.ndarray
    mask: np.ndarray
    context: np.ndarray
    split: np.ndarray
    recording: np.ndarray
    contexts: pd.DataFrame
    units: dict[str, np.ndarray] = field(default_factory=dict)

    def trials(self, split: str, contexts: Sequence[int] | None = None) -> np.ndarray:
        """Indices of the trials of one split (in the given contexts), in order."""
        chosen = self.split == SPLITS.index(split)
        if contexts is not None:
            chosen &= np.isin(self.context, np.asarray(contexts))
        return np.flatnonzero(chosen)

    def save(self, stream: Any) -> None:
        arrays = {"inputs": self.inputs, "observed": self.observed, "rates": self.rates, "mask": self.mask,
                  "context": self.context, "split": self.split, "recording": self.recording,
                  **{f"units_{name}": units for name, units in self.units.items()}}
        np.savez(stream, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: Any, contexts: pd.DataFrame) -> Dataset:
        with np.load(path) as saved:
            units = {key.removeprefix("units_"): saved[key] for key in saved.files if key.startswith("units_")}
            return cls(saved["inputs"], saved["observed"], saved["rates"], saved["mask"], saved["context"],
                       saved["split"], saved["recording"], contexts, units)


def teacher_contexts(section: Mapping[str, Any]) -> list[ContextSpec]:
    """The teacher family's contexts: the sine teacher at every training and held-out frequency, the memory
    teacher on its task (settings: the ``jedi.teachers`` section)."""
    sine, memory = section["sine"], section["memory"]
    sine_settings = {"dt_ms": section["dt_ms"], "duration_ms": sine["duration_ms"],
                     "frequency_range_hz": list(sine["frequency_range_hz"]), "input_noise": sine["input_noise"]}
    contexts = [ContextSpec(f"sine-{frequency:g}Hz", "sine", "sine", {**sine_settings, "frequency_hz": frequency},
                            heldout, float(frequency))
                for frequencies, heldout in ((sine["frequencies_hz"], False), (sine["heldout_frequencies_hz"], True))
                for frequency in frequencies]
    contexts.append(ContextSpec(f"memory-{memory['task']}", "memory", memory["task"], memory_settings(section),
                                bool(memory["heldout"])))
    return contexts


def sine_training_settings(section: Mapping[str, Any]) -> dict[str, Any]:
    """The sine teacher's training task: every frequency of the range."""
    sine = section["sine"]
    return {"dt_ms": section["dt_ms"], "duration_ms": sine["duration_ms"],
            "frequency_range_hz": list(sine["frequency_range_hz"]), "input_noise": sine["input_noise"]}


def memory_settings(section: Mapping[str, Any]) -> dict[str, Any]:
    """The memory teacher's task settings: the teachers' time step, the memory timing and the task's own."""
    memory = section["memory"]
    return {"dt_ms": section["dt_ms"], **memory["timing"], **memory["tasks"].get(memory["task"], {})}


def network_contexts(networks: Sequence[str], metas: Sequence[Mapping[str, Any]]) -> list[ContextSpec]:
    """One training context per pipeline network, on the task it was trained on."""
    return [ContextSpec(name, name, str(meta["task"]), dict(meta["task_settings"]), False, kind="pipeline")
            for name, meta in zip(networks, metas, strict=True)]


def input_layout(contexts: Sequence[ContextSpec]) -> dict[str, tuple[int, int]]:
    """The first channel and channel count of every input block, in order of first appearance."""
    layout: dict[str, tuple[int, int]] = {}
    offset = 0
    for spec in contexts:
        if spec.input_block not in layout:
            width = make_task(spec.task, **spec.settings).n_inputs
            layout[spec.input_block] = (offset, width)
            offset += width
    return layout


def observed_units(n_units: int, n_observed: int, seed: int, network: str) -> np.ndarray:
    """A fixed, sorted subset of a network's units (the same in all of its contexts)."""
    if n_observed > n_units:
        raise InputError(f"network '{network}' has {n_units} units; {n_observed} cannot be observed.",
                         field="jedi.observation.n_observed", fix=f"observe at most {n_units} units.")
    return np.sort(np.random.default_rng(seed).choice(n_units, size=n_observed, replace=False))


def simulate(networks: Mapping[str, LeakyRNN], contexts: Sequence[ContextSpec], observation: Mapping[str, Any],
             trials: Mapping[str, Any], *, seed: int) -> Dataset:
    """Draw every context's trials, run its network with process noise, observe its units (module docstring)."""
    layout = input_layout(contexts)
    n_inputs = sum(width for _, width in layout.values())
    names = list(dict.fromkeys(spec.network for spec in contexts))
    shared = observation["shared_readout"]
    recordings = {name: 0 if shared else index for index, name in enumerate(names)}
    units = {name: observed_units(networks[name].shape.n_hidden, observation["n_observed"],
                                  derive_seed(seed, "units", "" if shared else name), name) for name in names}
    blocks = []
    for index, spec in enumerate(contexts):
        task = make_task(spec.task, **spec.settings)
        counts = ((trials["few_shot"], trials["test"]) if spec.heldout else (trials["train"], trials["test"]))
        roles = ("few_shot", "test") if spec.heldout else ("train", "test")
        batch = task.sample(sum(counts), torch.Generator().manual_seed(derive_seed(seed, "trials", spec.name)))
        network = networks[spec.network]
        generator = torch.Generator().manual_seed(derive_seed(seed, "process", spec.name))
        noise = observation["process_noise"] * torch.randn(batch.n_steps, 1, batch.batch_size,
                                                           network.shape.n_hidden, generator=generator)
        with torch.no_grad():
            _, states = network(batch.inputs, noise=noise, running=batch.running)
        offset, width = layout[spec.input_block]
        inputs = np.zeros((batch.n_steps, batch.batch_size, n_inputs), dtype=np.float32)
        inputs[..., offset:offset + width] = batch.inputs.numpy()
        active = batch.mask > 0
        blocks.append({"inputs": inputs, "states": states[:, 0].numpy()[..., units[spec.network]],
                       "mask": active.numpy(), "context": np.full(batch.batch_size, index),
                       "split": np.repeat([SPLITS.index(role) for role in roles], counts),
                       "recording": np.full(batch.batch_size, recordings[spec.network]),
                       "network": np.full(batch.batch_size, names.index(spec.network))})
    steps = max(block["inputs"].shape[0] for block in blocks)
    rates = np.concatenate([_pad(block["states"], steps) for block in blocks], axis=1)
    mask = np.concatenate([_pad(block["mask"], steps) for block in blocks], axis=1)
    recording = np.concatenate([block["recording"] for block in blocks])
    network_of_trial = np.concatenate([block["network"] for block in blocks])
    observed, rates = _observe(rates, mask, network_of_trial, observation, derive_seed(seed, "observation"))
    table = pd.DataFrame([{"context": spec.name, "network": spec.network, "kind": spec.kind, "task": spec.task,
                           "role": "heldout" if spec.heldout else "train",
                           "frequency_hz": np.nan if spec.frequency_hz is None else spec.frequency_hz,
                           "recording": recordings[spec.network], "input_offset": layout[spec.input_block][0],
                           "input_width": layout[spec.input_block][1], "settings": json.dumps(spec.settings,
                                                                                              sort_keys=True)}
                          for spec in contexts])
    return Dataset(np.concatenate([_pad(block["inputs"], steps) for block in blocks], axis=1), observed, rates,
                   mask, np.concatenate([block["context"] for block in blocks]),
                   np.concatenate([block["split"] for block in blocks]), recording, table, units)


def _pad(values: np.ndarray, steps: int) -> np.ndarray:
    """Zero-pad the time axis (0) to ``steps``."""
    padding = [(0, steps - values.shape[0])] + [(0, 0)] * (values.ndim - 1)
    return np.pad(values, padding).astype(values.dtype)


def _observe(states: np.ndarray, mask: np.ndarray, network: np.ndarray, observation: Mapping[str, Any],
             seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Observed activity and its noise-free expectation (module docstring), with each network's unit statistics."""
    rng = np.random.default_rng(seed)
    rates = np.zeros_like(states, dtype=np.float32)
    for index in np.unique(network):
        trials = network == index
        values = states[:, trials]
        active = mask[:, trials]
        if observation["model"] == "gaussian":
            rates[:, trials] = values
        else:
            low, high = values[active].min(axis=0), values[active].max(axis=0)
            scaled = (values - low) / np.maximum(high - low, 1e-9)
            rates[:, trials] = observation["max_rate_hz"] * observation["bin_ms"] / 1000.0 * scaled
    rates *= mask[..., None]
    if observation["model"] == "gaussian":
        observed = rates.copy()
        for index in np.unique(network):
            trials = network == index
            spread = rates[:, trials][mask[:, trials]].std(axis=0)
            observed[:, trials] += observation["noise"] * spread * rng.standard_normal(
                observed[:, trials].shape).astype(np.float32)
        observed *= mask[..., None]
    else:
        observed = rng.poisson(np.clip(rates, 0, None)).astype(np.float32)
    return observed.astype(np.float32), rates
