"""Rule fixed_points: fixed points and Jacobian spectra of one trained model during a task epoch."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import dataclasses  # noqa: E402
import logging  # noqa: E402

import pandas as pd  # noqa: E402
import torch  # noqa: E402

from brainrnn.analysis.fixed_points import FixedPointOptions  # noqa: E402
from brainrnn.analysis.rnn_fixed_points import analyse_epoch  # noqa: E402
from brainrnn.io import write_table  # noqa: E402
from brainrnn.models.rnn import load_member  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    torch.set_num_threads(smk.threads)
    settings = dict(smk.params.options)
    fields = {field.name for field in dataclasses.fields(FixedPointOptions)}
    options = FixedPointOptions(**{key: value for key, value in settings.items() if key in fields},
                                seed=smk.params.seed)
    model, meta = load_member(smk.input.model)
    epoch = settings["epoch"] or meta["analysis_epoch"]
    analysis = analyse_epoch(model, meta["task"], meta["task_settings"], options, epoch=epoch,
                             trials=settings["trials"])
    found = analysis.fixed_points
    logging.getLogger(__name__).info("%d fixed points (%d stable) from %d initial states; %s energy %.3g",
                                     found.count, int(found.is_stable.sum()), found.n_initial, epoch,
                                     analysis.epoch_energy)
    found.save(smk.output.points, held_input=analysis.held_input, epoch_energy=analysis.epoch_energy)
    identity = {key: meta[key] for key in ("family", "mode", "field", "variant", "group", "subject", "seed", "task")
                if key in meta}
    write_table(pd.DataFrame([{**identity, **found.summary(), "epoch_energy": analysis.epoch_energy}]),
                smk.output.summary)


run_rule(snakemake, main)  # noqa: F821
