"""Rule train_microns: one variant x task x mode on one field, every seed as one ensemble."""

from brainrnn.devices import job_device
from brainrnn.io import read_json
from brainrnn.microns.field import Field
from brainrnn.microns.train import model_meta, train_variant
from brainrnn.persistence import write_members
from brainrnn.workflow import run_rule


def main(smk):
    device = job_device(smk.params.device, smk.threads)
    wildcards, params = smk.wildcards, smk.params
    field = Field.load(smk.input.field)
    nulls = read_json(smk.input.nulls)
    seeds = list(params.seeds)
    run = train_variant(field, params.variant, wildcards.task, wildcards.mode, seeds, params.base_seed,
                        params.settings, nulls, device)
    settings = {"microns": params.settings, "mode": wildcards.mode, "field": wildcards.field,
                "variant": params.variant, "task": wildcards.task, "seeds": seeds, "base_seed": params.base_seed}
    write_members(run.model, run.metrics, settings, meta=lambda record: model_meta(record, params.settings),
                  models=smk.output.models, histories=smk.output.histories, history=run.history,
                  metrics=smk.output.metrics)


run_rule(snakemake, main)
