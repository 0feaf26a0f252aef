"""Rule fit_jedi: train one fit on the training trials, score every context's test trials, infer new contexts."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from brainrnn.io import write_table
from brainrnn.jedi.analysis import r_squared
from brainrnn.jedi.simulate import Dataset
from brainrnn.jedi.train import fit, infer_new_contexts, save_fit, training_contexts
from brainrnn.provenance import config_hash
from brainrnn.workflow import run_rule

LOG = logging.getLogger(__name__)


def main(smk):
    torch.set_num_threads(smk.threads)
    name, settings = smk.wildcards.fit, smk.params.settings
    contexts = pd.read_csv(smk.input.contexts, sep="\t")
    data = Dataset.load(smk.input.data, contexts)
    digest = config_hash({"settings": settings, "fit": name, "base_seed": smk.params.base_seed})
    checkpoint = Path(smk.params.checkpoint_dir) / f"{digest}.pt"
    result = fit(name, data, settings, base_seed=smk.params.base_seed, checkpoint=checkpoint, config_hash=digest)
    rows = []
    for index in training_contexts(data):
        chosen = np.flatnonzero(data.context[result.test_trials] == index)
        trials = result.test_trials[chosen]
        prediction = result.predictions[:, chosen]
        rows.append({"context": contexts["context"].iloc[index], "fit": name,
                     "r2_heldout": r_squared(prediction, data.observed[:, trials], data.mask[:, trials]),
                     "r2_heldout_rates": r_squared(prediction, data.rates[:, trials], data.mask[:, trials]),
                     "n_test_trials": len(trials)})
        LOG.info("%s: held-out R2 %.3f", rows[-1]["context"], rows[-1]["r2_heldout"])
    embedding_rows, few_rows = [], []
    if result.context_embeddings is not None and name != "shared":
        items = data.trials("train", training_contexts(data))
        with torch.no_grad():
            trial_embeddings = result.model.item_embeddings(torch.arange(len(items))).numpy()
        for trial, vector in zip(items, trial_embeddings, strict=True):
            embedding_rows.append({"kind": "trial", "context": contexts["context"].iloc[data.context[trial]], "k": 0,
                                   "trial": int(trial), **_components(vector)})
        for index, vector in zip(training_contexts(data), result.context_embeddings, strict=True):
            embedding_rows.append({"kind": "context_mean", "context": contexts["context"].iloc[index], "k": 0,
                                   "trial": -1, **_components(vector)})
        if name in settings["few_shot"]["fits"]:
            inferred = infer_new_contexts(result.model, data, settings, base_seed=smk.params.base_seed)
            for row, vector, test, prediction in zip(inferred.table.to_dict("records"), inferred.embeddings,
                                                     inferred.test_trials, inferred.predictions, strict=True):
                few_rows.append({**row, "fit": name,
                                 "r2": r_squared(prediction, data.observed[:, test], data.mask[:, test]),
                                 "r2_rates": r_squared(prediction, data.rates[:, test], data.mask[:, test])})
                embedding_rows.append({"kind": "few_shot", "context": row["context"], "k": row["k"], "trial": -1,
                                       **_components(vector)})
                LOG.info("%s from %d trials: R2 %.3f", row["context"], row["k"], few_rows[-1]["r2"])
    dims = settings["model"]["embedding_dim"]
    write_table(pd.DataFrame(embedding_rows, columns=["kind", "context", "k", "trial",
                                                      *[f"z{i}" for i in range(dims)]]), smk.output.embeddings)
    write_table(pd.DataFrame(few_rows, columns=["context", "k", "fit", "r2", "r2_rates"]), smk.output.few_shot)
    write_table(pd.DataFrame(rows), smk.output.r2)
    write_table(result.history, smk.output.history)
    save_fit(result, smk.output.model, config_hash=digest, meta={"family": "jedi", "fit": name})
    checkpoint.unlink(missing_ok=True)


def _components(vector):
    return {f"z{i}": float(value) for i, value in enumerate(vector)}


run_rule(snakemake, main)
