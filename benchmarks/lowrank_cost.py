"""Cost of the low-rank family's training jobs: seconds per epoch of each job kind at a config's sizes.

Times a few epochs of every job kind (fit and act; premature, mature and the tiny GRUs of every size)
on one CPU thread and prints, per kind, the CPU seconds per epoch (process time, so other processes on
a shared machine do not inflate it) and the CPU-minutes of a full job at the configured epoch budget
(fit jobs stop early, so theirs is an upper bound). Run it from the repository:

    .venv/bin/python benchmarks/lowrank_cost.py                                   # the demo (config/config.yaml)
    .venv/bin/python benchmarks/lowrank_cost.py config/lowrank_study.yaml         # the study, layered over it
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import torch
import yaml

from brainrnn.config import load_schema, validate_config
from brainrnn.lowrank.choices import split_choices
from brainrnn.lowrank.train import simulate_choices, train_developmental, train_grus

ROOT = Path(__file__).resolve().parents[1]
TIMED_EPOCHS = 3


def merge(base: dict, update: dict) -> None:
    """Deep-update ``base`` with ``update``, as Snakemake layers --configfiles."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value


def settings(overlays: list[str]) -> dict:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    for overlay in overlays:
        merge(config, yaml.safe_load((ROOT / overlay).read_text()))
    return validate_config(config, load_schema(ROOT / "config" / "schemas", "config"))["lowrank"]


def timed(section: dict, mode: str, task: str, configuration: str, data: list | None) -> float:
    """CPU seconds per epoch of one job kind (set-up and the final measurement included, spread over the epochs)."""
    short = copy.deepcopy(section)
    short["fit"]["patience"] = short["fit"]["max_epochs"] = TIMED_EPOCHS
    short["act"]["epochs"] = TIMED_EPOCHS
    short["analysis"]["test_sessions"] = 1
    start = time.process_time()
    if configuration == "gru":
        train_grus(mode, task, short, list(section["seeds"]), 1, data)
    else:
        train_developmental(mode, task, configuration, short, list(section["seeds"]), 1, data)
    return (time.process_time() - start) / TIMED_EPOCHS


def main() -> None:
    torch.set_num_threads(1)
    section = settings(sys.argv[1:])
    print(f"{len(section['seeds'])} seeds; GRU sizes {section['gru']['units']} x {len(section['gru']['l1'])} L1; "
          f"fit budget {section['fit']['max_epochs']} epochs, act budget {section['act']['epochs']} epochs")
    print(f"{'mode':5} {'task':10} {'configuration':13} {'s / epoch':>10} {'CPU-min / job':>14}")
    total = 0.0
    for task in section["tasks"]:
        data = None
        if "fit" in section["modes"]:
            data = [split_choices(simulate_choices(task, section, seed, 1).table) for seed in section["seeds"]]
        for mode in section["modes"]:
            epochs = section["fit"]["max_epochs"] if mode == "fit" else section["act"]["epochs"]
            for configuration in section["configurations"]:
                seconds = timed(section, mode, task, configuration, data if mode == "fit" else None)
                total += seconds * epochs / 60
                print(f"{mode:5} {task:10} {configuration:13} {seconds:10.3f} {seconds * epochs / 60:14.1f}")
    print(f"training, every job at its full budget: {total:.0f} CPU-minutes")


if __name__ == "__main__":
    main()
