"""Atomic file writing and small table helpers shared by every stage.

Every output is written to a temporary name in the destination folder and renamed into place
only when complete, so an interrupted or failing job never leaves a partial result behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> None:
    """Write a tab-separated table atomically, with floats at full precision."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, sep="\t", index=index, float_format="%.10g", lineterminator="\n")


def write_json(data: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a JSON document atomically with sorted keys (stable bytes on rerun)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_npy(array: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Save one array atomically in ``.npy`` format."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as stream:
            np.save(stream, array, allow_pickle=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def read_region_tables(paths: list[str], subjects: list[str]) -> dict[str, pd.DataFrame]:
    """Per-subject tables indexed by region (gradients, timescales), keyed by subject."""
    return {subject: pd.read_csv(path, sep="\t", index_col="region") for subject, path in zip(subjects, paths)}
