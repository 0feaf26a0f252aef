"""Rule train_cbrnn: curriculum training of the CB-RNN or the parameter-matched RNN (all seeds at once)."""

import torch

from brainrnn.cbrnn.train import GroupFiles, train_group
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    output = smk.output
    train_group(smk.wildcards.group, smk.params.cbrnn, list(smk.params.seeds), smk.params.base_seed,
                core_path=smk.input.core if "core" in smk.input else None, checkpoint_dir=smk.params.checkpoint_dir,
                files=GroupFiles(models=output.models, histories=output.histories, metrics=output.metrics,
                                 snapshots=output.snapshots, level_one=()))


run_rule(snakemake, main)
