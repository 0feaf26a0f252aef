"""Rule gradient_spread: per subject G1 range, dispersion and G1's eigenvalue share, with group."""
import pandas as pd

from brainrnn.fmri import gradients as gr
from brainrnn.fmri.tables import check_gradients
from brainrnn.io import write_table
from brainrnn.workflow import run_rule


def main(smk):
    rows = []
    for subject, group, grad_path, eig_path in zip(smk.params.subjects, smk.params.groups,
                                                   smk.input.gradients, smk.input.eigenvalues, strict=True):
        frame = pd.read_csv(grad_path, sep="\t", index_col="region")
        check_gradients(frame, file=grad_path, subject=subject)
        eigen = pd.read_csv(eig_path, sep="\t")
        rows.append({"subject": subject, "group": group,
                     **gr.gradient_spread(frame.to_numpy(), smk.params.spread_dims),
                     "explained_G1": float(eigen["explained_share"].iloc[0])})
    write_table(pd.DataFrame(rows), smk.output.spread)


run_rule(snakemake, main)
