"""Rule fit_cognitive_lowrank: maximum-likelihood fits of the task's cognitive models on each seed's training
sessions, scored on every split."""

import logging

import pandas as pd

from brainrnn.io import read_json, write_table
from brainrnn.lowrank import COGNITIVE_MODELS, SPLITS
from brainrnn.lowrank.agents import TaskStructure, fit_agent, make_agent, mean_nll
from brainrnn.lowrank.choices import split_choices
from brainrnn.lowrank.summary import cognitive_rows
from brainrnn.seeding import derive_seed
from brainrnn.workflow import run_rule


def main(smk):
    task, settings, params = smk.wildcards.task, smk.params.settings, smk.params
    structure = TaskStructure.of(task, settings["task_settings"][task])
    rows = []
    for seed, table_path, record_path in zip(params.seeds, smk.input.tables, smk.input.records, strict=True):
        record = read_json(record_path)
        splits = split_choices(pd.read_csv(table_path, sep="\t"))
        fits = [fit_agent(model, structure, splits["train"], starts=params.starts,
                          seed=derive_seed(params.base_seed, "lowrank-cognitive", task, model, seed))
                for model in COGNITIVE_MODELS[task]]
        scores = {fit.model: {part: mean_nll(make_agent(fit.model, structure, fit.parameters), splits[part])
                              for part in SPLITS} for fit in fits}
        for fit in fits:
            logging.getLogger(__name__).info("seed %s %s: %s, test NLL %.4f", seed, fit.model, fit.parameters,
                                             scores[fit.model]["test"])
        rows += cognitive_rows(task, seed, fits, {"train": int(splits["train"].valid.sum())}, scores, record)
    write_table(pd.DataFrame(rows), smk.output.fits)


run_rule(snakemake, main)
