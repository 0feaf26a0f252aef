"""Choice data sets: sessions of (action, state, reward), their train/validation/test split, and the TSV format.

A choice table has one row per trial with columns ``session``, ``trial``, ``action`` (0-based),
``state`` (the second-stage state in the two-stage task; elsewhere the chosen arm, and optional)
and ``reward`` (0 or 1); the workflow adds ``split``. Sessions may differ in length; in memory they
are right-padded (``valid`` marks the real trials). :func:`read_choice_table` checks a user's file
and names the row, the column and the fix of anything unusable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from brainrnn.errors import InputError
from brainrnn.lowrank import SPLITS

COLUMNS = ("session", "trial", "action", "state", "reward")


@dataclass(frozen=True)
class Choices:
    """Sessions × trials arrays (session-major): actions, options reached (state or arm), rewards (0/1),
    and ``valid`` (False on the padding after a shorter session's last trial)."""

    actions: np.ndarray
    options: np.ndarray
    rewards: np.ndarray
    valid: np.ndarray

    @property
    def sessions(self) -> int:
        return self.actions.shape[0]

    @property
    def trials(self) -> int:
        return self.actions.shape[1]

    def subset(self, sessions: np.ndarray) -> Choices:
        """The sessions selected by an index or boolean mask."""
        return Choices(self.actions[sessions], self.options[sessions], self.rewards[sessions], self.valid[sessions])

    def to_table(self, split: np.ndarray | Sequence[str]) -> pd.DataFrame:
        """One row per valid trial (the TSV format), with each session's split."""
        session, trial = np.nonzero(self.valid)
        return pd.DataFrame({"session": session, "trial": trial, "action": self.actions[session, trial],
                             "state": self.options[session, trial], "reward": self.rewards[session, trial].astype(int),
                             "split": np.asarray(split)[session]})


def task_dimensions(task: str, settings: Mapping[str, Any]) -> tuple[int, int]:
    """Actions and second-stage states of a reward task (without building it)."""
    if task == "two_stage":
        return 2, 2
    if task == "bandit":
        return int(settings["arms"]), 0
    return 2, 0


def from_table(table: pd.DataFrame) -> tuple[Choices, np.ndarray]:
    """Choices and the split of each session from a table sorted by session and trial (sessions keep their
    order of first appearance)."""
    codes, _ = pd.factorize(table["session"])
    lengths = np.bincount(codes)
    position = table.groupby(codes).cumcount().to_numpy()
    shape = (len(lengths), int(lengths.max()))
    arrays = {name: np.zeros(shape, dtype=float if name == "reward" else int) for name in ("action", "state", "reward")}
    for name, array in arrays.items():
        array[codes, position] = table[name].to_numpy()
    valid = np.zeros(shape, dtype=bool)
    valid[codes, position] = True
    split = (table.groupby(codes)["split"].first().to_numpy() if "split" in table
             else np.full(len(lengths), "", dtype=object))
    return Choices(arrays["action"], arrays["state"], arrays["reward"], valid), split


def split_choices(table: pd.DataFrame) -> dict[str, Choices]:
    """The sessions of each split of a choice table with a ``split`` column."""
    choices, split = from_table(table)
    return {part: choices.subset(split == part) for part in SPLITS}


def split_sessions(sessions: int, validation_fraction: float, test_fraction: float, seed: int) -> np.ndarray:
    """A random train / validation / test label per session (at least one session in each)."""
    if sessions < 3:
        raise ValueError("a choice data set needs at least 3 sessions to split into train, validation and test")
    validation = max(1, round(validation_fraction * sessions))
    test = max(1, round(test_fraction * sessions))
    if validation + test >= sessions:
        raise ValueError(f"{sessions} sessions leave none for training after {validation} + {test} held out")
    labels = np.array([SPLITS[2]] * test + [SPLITS[1]] * validation + [SPLITS[0]] * (sessions - validation - test),
                      dtype=object)
    return labels[np.random.default_rng(seed).permutation(sessions)]


def read_choice_table(path: str | Path, *, task: str, n_actions: int, n_states: int) -> pd.DataFrame:
    """A user's choice table, checked and sorted by session and trial (``state`` filled with the action
    where the task has no second stage and the column is absent)."""
    path = Path(path)
    fix_format = f"a tab-separated table with columns {', '.join(COLUMNS)} (see README, 'Low-rank')."
    if not path.is_file():
        raise InputError("the choice table does not exist.", file=path, field=f"lowrank.choices.{task}",
                         fix="correct the path, or set it to null to simulate the generating agent.")
    table = pd.read_csv(path, sep="\t", comment="#")
    raw = table.astype(str)
    required = [column for column in COLUMNS if not (column == "state" and n_states == 0)]
    for column in required:
        if column not in table.columns:
            raise InputError(f"missing column '{column}'.", file=path, field=column, fix=fix_format)
    if "state" not in table.columns:
        table["state"] = table["action"]
        raw["state"] = raw["action"]
    for column in COLUMNS[1:]:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() | (values != values.round())
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"data row {row + 1}: '{raw[column].iloc[row]}' is not a whole number.", file=path,
                             field=column, fix="use whole numbers (actions and states count from 0, rewards are 0/1).")
        table[column] = values.astype(int)
    _check_range(table, "action", n_actions, path)
    if n_states:
        _check_range(table, "state", n_states, path)
    _check_range(table, "reward", 2, path)
    duplicated = table.duplicated(["session", "trial"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        raise InputError(f"data row {row + 1}: trial {table['trial'].iloc[row]} of session "
                         f"{table['session'].iloc[row]} appears twice.", file=path, field="trial",
                         fix="give each trial of a session one row.")
    counts = table.groupby("session").size()
    if (counts < 2).any():
        raise InputError(f"session {counts.index[counts < 2][0]} has a single trial.", file=path, field="session",
                         fix="drop sessions with fewer than 2 trials.")
    if len(counts) < 3:
        raise InputError(f"{len(counts)} sessions; train, validation and test need at least one each.", file=path,
                         field="session", fix="provide at least 3 sessions.")
    return table.sort_values(["session", "trial"], kind="stable").reset_index(drop=True)[list(COLUMNS)]


def _check_range(table: pd.DataFrame, column: str, count: int, path: Path) -> None:
    outside = (table[column] < 0) | (table[column] >= count)
    if outside.any():
        row = int(np.flatnonzero(outside.to_numpy())[0])
        raise InputError(f"data row {row + 1}: {column} {table[column].iloc[row]} is outside 0..{count - 1}.",
                         file=path, field=column, fix=f"use 0..{count - 1} ({column}s are numbered from 0).")


def check_choice_tables(section: Mapping[str, Any]) -> None:
    """Read every configured choice table of the tasks that will be fitted (at parse time, before any job), so a
    broken file stops the run with its row, column and fix."""
    if "fit" not in section["modes"]:
        return
    for task in section["tasks"]:
        path = section["choices"]["tables"][task]
        if path is not None:
            n_actions, n_states = task_dimensions(task, section["task_settings"][task])
            read_choice_table(path, task=task, n_actions=n_actions, n_states=n_states)
