"""Rule train_lowrank_gru: tiny GRUs of every size for one mode and task; per size and seed, the L1 strength
with the best validation score is kept."""

import hashlib
from pathlib import Path

import pandas as pd
import torch

from brainrnn.io import write_json, write_table
from brainrnn.lowrank.choices import split_choices
from brainrnn.lowrank.train import model_meta, train_grus
from brainrnn.persistence import save_state
from brainrnn.provenance import config_hash, provenance
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    wildcards, params, seeds = smk.wildcards, smk.params, list(smk.params.seeds)
    tables = list(smk.input.tables) if wildcards.mode == "fit" else []
    data = [split_choices(pd.read_csv(path, sep="\t")) for path in tables] or None
    settings = {"lowrank": params.settings, "mode": wildcards.mode, "task": wildcards.task, "configuration": "gru",
                "seeds": seeds, "base_seed": params.base_seed}
    digest = config_hash({**settings, "data_sha256": [hashlib.sha256(Path(path).read_bytes()).hexdigest()
                                                      for path in tables]})
    checkpoint_dir = Path(params.checkpoint_dir)
    sizes = train_grus(wildcards.mode, wildcards.task, params.settings, seeds, params.base_seed, data,
                       checkpoint_dir=checkpoint_dir, config_hash=digest)
    outputs = zip(smk.output.networks, smk.output.histories, smk.output.metrics, strict=True)
    for size in sizes:
        model, history = size.run.model, size.run.history
        for seed, member in zip(seeds, size.selected, strict=True):
            network, history_path, metrics_path = next(outputs)
            record = size.run.metrics[member]
            scores = {str(other["l1"]): other["selection_score"] for other in size.run.metrics if other["seed"] == seed}
            save_state({"state": model.member_state_dict(member), "shape": model.shape.as_dict(), "config_hash": digest,
                        "meta": model_meta(record, params.settings)}, network)
            write_table(history[history["member"] == member].drop(columns="member"), history_path)
            write_json({**record, "l1_scores": scores, "provenance": provenance(settings, record["member_seed"])},
                       metrics_path)
    for path in checkpoint_dir.glob(f"*-{digest}.pt"):
        path.unlink()


run_rule(snakemake, main)
