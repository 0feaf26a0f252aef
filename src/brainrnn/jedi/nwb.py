"""Binned spike counts from an NWB file (pynwb), the form JEDI fits a real recording in.

An NWB file holds sorted units (``nwbfile.units``, each with its ``spike_times`` in seconds) and a trials
table (``start_time``, ``stop_time`` and any condition columns). Every trial is cut into bins of
``bin_ms`` from its start (a partial last bin is dropped); trials are left-aligned and padded to the
longest, with a mask marking the bins a trial has. The condition column, when given, labels each trial
(e.g. the reach direction of a reaching data set), the context JEDI embeds; :func:`recording_dataset`
turns the binned trials into the data set JEDI's fits take (Poisson observations).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from brainrnn.errors import InputError


@dataclass
class BinnedSpikes:
    """Spike counts (bins, trials, units), the mask of each trial's bins (bins, trials), the unit ids and
    each trial's condition label (empty strings without a condition column)."""

    counts: np.ndarray
    mask: np.ndarray
    unit_ids: np.ndarray
    conditions: np.ndarray
    bin_ms: float


def load_binned_spikes(path: str | Path, *, bin_ms: float, condition: str | None = None) -> BinnedSpikes:
    """Bin every unit's spikes within every trial of an NWB file (module docstring)."""
    from pynwb import NWBHDF5IO

    path = Path(path)
    if not path.is_file():
        raise InputError("the NWB file does not exist.", file=path, field="jedi.recording",
                         fix="give the path of an NWB file with units and trials.")
    with NWBHDF5IO(str(path), "r") as io:
        nwbfile = io.read()
        if nwbfile.units is None or len(nwbfile.units) == 0:
            raise InputError("the NWB file has no sorted units.", file=path, field="units",
                             fix="add the units table (spike_times per unit).")
        if nwbfile.trials is None or len(nwbfile.trials) == 0:
            raise InputError("the NWB file has no trials table.", file=path, field="trials",
                             fix="add trials with start_time and stop_time.")
        trials = nwbfile.trials.to_dataframe()
        if condition is not None and condition not in trials.columns:
            raise InputError(f"the trials table has no column '{condition}'.", file=path, field=condition,
                             fix=f"use one of: {', '.join(map(str, trials.columns))}.")
        spikes = [np.asarray(nwbfile.units["spike_times"][index], dtype=float) for index in range(len(nwbfile.units))]
        unit_ids = np.asarray(nwbfile.units.id[:])
    width = bin_ms / 1000.0
    starts, stops = trials["start_time"].to_numpy(dtype=float), trials["stop_time"].to_numpy(dtype=float)
    lengths = np.floor((stops - starts) / width + 1e-9).astype(int)
    if (lengths < 1).any():
        raise InputError(f"trial {int(np.argmin(lengths))} is shorter than one bin of {bin_ms} ms.", file=path,
                         field="trials", fix="use shorter bins or drop the trial.")
    counts = np.zeros((int(lengths.max()), len(trials), len(spikes)), dtype=np.float32)
    mask = np.arange(counts.shape[0])[:, None] < lengths[None, :]
    for trial, (start, length) in enumerate(zip(starts, lengths, strict=True)):
        edges = start + width * np.arange(length + 1)
        for unit, times in enumerate(spikes):
            counts[:length, trial, unit] = np.histogram(times, bins=edges)[0]
    labels = trials[condition].astype(str).to_numpy() if condition is not None else np.full(len(trials), "")
    return BinnedSpikes(counts, mask, unit_ids, labels, bin_ms)


def recording_dataset(binned: BinnedSpikes, *, test_fraction: float, seed: int) -> Any:
    """A :class:`brainrnn.jedi.simulate.Dataset` of a real recording, ready for :func:`brainrnn.jedi.train.fit`:
    one context per condition, one recording (the units), a ``test_fraction`` of each condition's trials held
    out. The task input is the trial's condition, one-hot, for the whole trial (e.g. the reach target shown
    to the animal): no recorded activity is ever an input. The noise-free rates are unknown; ``rates`` holds
    the counts, so the two R² columns agree."""
    from brainrnn.jedi.simulate import SPLITS, Dataset

    conditions = sorted(set(binned.conditions))
    index = np.array([conditions.index(label) for label in binned.conditions])
    inputs = np.zeros((*binned.mask.shape, len(conditions)), dtype=np.float32)
    inputs[:, np.arange(len(index)), index] = binned.mask
    rng = np.random.default_rng(seed)
    split = np.full(len(index), SPLITS.index("train"))
    for condition in range(len(conditions)):
        trials = rng.permutation(np.flatnonzero(index == condition))
        split[trials[:int(round(test_fraction * len(trials)))]] = SPLITS.index("test")
    contexts = pd.DataFrame({"context": conditions, "network": "recording", "kind": "recorded", "task": "recorded",
                             "role": "train", "frequency_hz": np.nan, "recording": 0, "input_offset": 0,
                             "input_width": len(conditions), "settings": "{}"})
    return Dataset(inputs, binned.counts, binned.counts, binned.mask, index, split, np.zeros(len(index), dtype=int),
                   contexts)
