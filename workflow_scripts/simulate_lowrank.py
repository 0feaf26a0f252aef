"""Rule simulate_lowrank: each seed's choice data set of one task (the generating agent's sessions, or the
subject's own table), split into train / validation / test, with the agent's own NLL and behaviour."""

import logging

import torch

from brainrnn.io import write_json, write_table
from brainrnn.lowrank.choices import read_choice_table, task_dimensions
from brainrnn.lowrank.train import simulate_choices, user_choices
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    task, settings, base_seed = smk.wildcards.task, smk.params.settings, smk.params.base_seed
    table, path = None, smk.input.get("table")  # Namedlist: `in` tests the file names, not the input names
    if path is not None:
        n_actions, n_states = task_dimensions(task, settings["task_settings"][task])
        table = read_choice_table(path, task=task, n_actions=n_actions, n_states=n_states)
    for seed, table_path, record_path in zip(smk.params.seeds, smk.output.tables, smk.output.records, strict=True):
        data = (simulate_choices(task, settings, seed, base_seed) if table is None
                else user_choices(task, table, settings, seed, base_seed))
        write_table(data.table, table_path)
        write_json(data.record, record_path)
        logging.getLogger(__name__).info("seed %s: %d trials; generating agent %s, test NLL %.4f (chance %.4f)", seed,
                                         len(data.table), data.record["agent"], data.record["nll_ceiling_test"],
                                         data.record["nll_chance"])


run_rule(snakemake, main)
