"""Rule train_gradreg: train every seed of one variant x subject as one ensemble; write each member."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

from pathlib import Path  # noqa: E402

import torch  # noqa: E402

from brainrnn import gradreg as gr  # noqa: E402
from brainrnn.engine import task_settings  # noqa: E402
from brainrnn.io import write_json, write_table  # noqa: E402
from brainrnn.models.rnn import save_member  # noqa: E402
from brainrnn.provenance import config_hash, provenance  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    torch.set_num_threads(smk.threads)
    variant, subject = smk.wildcards.variant, smk.wildcards.subject
    params = smk.params
    dims = params.gradreg["gradient_dims"]
    geometry = gr.load_geometry(smk.input.gradients, dims, subject=subject, timescales_path=smk.input.timescales)
    group = gr.load_geometry(smk.input.reference, dims, subject="group")
    settings = {"rnn": params.rnn, "gradreg": params.gradreg, "variant": variant, "subject": subject,
                "seeds": list(params.seeds), "base_seed": params.base_seed}
    digest = config_hash(settings)
    checkpoint = Path(params.checkpoint_dir) / f"{digest}.pt"
    trained = gr.train_variant(variant=variant, subject=subject, seeds=list(params.seeds),
                               base_seed=params.base_seed, geometry=geometry, group_geometry=group,
                               rnn=params.rnn, gradreg=params.gradreg, checkpoint=checkpoint, config_hash=digest)
    for member, metrics in enumerate(trained.metrics):
        meta = {key: metrics[key] for key in ("family", "variant", "subject", "seed", "task")}
        meta.update(task_settings=task_settings(params.rnn), analysis_epoch="delay")
        save_member(trained.model, member, smk.output.models[member], config_hash=digest, meta=meta)
        history = trained.history[trained.history["member"] == member].drop(columns="member")
        write_table(history, smk.output.histories[member])
        write_json({**metrics, "provenance": provenance(settings, metrics["member_seed"])},
                   smk.output.metrics[member])
    checkpoint.unlink(missing_ok=True)


run_rule(snakemake, main)  # noqa: F821
