"""Tables of the low-rank family: per run, per configuration × task × mode over seeds, and the predictions.

Summary statistics over seeds: mean, SEM and the 95% t-interval (``*_ci_low``, ``*_ci_high``).
The predictions table holds the source's expected-results table (premature vs mature) beside our
measurements: per prediction, mode and task, each configuration's mean [95% CI], the paired
difference mature − premature over seeds (each seed index is one data set / set of environments
shared by both), a two-sided paired t-test, Holm's correction over every row tested, and
"confirmed" when the difference has the predicted sign and p_holm < 0.05.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from brainrnn.lowrank import SPLITS
from brainrnn.stats import holm

MEASURES = ("nll", "nll_excess", "reward_rate", "p_best", "trials_to_adapt", "adaptation_tau", "common_rewarded",
            "rare_rewarded", "common_unrewarded", "rare_unrewarded", "mf_index", "mb_index", "effective_rank_plain",
            "effective_rank_squared", "decay_gamma", "nuclear_norm", "heterogeneity", "heterogeneity_variance",
            "activity_participation_ratio", "n_fixed_points", "n_stable", "max_abs_eigenvalue")
"""Per-run measures summarised over seeds (``nll`` = held-out test NLL per trial; ``nll_excess`` = nll − the
generating agent's own test NLL on the same sessions)."""
KEYS = ["mode", "task", "configuration"]
SERIES = ("singular_values", "adaptation_curve", "adaptation_lags")


@dataclass(frozen=True)
class Prediction:
    """One row of the source's expected-results table: the measure, what the source expects of each
    configuration, the sign of mature − premature it implies, and what the source's own run reported."""

    measure: str
    label: str
    premature: str
    mature: str
    sign: int
    source_run: str
    tasks: tuple[str, ...] | None = None
    modes: tuple[str, ...] | None = None

    def applies(self, mode: str, task: str) -> bool:
        return (self.tasks is None or task in self.tasks) and (self.modes is None or mode in self.modes)


PREDICTIONS = (
    Prediction("effective_rank_plain", "effective rank (Σσ)²/Σσ²", "~7-8", "~5-6", -1, "4.32 vs 2.43 (definition "
               "not stated; its code uses σ²)"),
    Prediction("effective_rank_squared", "effective rank (Σσ²)²/Σσ⁴", "~7-8", "~5-6", -1, "4.32 vs 2.43"),
    Prediction("decay_gamma", "singular-value decay γ̂", "~0.2", "~0.4", 1, "not reported"),
    Prediction("heterogeneity", "response heterogeneity (CV of input sensitivity)", "lower", "higher", 1,
               "indistinguishable"),
    Prediction("trials_to_adapt", "trials to adapt after a reversal", "slower", "faster", -1, "not measured",
               tasks=("reversal",), modes=("act",)),
    Prediction("adaptation_tau", "time constant of P(new best) after a reversal", "slower", "faster", -1,
               "not measured", tasks=("reversal",), modes=("act",)),
    Prediction("mb_index", "model-based index (reward × transition)", "less model-based", "more model-based", 1,
               "not measured", tasks=("two_stage",), modes=("act",)),
)

PREDICTION_COLUMNS = ["prediction", "measure", "mode", "task", "source_premature", "source_mature", "predicted_sign",
                      "source_run", "n_pairs", *(f"{name}_{part}" for name in ("premature", "mature", "difference")
                                                 for part in ("mean", "sem", "ci_low", "ci_high")),
                      "t", "p", "p_holm", "verdict"]


def runs_table(records: Sequence[Mapping[str, Any]], fixed_points: pd.DataFrame | None,
               ceilings: Mapping[tuple[str, int], float]) -> pd.DataFrame:
    """One row per trained run (the selected GRU per seed and size) with its scalar measures, fixed-point
    measures (low-rank networks) and the ceiling of its data set (fit mode)."""
    rows = []
    for record in records:
        row = {key: value for key, value in record.items() if key not in SERIES and key != "provenance"
               and not isinstance(value, dict | list)}
        row["nll"] = row.pop("nll_test", math.nan)
        row["nll_ceiling"] = ceilings.get((row["task"], row["seed"]), math.nan) if row["mode"] == "fit" else math.nan
        row["nll_excess"] = row["nll"] - row["nll_ceiling"]
        rows.append(row)
    runs = pd.DataFrame(rows)
    if fixed_points is not None and len(fixed_points):
        runs = runs.merge(fixed_points, on=[*KEYS, "seed"], how="left", validate="one_to_one")
    return runs


def interval(values: np.ndarray) -> dict[str, float]:
    """Mean, SEM and the 95% t-interval of the finite values (NaN where fewer than two)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"": math.nan, "_sem": math.nan, "_ci_low": math.nan, "_ci_high": math.nan}
    mean = float(values.mean())
    if values.size < 2:
        return {"": mean, "_sem": math.nan, "_ci_low": math.nan, "_ci_high": math.nan}
    sem = float(values.std(ddof=1) / math.sqrt(values.size))
    half = float(stats.t.ppf(0.975, values.size - 1)) * sem
    return {"": mean, "_sem": sem, "_ci_low": mean - half, "_ci_high": mean + half}


def summary_table(runs: pd.DataFrame, cognitive: pd.DataFrame, choice_records: Sequence[Mapping[str, Any]],
                  configurations: Sequence[str]) -> pd.DataFrame:
    """One row per mode × task × configuration (networks), per fitted cognitive model and per generating agent
    (fit mode): n_seeds, chance and ceiling NLL, and every measure as mean, SEM and 95% CI over seeds."""
    agents = pd.DataFrame([{key: value for key, value in record.items() if not isinstance(value, dict | list)}
                           for record in choice_records])
    rows = []
    order = {name: index for index, name in enumerate(configurations)}
    for (mode, task, configuration), block in runs.groupby(KEYS, sort=False):
        rows.append(_row(mode, task, configuration, "network", block, agents))
    for (task, model), block in cognitive.groupby(["task", "model"], sort=False):
        fitted = block.rename(columns={"nll_test": "nll"})
        fitted["nll_excess"] = fitted["nll"] - fitted["nll_ceiling"]
        rows.append(_row("fit", task, model, "cognitive model", fitted, agents))
    if len(agents) and agents["agent"].notna().any():
        for (task, agent), block in agents.groupby(["task", "agent"], sort=False):
            generated = block.rename(columns={"nll_ceiling_test": "nll"}).assign(nll_excess=0.0)
            rows.append(_row("fit", task, agent, "generating agent", generated, agents))
    table = pd.DataFrame(rows)
    table["_order"] = table["configuration"].map(lambda name: order.get(name.split("-")[0], len(order)))
    kinds = {"network": 0, "cognitive model": 1, "generating agent": 2}
    table["_kind"] = table["kind"].map(kinds)
    return table.sort_values(["mode", "task", "_kind", "_order", "units"], kind="stable", na_position="first").drop(
        columns=["_order", "_kind"]).reset_index(drop=True)


def _row(mode: str, task: str, configuration: str, kind: str, block: pd.DataFrame,
         agents: pd.DataFrame) -> dict[str, Any]:
    task_agents = agents[agents["task"] == task] if len(agents) else agents
    row: dict[str, Any] = {"mode": mode, "task": task, "configuration": configuration, "kind": kind,
                           "units": block["units"].iloc[0] if "units" in block else math.nan, "n_seeds": len(block),
                           "nll_chance": float(task_agents["nll_chance"].iloc[0]) if len(task_agents) else math.nan,
                           "nll_ceiling": (float(task_agents["nll_ceiling_test"].mean()) if mode == "fit"
                                           and len(task_agents) else math.nan)}
    for measure in MEASURES:
        values = block[measure].to_numpy(dtype=float) if measure in block else np.array([])
        row.update({f"{measure}{suffix}": value for suffix, value in interval(values).items()})
    return row


def predictions_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The source's expected results beside ours, with the paired test per row (module docstring)."""
    rows = []
    for prediction in PREDICTIONS:
        if prediction.measure not in runs:
            continue
        for (mode, task), block in runs.groupby(["mode", "task"], sort=False):
            if not prediction.applies(mode, task):
                continue
            pairs = block.pivot_table(index="seed", columns="configuration", values=prediction.measure, dropna=False)
            if not {"premature", "mature"} <= set(pairs.columns):
                continue
            pairs = pairs[["premature", "mature"]].dropna()
            difference = (pairs["mature"] - pairs["premature"]).to_numpy()
            tested = len(difference) >= 2 and np.ptp(difference) > 0
            result = stats.ttest_rel(pairs["mature"], pairs["premature"]) if tested else None
            row = {"prediction": prediction.label, "measure": prediction.measure, "mode": mode, "task": task,
                   "source_premature": prediction.premature, "source_mature": prediction.mature,
                   "predicted_sign": "mature > premature" if prediction.sign > 0 else "mature < premature",
                   "source_run": prediction.source_run, "n_pairs": len(difference)}
            for name, values in (("premature", pairs["premature"]), ("mature", pairs["mature"]),
                                 ("difference", difference)):
                row.update({f"{name}{suffix}": value for suffix, value in interval(np.asarray(values)).items()})
            row["t"] = float(result.statistic) if result is not None else math.nan
            row["p"] = float(result.pvalue) if result is not None else math.nan
            rows.append(row)
    if not rows:
        return pd.DataFrame(columns=PREDICTION_COLUMNS)
    table = pd.DataFrame(rows).rename(columns={name: f"{name}_mean" for name in ("premature", "mature", "difference")})
    table["p_holm"] = holm(table["p"].tolist())
    sign = table["measure"].map({prediction.measure: prediction.sign for prediction in PREDICTIONS})
    table["verdict"] = [
        "not tested" if not math.isfinite(p) else
        "confirmed" if p < 0.05 and np.sign(difference) == expected else "not confirmed"
        for p, difference, expected in zip(table["p_holm"], table["difference_mean"], sign, strict=True)]
    return table


def series_table(records: Sequence[Mapping[str, Any]], name: str, index: str) -> pd.DataFrame:
    """A long table of one per-run series (singular values by index, the adaptation curve by lag)."""
    rows = []
    for record in records:
        values = record.get(name) or []
        positions = record.get("adaptation_lags") if name == "adaptation_curve" else range(len(values))
        for position, value in zip(positions or [], values, strict=True):
            rows.append({**{key: record[key] for key in (*KEYS, "seed")}, index: position, name: value})
    return pd.DataFrame(rows, columns=[*KEYS, "seed", index, name])


def cognitive_rows(task: str, seed: int, fits: Sequence[Any], splits: Mapping[str, float],
                   scores: Mapping[str, Mapping[str, float]], record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows of the cognitive-model table of one seed: fitted parameters, NLL per split, the generating truth."""
    rows = []
    for fit in fits:
        row = {"task": task, "seed": seed, "model": fit.model, "n_parameters": fit.n_parameters,
               **{f"nll_{part}": scores[fit.model][part] for part in SPLITS},
               "nll_ceiling": record.get("nll_ceiling_test", math.nan), "generating_agent": record.get("agent"),
               "n_trials_train": splits["train"]}
        row.update({f"fitted_{name}": value for name, value in fit.parameters.items()})
        if record.get("agent") == fit.model:
            row.update({f"true_{name}": value for name, value in record["agent_parameters"].items()})
        rows.append(row)
    return rows
