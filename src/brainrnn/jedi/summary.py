"""Tables of the JEDI family: per context, per fit, classification from the embeddings, few-shot, frequency.

**Classification.** Each training trial's embedding is labelled by its context (and, separately, by its
task). A linear discriminant (class means, pooled covariance shrunk toward its mean diagonal by
``shrinkage``) is scored by stratified ``folds``-fold cross-validation; chance is the largest class's
share; the control refits with the labels shuffled ``n_shuffles`` times, and p is the share of
shuffles scoring at least the real accuracy (+1 in numerator and denominator).

**Frequency.** Spearman ρ across the sine contexts between frequency and the imaginary part of the
leading Jacobian eigenvalue at the main fixed point, for the teacher and for the decoded networks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from brainrnn.jedi import SUMMARY_COLUMNS, baseline_column, few_shot_column
from brainrnn.stats import mean_ci


def stratified_folds(labels: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold index per sample, each class dealt round-robin over the folds in a random order."""
    assignment = np.zeros(len(labels), dtype=int)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        assignment[members] = np.arange(len(members)) % folds
    return assignment


def discriminant_predict(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray,
                         shrinkage: float) -> np.ndarray:
    """Linear discriminant: the class whose mean is nearest in the metric of the shrunk pooled covariance."""
    classes = np.unique(train_y)
    means = np.stack([train_x[train_y == label].mean(axis=0) for label in classes])
    centred = train_x - means[np.searchsorted(classes, train_y)]
    covariance = centred.T @ centred / max(len(train_x) - len(classes), 1)
    target = np.eye(len(covariance)) * max(float(np.trace(covariance)) / len(covariance), 1e-12)
    precision = np.linalg.pinv((1 - shrinkage) * covariance + shrinkage * target)
    priors = np.log(np.array([np.mean(train_y == label) for label in classes]))
    scores = test_x @ precision @ means.T - 0.5 * np.einsum("ij,jk,ik->i", means, precision, means) + priors
    return classes[np.argmax(scores, axis=1)]


