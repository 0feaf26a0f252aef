"""Rule freeze_cbrnn: from each CB-RNN's level-one state, freeze the core and train cerebellum + readout."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from brainrnn import cbrnn  # noqa: E402
from brainrnn.models.rnn import load_member  # noqa: E402
from brainrnn.provenance import config_hash  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    torch.set_num_threads(smk.threads)
    mode, seeds = smk.wildcards.mode, list(smk.params.seeds)
    settings = {"cbrnn": smk.params.cbrnn, "group": mode, "seeds": seeds, "base_seed": smk.params.base_seed}
    level_one = [load_member(path)[0] for path in smk.input.level_one]
    digest = config_hash(settings)
    checkpoint = Path(smk.params.checkpoint_dir) / f"{digest}.pt"
    run = cbrnn.run_group(mode, smk.params.cbrnn, seeds, smk.params.base_seed, level_one_models=level_one,
                          checkpoint=checkpoint, config_hash=digest)
    cbrnn.write_group_outputs(run, settings, models=smk.output.models, histories=smk.output.histories,
                              metrics=smk.output.metrics)
    checkpoint.unlink(missing_ok=True)


run_rule(snakemake, main)  # noqa: F821
