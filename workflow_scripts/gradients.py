"""Rule gradients: one subject's embedding, Procrustes-aligned to the reference gradients."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import logging  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from brainrnn.fmri import gradients as gr  # noqa: E402
from brainrnn.io import write_table  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    reference = pd.read_csv(smk.input.reference, sep="\t", index_col="region")
    native = gr.embed(np.load(smk.input.fc), gr.GradientOptions.from_config(smk.params.gradients),
                      seed=smk.params.seed)
    aligned, rotation = gr.align_to_reference(native, reference.to_numpy())
    share = gr.explained_share(native.eigenvalues, rotation)
    match = [float(np.corrcoef(aligned[:, k], reference.iloc[:, k])[0, 1]) for k in range(aligned.shape[1])]
    logging.getLogger(__name__).info("sub-%s: correlation with the reference per gradient %s",
                                     smk.wildcards.subject, np.round(match, 3).tolist())
    write_table(gr.gradients_frame(aligned, reference.index), smk.output.gradients, index=True)
    write_table(pd.DataFrame({"gradient": reference.columns, "eigenvalue": native.eigenvalues,
                              "explained_share": share, "reference_r": match}), smk.output.eigenvalues)


run_rule(snakemake, main)  # noqa: F821
