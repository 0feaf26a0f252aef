"""Saving and loading what training produces: checkpoints, trained members and their records.

Every file is written atomically through a stream (no temporary name inside the bytes, so reruns
are byte-identical) and read back with ``torch.load(weights_only=True)``, refusing corrupt files,
files of another configuration and files of an older format with a message that names the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from brainrnn.errors import InputError
from brainrnn.io import atomic_path, write_json, write_table
from brainrnn.models.hooks import build_hook, describe_hook
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.provenance import config_hash, provenance


def save_state(state: dict[str, Any], path: str | Path) -> None:
    """``torch.save`` atomically; through a stream so the temporary name is not written into the file."""
    with atomic_path(path) as tmp, open(tmp, "wb") as stream:
        torch.save(state, stream)


def load_checked(path: str | Path, config_hash: str | None) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` with clear errors for corrupt or foreign files."""
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # torch raises several types for truncated or foreign files
        raise InputError(f"corrupted or unreadable file ({type(error).__name__}: {error}).", file=path,
                         field="checkpoint", fix="delete it; the rule will recompute it.") from error
    if not isinstance(state, dict) or "config_hash" not in state:
        raise InputError("not a checkpoint of this pipeline (no config hash).", file=path, field="checkpoint",
                         fix="delete it; the rule will recompute it.")
    if config_hash is not None and state["config_hash"] != config_hash:
        raise InputError(f"written under another configuration (hash {state['config_hash']}, expected "
                         f"{config_hash}).", file=path, field="config_hash",
                         fix="delete the file, or restore the configuration it was made with.")
    return state


def save_member(model: LeakyRNN, member: int, path: str | Path, *, config_hash: str, meta: dict[str, Any]) -> None:
    """Write one member as a self-describing file loadable with ``torch.load(weights_only=True)``."""
    save_state({"state": model.member_state_dict(member), "shape": model.shape.as_dict(), "config_hash": config_hash,
                "meta": meta, "hook": describe_hook(model.bias_hook)}, path)


def load_member(path: str | Path, *, config_hash: str | None = None) -> tuple[LeakyRNN, dict[str, Any]]:
    """Rebuild a one-member model saved by :func:`save_member`; refuse corrupt or foreign files."""
    saved = load_checked(path, config_hash)
    model = LeakyRNN(RNNShape(**saved["shape"]), [0], bias_hook=build_hook(saved.get("hook")))
    model.load_state_dict(saved["state"])
    return model, saved["meta"]


def write_members(model: LeakyRNN, records: Sequence[dict[str, Any]], settings: Any, *,
                  meta: Callable[[dict[str, Any]], dict[str, Any]], models: Sequence[str],
                  histories: Sequence[str] | None = None, history: pd.DataFrame | None = None,
                  metrics: Sequence[str] | None = None) -> None:
    """Save every member of a trained ensemble: its network (with ``meta(record)``), its rows of the
    training ``history`` and its metrics record with provenance (config hash of ``settings``, seed,
    package versions, git revision). Member ``e`` is ``records[e]`` and the ``e``-th path of each list."""
    digest = config_hash(settings)
    for member, record in enumerate(records):
        save_member(model, member, models[member], config_hash=digest, meta=meta(record))
        if histories is not None and history is not None:
            write_table(history[history["member"] == member].drop(columns="member"), histories[member])
        if metrics is not None:
            write_json({**record, "provenance": provenance(settings, record["member_seed"])}, metrics[member])
