"""Atomic file writing and small table helpers shared by every stage.

Every output is written to a temporary name in the destination folder and renamed into place
only when complete, so an interrupted or failing job never leaves a partial result behind. The
temporary file is private while it is written; the finished file gets the permissions the
process's umask gives a new file (0644 under umask 022, 0664 under 002), so collaborators on a
shared cluster can read the results.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from brainrnn.errors import InputError


def current_umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting, then restore at once
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 less the umask."""
    return 0o666 & ~current_umask()


def new_folder_mode() -> int:
    """The mode ``mkdir`` gives a new folder: 0o777 less the umask."""
    return 0o777 & ~current_umask()


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
        os.chmod(tmp, new_file_mode())  # mkstemp makes it 0600
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


def read_json(path: str | os.PathLike[str]) -> Any:
    """A JSON document written by :func:`write_json` (or any UTF-8 JSON file)."""
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def write_npy(array: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Save one array atomically in ``.npy`` format."""
    with atomic_path(path) as tmp, open(tmp, "wb") as stream:
        np.save(stream, array, allow_pickle=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__} to JSON")


def check_results_folder(folder: str | os.PathLike[str], *, min_free_mb: float, setting: str) -> None:
    """Refuse to start when ``folder`` (or its nearest existing parent) cannot be written or is nearly full.

    Checked by creating and removing a file, since permission bits do not tell the whole story
    (root, read-only mounts, immutable folders).
    """
    target = Path(folder).absolute()
    existing = next(parent for parent in (target, *target.parents) if parent.exists())
    try:
        with tempfile.TemporaryFile(dir=existing, prefix=".brainrnn-write-check."):
            pass
    except OSError as error:
        raise InputError(f"cannot write results: {existing} is not writable ({error.strerror}).", file=existing,
                         fix="make the folder writable, or run from a working directory on a writable disk "
                             "(snakemake --directory DIR).") from None
    free_mb = shutil.disk_usage(existing).free / 2**20
    if free_mb < min_free_mb:
        raise InputError(f"only {free_mb:.0f} MB free on the disk of {existing}; at least {min_free_mb:g} MB are "
                         "needed.", file=existing, field=setting,
                         fix=f"free space on that disk, run on another disk, or lower '{setting}'.")
