"""Rule fixed_points: fixed points and Jacobian spectra of one trained model during a task epoch."""

import logging

import pandas as pd
import torch

from brainrnn.analysis.fixed_points import FixedPointOptions
from brainrnn.analysis.rnn_fixed_points import analyse_epoch
from brainrnn.io import write_table
from brainrnn.persistence import load_member
from brainrnn.tasks import CATALOGUE
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    settings = smk.params.options
    options = FixedPointOptions.from_config(settings, seed=smk.params.seed)
    model, meta = load_member(smk.input.model)
    epoch = settings["epoch"] or CATALOGUE[meta["task"]].analysis_epoch
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


run_rule(snakemake, main)
