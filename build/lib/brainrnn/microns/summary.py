"""Tables of the MICrONS-constrained family: per run, and per mode × field × variant × task beside the authors'."""

from __future__ import annotations

import pandas as pd

MEASURES = ("final_accuracy", "train_accuracy_last", "modularity", "small_worldness", "assortativity",
            "weight_entropy_bits", "n_fixed_points", "max_abs_eigenvalue")
KEYS = ["mode", "field", "variant", "task"]
APPLIED = ["lambda", "lambda_emd"]
"""Penalty strengths a run applied: fixed per mode × field × variant (rescaled in matched mode)."""


def summarise(runs: pd.DataFrame, fixed_points: pd.DataFrame, reported: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                                                pd.DataFrame]:
    """Per-run table with fixed-point measures, and mean/SEM per mode × field × variant × task with the
    λ and λ_EMD applied and the authors' reported accuracy beside ours."""
    runs = runs.astype({"field": str}).merge(
        fixed_points.drop(columns=["family"], errors="ignore").astype({"field": str}),
        on=[*KEYS, "seed"], how="left", validate="one_to_one")
    grouped = runs.groupby(KEYS, sort=False)
    summary = grouped[APPLIED].first().join(grouped[list(MEASURES)].mean().add_suffix("_mean")).join(
        grouped[list(MEASURES)].sem().add_suffix("_sem")).join(grouped.size().rename("n_seeds")).reset_index()
    authors = reported.melt(id_vars="task", var_name="variant", value_name="reported_accuracy")
    summary = summary.merge(authors, on=["task", "variant"], how="left")
    return runs, summary
