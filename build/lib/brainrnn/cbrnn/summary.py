"""Tables of the cortico-cerebellar family: curriculum measures per run and group, ablation, dimensionality."""

from __future__ import annotations

import numpy as np
import pandas as pd

from brainrnn.cbrnn import RUN_MEASURES


def curriculum_metrics(levels_by_epoch: np.ndarray) -> dict[str, float]:
    """Max, final and mean level, and the area under the level-against-epoch curve."""
    levels = np.asarray(levels_by_epoch, dtype=float)
    return {"max_level": float(levels.max()), "final_level": float(levels[-1]), "mean_level": float(levels.mean()),
            "auc": float(np.trapezoid(levels, dx=1.0)) if levels.size > 1 else float(levels.sum())}


def epochs_to_level(levels_by_epoch: np.ndarray, level: float) -> float:
    """First epoch (1-based) at which the level reaches ``level``; NaN if never."""
    reached = np.flatnonzero(np.asarray(levels_by_epoch) >= level)
    return float(reached[0] + 1) if reached.size else float("nan")


def summarise_runs(runs: pd.DataFrame, histories: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-run metrics with epochs to half of the global max N, and their mean and SEM per group."""
    global_max = float(histories["level"].max())
    runs = runs.copy()
    runs["epochs_to_half_max"] = [
        epochs_to_level(histories.loc[(histories["group"] == row.group) & (histories["seed"] == row.seed),
                                      "level"].to_numpy(), global_max / 2)
        for row in runs.itertuples()]
    rows = []
    for group, block in runs.groupby("group", sort=False):
        row = {"group": group, "n_seeds": len(block), "n_parameters": int(block["n_parameters"].iloc[0]),
               "global_max_level": global_max}
        for measure in RUN_MEASURES:
            values = block[measure].to_numpy(dtype=float)
            row[f"{measure}_mean"] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            row[f"{measure}_sem"] = float(pd.Series(values).sem()) if len(values) > 1 else float("nan")
        rows.append(row)
    return runs, pd.DataFrame(rows)


def summarise_ablation(ablation: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy per condition and level over seeds, and the drop from the intact network."""
    table = ablation.groupby(["condition", "level"], as_index=False)["accuracy"].agg(["mean", "sem", "count"])
    table = table.rename(columns={"mean": "accuracy_mean", "sem": "accuracy_sem", "count": "n_seeds"})
    intact = table[table["condition"] == "intact"].set_index("level")["accuracy_mean"]
    table["drop_from_intact"] = table["level"].map(intact) - table["accuracy_mean"]
    return table


def summarise_dimensionality(dimensionality: pd.DataFrame) -> pd.DataFrame:
    """Mean participation ratio, timescale and active units per group and module over seeds."""
    return dimensionality.groupby(["group", "module"], as_index=False, sort=False)[
        ["participation_ratio", "timescale_steps", "active_units"]].mean()
