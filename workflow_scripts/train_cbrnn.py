"""Rule train_cbrnn: curriculum training of the CB-RNN or the parameter-matched RNN (all seeds at once)."""

import hashlib
from pathlib import Path

from brainrnn.cbrnn.train import level_one_snapshot, model_meta, run_group
from brainrnn.devices import job_device
from brainrnn.persistence import load_member, write_members
from brainrnn.provenance import config_hash
from brainrnn.workflow import run_rule


def main(smk):
    device = job_device(smk.params.device, smk.threads)
    group, seeds, params = smk.wildcards.group, list(smk.params.seeds), smk.params
    settings = {"cbrnn": params.cbrnn, "group": group, "seeds": seeds, "base_seed": params.base_seed}
    core = load_member(smk.input.core)[0] if "core" in smk.input else None
    core_file = {"core_sha256": hashlib.sha256(Path(smk.input.core).read_bytes()).hexdigest()} if core else {}
    digest = config_hash({**settings, **core_file})
    checkpoint = Path(params.checkpoint_dir) / f"{digest}.pt"
    run = run_group(group, params.cbrnn, seeds, params.base_seed, core=core, checkpoint=checkpoint,
                    config_hash=digest, device=device)
    write_members(run.model, run.metrics, settings,
                  meta=lambda record: model_meta(record, record["final_level_reached"]), models=smk.output.models,
                  histories=smk.output.histories, history=run.history, metrics=smk.output.metrics)
    start_level = params.cbrnn["curriculum"]["start_level"]
    write_members(level_one_snapshot(run), run.metrics, settings, meta=lambda record: model_meta(record, start_level),
                  models=smk.output.level_one)
    checkpoint.unlink(missing_ok=True)


run_rule(snakemake, main)
