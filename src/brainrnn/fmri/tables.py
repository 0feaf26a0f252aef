"""Reading and checking the fMRI stages' per-region tables (no BrainSpace, so every stage can use it)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from brainrnn.errors import InputError


def check_gradients(frame: pd.DataFrame, *, file: str, subject: str | None = None) -> None:
    """Refuse gradient tables with NaN or no G1 column."""
    if "G1" not in frame.columns:
        raise InputError("no G1 column.", file=file, subject=subject, field="G1",
                         fix="regenerate the gradients with the gradients rule.")
    if not np.isfinite(frame.to_numpy(dtype=float)).all():
        raise InputError("NaN or infinite gradient values.", file=file, subject=subject, field="gradients",
                         fix="check the subject's FC for constant regions and rerun the gradients rule.")


def read_region_tables(paths: Sequence[str], subjects: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Per-subject tables indexed by region (gradients, timescales), keyed by subject."""
    return {subject: pd.read_csv(path, sep="\t", index_col="region")
            for subject, path in zip(subjects, paths, strict=True)}
