"""Rule train_lowrank: the premature or mature low-rank networks of one mode and task, every seed as one ensemble."""

import hashlib
from pathlib import Path

import pandas as pd
import torch

from brainrnn.lowrank.choices import split_choices
from brainrnn.lowrank.train import model_meta, train_developmental
from brainrnn.persistence import write_members
from brainrnn.provenance import config_hash
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    wildcards, params, seeds = smk.wildcards, smk.params, list(smk.params.seeds)
    tables = list(smk.input.tables) if wildcards.mode == "fit" else []
    data = [split_choices(pd.read_csv(path, sep="\t")) for path in tables] or None
    settings = {"lowrank": params.settings, "mode": wildcards.mode, "task": wildcards.task,
                "configuration": wildcards.configuration, "seeds": seeds, "base_seed": params.base_seed}
    digest = config_hash({**settings, "data_sha256": [hashlib.sha256(Path(path).read_bytes()).hexdigest()
                                                      for path in tables]})
    checkpoint = Path(params.checkpoint_dir) / f"{digest}.pt"
    run = train_developmental(wildcards.mode, wildcards.task, wildcards.configuration, params.settings, seeds,
                              params.base_seed, data, checkpoint=checkpoint, config_hash=digest)
    write_members(run.model, run.metrics, settings, meta=lambda record: model_meta(record, params.settings),
                  models=smk.output.models, histories=smk.output.histories, history=run.history,
                  metrics=smk.output.metrics)
    checkpoint.unlink(missing_ok=True)


run_rule(snakemake, main)
