"""Rule timeseries: one subject's data from the configured source -> cleaned volumes x regions table, and its FC."""
import logging

import numpy as np
import pandas as pd

from brainrnn.errors import InputError
from brainrnn.fmri import atlases, bids
from brainrnn.fmri import timeseries as ts
from brainrnn.fmri.connectivity import functional_connectivity
from brainrnn.fmri.gradients import OrientationOptions, orientation_problem
from brainrnn.io import write_json, write_npy, write_table
from brainrnn.workflow import run_rule


def main(smk):
    subject, source = smk.wildcards.subject, smk.params.source
    cleaning = ts.CleaningOptions.from_config(smk.params.clean)
    quality = {"mean_fd_mm": np.nan, "max_fd_mm": np.nan}
    if source == "bids":
        settings = smk.params.bids
        frame, tr, quality = bids.parcellate_subject(
            derivatives=settings["derivatives"], subject=subject, task=settings["task"], space=settings["space"],
            atlas=smk.input.atlas, atlas_labels=settings["atlas_labels"], confounds=settings["confounds"],
            motion=bids.MotionOptions.from_config(settings), cleaning=cleaning,
            resample_atlas=settings["resample_atlas"])
        ts.validate_timeseries(frame, subject=subject, file=smk.input.atlas, min_volumes=smk.params.min_volumes)
    else:
        tr = smk.params.tr
        if source == "demo":
            frame = ts.load_demo_subject(subject)
        else:
            frame = ts.read_table(smk.input.data, subject, key=smk.params.mat_key)
            if smk.params.labels:
                names = pd.read_csv(smk.params.labels, sep="\t")["name"].astype(str).tolist()
                if len(names) != frame.shape[1]:
                    raise InputError(f"{len(names)} region names for {frame.shape[1]} regions.",
                                     file=smk.params.labels, subject=subject, field="labels",
                                     fix="give one name per region column, in order.")
                frame.columns = names
        ts.validate_timeseries(frame, subject=subject, file=smk.input.data, min_volumes=smk.params.min_volumes)
        frame = ts.clean_timeseries(frame, tr, cleaning)
        quality.update(n_volumes_total=len(frame), n_volumes_retained=len(frame))
    labels_file = smk.params.bids["atlas_labels"] if source == "bids" else smk.params.labels
    table = atlases.study_region_table(smk.params.regions, source, labels_file)
    frame.columns = atlases.label_regions(table, frame.columns, file=smk.params.regions["table"], subject=subject)
    orientation = smk.params.orientation
    if orientation is not None:  # the names were not known while the workflow parsed: check G1 can be oriented
        problem = orientation_problem(list(frame.columns), OrientationOptions.from_config(orientation),
                                      atlases.template_map(table, list(frame.columns), orientation["template"]))
        if problem is not None:
            raise problem
    logging.getLogger(__name__).info("sub-%s: %d volumes x %d regions, TR %.3f s (source %s), mean FD %.3f mm",
                                     subject, frame.shape[0], frame.shape[1], tr, source, quality["mean_fd_mm"])
    write_table(frame, smk.output.table)
    # FC of the table as written (what every later stage reads), not of the unrounded frame
    written = pd.read_csv(smk.output.table, sep="\t")
    write_npy(functional_connectivity(written.to_numpy()), smk.output.fc)
    write_json({"subject": subject, "source": source, "tr_s": tr, "n_volumes": frame.shape[0],
                "n_regions": frame.shape[1], "cleaning": dict(smk.params.clean),
                **{key: (None if isinstance(value, float) and np.isnan(value) else value)
                   for key, value in quality.items()}}, smk.output.meta)


run_rule(snakemake, main)
