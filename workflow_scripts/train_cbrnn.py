"""Rule train_cbrnn: curriculum training of the CB-RNN or the parameter-matched RNN (all seeds at once)."""

from brainrnn.cbrnn.train import GroupFiles, train_group
from brainrnn.devices import job_device
from brainrnn.workflow import run_rule


def main(smk):
    output = smk.output
    train_group(smk.wildcards.group, smk.params.cbrnn, list(smk.params.seeds), smk.params.base_seed,
                core_path=smk.input.core if "core" in smk.input else None, checkpoint_dir=smk.params.checkpoint_dir,
                files=GroupFiles(models=output.models, histories=output.histories, metrics=output.metrics,
                                 snapshots=output.snapshots, level_one=()),
                device=job_device(smk.params.device, smk.threads))


run_rule(snakemake, main)
