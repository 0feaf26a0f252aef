"""Rule group_connectivity: mean FC over subjects (Fisher z) and the region table (names, template, centroids)."""
import logging

import numpy as np
import pandas as pd

from brainrnn.errors import InputError
from brainrnn.fmri import atlases
from brainrnn.fmri.connectivity import group_mean_fc
from brainrnn.io import read_json, write_npy, write_table
from brainrnn.workflow import run_rule


def main(smk):
    names = None
    for table in smk.input.tables:
        header = pd.read_csv(table, sep="\t", nrows=0).columns.tolist()
        if names is None:
            names, first = header, table
        elif header != names:
            raise InputError(f"regions differ from those of {first}.", file=table, field="header",
                             fix="parcellate every subject with the same atlas and region order.")
    matrices = [np.load(path) for path in smk.input.fc]
    write_npy(group_mean_fc(matrices, fisher_z=smk.params.fisher_z), smk.output.fc)
    region_table = atlases.study_region_table(smk.params.regions, smk.params.source, smk.params.labels)
    template_path = smk.params.template
    template = atlases.read_template(template_path) if template_path is not None else None
    centroids = None
    if smk.params.source == "bids":
        centroids = atlases.atlas_centroids(smk.params.atlas, read_json(smk.input.metas[0])["label_values"])
    frame = atlases.regions_frame(region_table, names, template, centroids)
    log = logging.getLogger(__name__)
    log.info("%d regions; template values for %d, centroids for %d", len(frame), frame["template"].notna().sum(),
             frame["x"].notna().sum())
    write_table(frame, smk.output.regions, index=True)


run_rule(snakemake, main)
