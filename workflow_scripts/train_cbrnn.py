"""Rule train_cbrnn: curriculum training of the CB-RNN or the parameter-matched RNN (all seeds at once)."""
import hashlib
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
    group, seeds = smk.wildcards.group, list(smk.params.seeds)
    settings = {"cbrnn": smk.params.cbrnn, "group": group, "seeds": seeds, "base_seed": smk.params.base_seed}
    core = load_member(smk.input.core)[0] if "core" in smk.input.keys() else None
    core_file = {"core_sha256": hashlib.sha256(Path(smk.input.core).read_bytes()).hexdigest()} if core else {}
    digest = config_hash({**settings, **core_file})
    checkpoint = Path(smk.params.checkpoint_dir) / f"{digest}.pt"
    run = cbrnn.run_group(group, smk.params.cbrnn, seeds, smk.params.base_seed, core=core, checkpoint=checkpoint,
                          config_hash=digest)
    cbrnn.write_group_outputs(run, settings, models=smk.output.models, histories=smk.output.histories,
                              metrics=smk.output.metrics, level_one=smk.output.level_one,
                              start_level=smk.params.cbrnn["curriculum"]["start_level"])
    checkpoint.unlink(missing_ok=True)


run_rule(snakemake, main)  # noqa: F821
