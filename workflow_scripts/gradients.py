"""Rule gradients: one subject's embedding, Procrustes-aligned to the reference, and rotation-free spread."""
import logging

import numpy as np
import pandas as pd

from brainrnn.fmri import gradients as gr
from brainrnn.io import write_json, write_table
from brainrnn.workflow import run_rule


def main(smk):
    reference = pd.read_csv(smk.input.reference, sep="\t", index_col="region")
    settings = smk.params.gradients
    native = gr.embed(np.load(smk.input.fc), gr.GradientOptions.from_config(settings))
    aligned, rotation = gr.align_to_reference(native, reference.to_numpy())
    share = gr.explained_share(native.eigenvalues, rotation)
    match = [float(np.corrcoef(aligned[:, k], reference.iloc[:, k])[0, 1]) for k in range(aligned.shape[1])]
    unaligned = gr.native_spread(native, reference["G1"].to_numpy(), settings["spread_dims"])
    logging.getLogger(__name__).info("sub-%s: correlation with the reference per gradient %s; native component %d "
                                     "matches the reference G1 (|r| %.3f)", smk.wildcards.subject,
                                     np.round(match, 3).tolist(), unaligned["matched_component"],
                                     unaligned["matched_r"])
    write_table(gr.gradients_frame(aligned, reference.index), smk.output.gradients, index=True)
    write_table(pd.DataFrame({"gradient": reference.columns, "eigenvalue": native.eigenvalues,
                              "explained_share": share, "reference_r": match}), smk.output.eigenvalues)
    write_json({"subject": smk.wildcards.subject, **unaligned}, smk.output.native)


run_rule(snakemake, main)
