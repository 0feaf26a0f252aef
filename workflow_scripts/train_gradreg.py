"""Rule train_gradreg: train every seed of one variant x subject as one ensemble; write each member."""

from pathlib import Path

from brainrnn.devices import job_device
from brainrnn.gradreg.model import load_geometry
from brainrnn.gradreg.train import model_meta, train_variant
from brainrnn.persistence import write_members
from brainrnn.provenance import config_hash
from brainrnn.workflow import run_rule


def main(smk):
    device = job_device(smk.params.device, smk.threads)
    variant, subject, params = smk.wildcards.variant, smk.wildcards.subject, smk.params
    dims = params.gradreg["gradient_dims"]
    geometry = load_geometry(smk.input.gradients, dims, subject=subject, timescales_path=smk.input.timescales)
    group = load_geometry(smk.input.reference, dims, subject="group")
    settings = {"gradreg": params.gradreg, "variant": variant, "subject": subject, "seeds": list(params.seeds),
                "base_seed": params.base_seed}
    digest = config_hash(settings)
    checkpoint = Path(params.checkpoint_dir) / f"{digest}.pt"
    trained = train_variant(variant=variant, subject=subject, seeds=list(params.seeds), base_seed=params.base_seed,
                            geometry=geometry, group_geometry=group, section=params.gradreg, checkpoint=checkpoint,
                            config_hash=digest, device=device)
    write_members(trained.model, trained.metrics, settings, meta=lambda record: model_meta(record, params.gradreg),
                  models=smk.output.models, histories=smk.output.histories, history=trained.history,
                  metrics=smk.output.metrics)
    checkpoint.unlink(missing_ok=True)


run_rule(snakemake, main)