def cross_validated(x: np.ndarray, labels: np.ndarray, folds: int, shrinkage: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Out-of-fold predictions of every sample."""
    assignment = stratified_folds(labels, folds, rng)
    predicted = np.empty_like(labels)
    for fold in range(folds):
        test = assignment == fold
        if test.any():
            predicted[test] = discriminant_predict(x[~test], labels[~test], x[test], shrinkage)
    return predicted


def classify(x: np.ndarray, labels: np.ndarray, settings: Mapping[str, Any],
             seed: int) -> tuple[dict[str, Any], pd.DataFrame]:
    """Cross-validated accuracy, chance, the shuffled-label control with its p, and the confusion matrix
    (rows true, columns predicted, counts)."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    predicted = cross_validated(x, labels, settings["folds"], settings["shrinkage"], rng)
    accuracy = float(np.mean(predicted == labels))
    shuffled = np.array([np.mean(cross_validated(x, permuted, settings["folds"], settings["shrinkage"], rng)
                                 == permuted)
                         for permuted in (rng.permutation(labels) for _ in range(settings["n_shuffles"]))])
    classes = np.unique(labels)
    chance = float(max(np.mean(labels == label) for label in classes))
    confusion = pd.crosstab(pd.Categorical(labels, categories=classes),
                            pd.Categorical(predicted, categories=classes), dropna=False)
    confusion.index.name, confusion.columns.name = "true", "predicted"
    return {"accuracy": accuracy, "chance": chance, "shuffled_mean": float(shuffled.mean()),
            "shuffled_95": float(np.quantile(shuffled, 0.95)),
            "p_shuffled": float((1 + np.sum(shuffled >= accuracy)) / (1 + len(shuffled))),
            "n_samples": len(labels), "n_classes": len(classes)}, confusion


def classification_tables(embeddings: pd.DataFrame, contexts: pd.DataFrame, settings: Mapping[str, Any],
                          seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Context and task classification from the training trials' embeddings, and the context confusion matrix
    in long form (true, predicted, count)."""
    trials = embeddings[embeddings["kind"] == "trial"]
    components = [column for column in embeddings.columns if column.startswith("z")]
    x = trials[components].to_numpy(dtype=float)
    task_of = dict(zip(contexts["context"], contexts["task"], strict=True))
    rows, confusion = [], pd.DataFrame(columns=["true", "predicted", "count"])
    for label_kind, labels in (("context", trials["context"].to_numpy()),
                               ("task", trials["context"].map(task_of).to_numpy())):
        if len(np.unique(labels)) < 2:
            continue
        result, matrix = classify(x, labels, settings, seed)
        rows.append({"labels": label_kind, **result})
        if label_kind == "context":
            confusion = matrix.stack().rename("count").reset_index()
    return pd.DataFrame(rows), confusion


def summary_table(contexts: pd.DataFrame, r2: pd.DataFrame, few_shot: pd.DataFrame, points: pd.DataFrame,
                  confusion: pd.DataFrame, fits: Sequence[str], ks: Sequence[int]) -> pd.DataFrame:
    """One row per context: JEDI's held-out R² (noisy observations and noise-free rates), its per-context
    classification accuracy (recall), few-shot R² per k, fixed-point recovery, and each other fit's R²."""
    table = contexts[["context", "network", "task", "role", "frequency_hz"]].copy()
    own = r2[r2["fit"] == "jedi"].set_index("context")
    table["r2_heldout"] = table["context"].map(own["r2_heldout"])
    table["r2_heldout_rates"] = table["context"].map(own["r2_heldout_rates"])
    if len(confusion):
        counts = confusion.pivot(index="true", columns="predicted", values="count").fillna(0)
        recall = {label: counts.at[label, label] / counts.loc[label].sum() for label in counts.index
                  if counts.loc[label].sum() > 0}
        table["classification_accuracy"] = table["context"].map(recall)
    else:
        table["classification_accuracy"] = np.nan
    points = points.set_index("context") if len(points) else pd.DataFrame()
    for column in ("fixed_point_match", "n_fixed_teacher", "n_fixed_decoded", "n_stable_teacher",
                   "n_stable_decoded", "eigenvalue_distance"):
        table[column] = table["context"].map(points[column]) if column in points else np.nan
    jedi_few = few_shot[few_shot["fit"] == "jedi"]
    for k in ks:
        table[few_shot_column(k)] = table["context"].map(jedi_few[jedi_few["k"] == k].set_index("context")["r2"])
    for fit in fits:
        if fit != "jedi":
            table[baseline_column(fit)] = table["context"].map(r2[r2["fit"] == fit].set_index("context")["r2_heldout"])
    extra = [column for column in points.columns if column.startswith("leading_")] if len(points) else []
    for column in extra:
        table[column] = table["context"].map(points[column])
    return table[[*SUMMARY_COLUMNS, *[c for c in table.columns if c not in SUMMARY_COLUMNS]]]


def fit_table(summary: pd.DataFrame, r2: pd.DataFrame, few_shot: pd.DataFrame, fits: Sequence[str],
              seed: int) -> pd.DataFrame:
    """Per fit: median and mean held-out R² over the teacher and over all training contexts, the mean's 95%
    CI over contexts, and the mean few-shot R² at each k over the held-out contexts."""
    teacher_contexts = set(summary.loc[summary["network"].isin(["sine", "memory"]), "context"])
    rows = []
    for fit in fits:
        block = r2[r2["fit"] == fit]
        teachers = block[block["context"].isin(teacher_contexts)]["r2_heldout"]
        low, high = mean_ci(block["r2_heldout"], seed=seed)
        row: dict[str, Any] = {"fit": fit, "n_contexts": len(block),
                               "median_r2_heldout_teachers": float(teachers.median()),
                               "median_r2_heldout": float(block["r2_heldout"].median()),
                               "mean_r2_heldout": float(block["r2_heldout"].mean()), "ci_low": low, "ci_high": high,
                               "median_r2_heldout_rates": float(block["r2_heldout_rates"].median())}
        own = few_shot[few_shot["fit"] == fit]
        for k, values in own.groupby("k"):
            row[few_shot_column(int(k))] = float(values["r2"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def frequency_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Spearman ρ (and p) of frequency with |Im λ| and with the frequency of the leading eigenvalue, teacher and
    decoded side by side, across the sine contexts with a fixed point."""
    sine = summary[summary["frequency_hz"].notna()]
    rows = []
    for side in ("teacher", "decoded"):
        for measure in ("leading_imag", "leading_frequency_hz"):
            column = f"{measure}_{side}"
            if column not in sine:
                continue
            values = sine[["frequency_hz", column]].dropna()
            rho, p = (stats.spearmanr(values["frequency_hz"], values[column]) if len(values) >= 3
                      and values[column].nunique() > 1 else (np.nan, np.nan))
            rows.append({"side": side, "measure": measure, "rho": float(rho), "p": float(p),
                         "n_contexts": len(values)})
    return pd.DataFrame(rows, columns=["side", "measure", "rho", "p", "n_contexts"])
