"""Rule freeze_cbrnn: from each CB-RNN's level-one state, freeze the core and train cerebellum + readout."""

from pathlib import Path

from brainrnn.cbrnn.train import model_meta, run_group
from brainrnn.devices import job_device
from brainrnn.persistence import load_member, write_members
from brainrnn.provenance import config_hash
from brainrnn.workflow import run_rule


def main(smk):
    device = job_device(smk.params.device, smk.threads)
    group, seeds, params = smk.wildcards.group, list(smk.params.seeds), smk.params
    settings = {"cbrnn": params.cbrnn, "group": group, "seeds": seeds, "base_seed": params.base_seed}
    level_one = [load_member(path)[0] for path in smk.input.level_one]
    digest = config_hash(settings)
    checkpoint = Path(params.checkpoint_dir) / f"{digest}.pt"
    run = run_group(group, params.cbrnn, seeds, params.base_seed, level_one_models=level_one, checkpoint=checkpoint,
                    config_hash=digest, device=device)
    write_members(run.model, run.metrics, settings,
                  meta=lambda record: model_meta(record, record["final_level_reached"]), models=smk.output.models,
                  histories=smk.output.histories, history=run.history, metrics=smk.output.metrics)
    checkpoint.unlink(missing_ok=True)


run_rule(snakemake, main)
