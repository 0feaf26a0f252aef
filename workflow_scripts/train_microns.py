"""Rule train_microns: one variant x task x mode on one field, every seed as one ensemble."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import json  # noqa: E402

import torch  # noqa: E402

from brainrnn.io import write_json, write_table  # noqa: E402
from brainrnn.microns.experiment import task_settings, train_variant  # noqa: E402
from brainrnn.microns.field import Field  # noqa: E402
from brainrnn.models.rnn import save_member  # noqa: E402
from brainrnn.provenance import config_hash, provenance  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    torch.set_num_threads(smk.threads)
    wildcards, params = smk.wildcards, smk.params
    field = Field.load(smk.input.field)
    nulls = json.loads(open(smk.input.nulls).read())
    seeds = list(params.seeds)
    run = train_variant(field, params.variant, wildcards.task, wildcards.mode, seeds, params.base_seed,
                        params.settings, nulls)
    settings = {"microns": params.settings, "mode": wildcards.mode, "field": wildcards.field,
                "variant": params.variant, "task": wildcards.task, "seeds": seeds, "base_seed": params.base_seed}
    digest = config_hash(settings)
    epoch = "delay" if wildcards.task in ("one_choice", "go_nogo") else "stimulus"
    for member, metrics in enumerate(run.metrics):
        meta = {key: metrics[key] for key in ("family", "mode", "field", "variant", "task", "seed")}
        meta.update(task_settings=task_settings(wildcards.task, params.settings), analysis_epoch=epoch)
        save_member(run.model, member, smk.output.models[member], config_hash=digest, meta=meta)
        write_table(run.history[run.history["member"] == member].drop(columns="member"), smk.output.histories[member])
        write_json({**metrics, "provenance": provenance(settings, metrics["member_seed"])}, smk.output.metrics[member])


run_rule(snakemake, main)  # noqa: F821
