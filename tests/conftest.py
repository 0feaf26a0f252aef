"""Shared fixtures: the project root, schema defaults, a runner for Snakemake in a scratch folder."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from brainrnn.config import default_config

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
SCHEMAS = ROOT / "config" / "schemas"
DEFAULTS = default_config(SCHEMAS)
pytest_plugins = ["chromium"]  # the session fixture that finds or installs a headless browser


def section(path: str, **overrides: Any) -> dict[str, Any]:
    """A config section at its schema defaults (dotted path, e.g. 'gradreg.training'), some keys overridden."""
    value: Any = DEFAULTS
    for key in path.split("."):
        value = value[key]
    result = copy.deepcopy(value)
    merge_config(result, overrides)
    return result


def train_fixed(model, task, member_seeds, *, eval_seed: int, penalty=None, checkpoint=None, config_hash: str = "",
                **training: Any):
    """Train on one task with the trainer's schema defaults (gradreg.training) and ``training`` overrides;
    return the schedule (history, criterion steps, plateau) and the run."""
    from brainrnn.training import FixedTask, TrainingOptions, train_ensemble

    settings = section("gradreg.training", **training)
    schedule = FixedTask.from_config(task, member_seeds, settings, eval_seed=eval_seed)
    run = train_ensemble(model, schedule, TrainingOptions.from_config(settings), penalty=penalty,
                         checkpoint=checkpoint, config_hash=config_hash)
    return schedule, run


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture
def one_torch_thread():
    """Small networks train several times faster on one thread than on two shared ones."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def make_workdir(path: Path, config_overrides: dict | None = None, subjects: str | None = None) -> Path:
    """A scratch working directory with the project's config and resources, for one Snakemake run."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "config", path / "config", dirs_exist_ok=True)
    if not (path / "resources").exists():
        (path / "resources").symlink_to(ROOT / "resources")
    if subjects is not None:
        (path / "config" / "subjects.tsv").write_text(subjects)
    if config_overrides:
        config = yaml.safe_load((path / "config" / "config.yaml").read_text())
        merge_config(config, config_overrides)
        (path / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def merge_config(base: dict, update: dict) -> None:
    """Deep-update ``base`` with ``update``, as Snakemake layers --configfiles."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = value


def run_snakemake(workdir: Path, *args: str, timeout: int = 900, cores: int = 2) -> subprocess.CompletedProcess:
    """Run the project's Snakefile with ``workdir`` as working directory; stdout and stderr merged."""
    command = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--profile", str(ROOT / "profiles" / "local"), "--cores", str(cores), *args]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                          env=env, cwd=workdir)


def planned_jobs(dry_run_output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job in a Snakemake dry run's job listing."""
    jobs: list[tuple[str, dict[str, str]]] = []
    for line in dry_run_output.splitlines():
        if match := re.match(r"^(?:local)?rule (\w+):$", line.strip()):
            jobs.append((match.group(1), {}))
        elif (match := re.match(r"^wildcards: (.+)$", line.strip())) and jobs:
            jobs[-1][1].update(item.split("=", 1) for item in match.group(1).split(", "))
    return jobs
