"""Rules fixed_points_*: fixed and slow points, Jacobian spectra and attractors of the models of one run."""

import logging

import pandas as pd

from brainrnn.analysis.fixed_points import FixedPointOptions
from brainrnn.analysis.rnn_fixed_points import analyse_epoch
from brainrnn.devices import job_device
from brainrnn.io import write_table
from brainrnn.persistence import load_member
from brainrnn.tasks import CATALOGUE
from brainrnn.workflow import run_rule


def main(smk):
    device = job_device(smk.params.device, smk.threads)
    for model_path, points, summary, seed in zip(smk.input.models, smk.output.points, smk.output.summaries,
                                                 smk.params.seeds, strict=True):
        analyse(model_path, points, summary, smk.params.options, seed, device)


def analyse(model_path, points_path, summary_path, settings, seed, device):
    """Analyse one saved model on ``device``; write its points and its one-row summary."""
    options = FixedPointOptions.from_config(settings, seed=seed)
    model, meta = load_member(model_path)
    epoch = settings["epoch"] or CATALOGUE[meta["task"]].analysis_epoch
    analysis = analyse_epoch(model, meta["task"], meta["task_settings"], options, epoch=epoch,
                             trials=settings["trials"], max_conditions=settings["max_conditions"], device=device)
    summary = analysis.summary()
    log = logging.getLogger(__name__)
    log.info("%s", model_path)
    for index, condition in enumerate(analysis.conditions):
        found = condition.fixed_points
        log.info("condition %d (input %s): %d fixed, %d slow points (%d fixed stable) from %d states in %d "
                 "iterations; %d of %d trials settle on a point", index, condition.held_input.round(3).tolist(),
                 int(found.is_fixed.sum()), int(found.is_slow.sum()), int((found.is_stable & found.is_fixed).sum()),
                 found.n_initial, found.iterations, int((condition.attractor >= 0).sum()), len(condition.attractor))
    log.info("%s energy %.3g; attractor |lambda| %.4g", epoch, summary["epoch_energy"],
             summary["attractor_abs_eigenvalue"])
    analysis.save(points_path)
    identity = {key: meta[key] for key in ("family", "mode", "field", "variant", "group", "subject", "seed", "task")
                if key in meta}
    write_table(pd.DataFrame([{**identity, **summary}]), summary_path)


run_rule(snakemake, main)
