"""Rule reference_gradients: BrainSpace embedding of the group FC, G1 oriented sensory -> association."""
import logging

import numpy as np
import pandas as pd

from brainrnn.fmri import gradients as gr
from brainrnn.io import write_table
from brainrnn.workflow import run_rule


def main(smk):
    settings = smk.params.gradients
    names = pd.read_csv(smk.input.regions, sep="\t")["region"].astype(str).tolist()
    native = gr.embed(np.load(smk.input.fc), gr.GradientOptions.from_config(settings), seed=smk.params.seed)
    oriented, native_index = gr.orient_reference(native, names, settings["sensory_regions"],
                                                 settings["association_regions"])
    logging.getLogger(__name__).info("G1 is native component %d of %d; eigenvalues %s", native_index + 1,
                                     len(native.eigenvalues), np.round(native.eigenvalues, 4).tolist())
    write_table(gr.gradients_frame(oriented.gradients, names), smk.output.gradients, index=True)
    order = [native_index] + [i for i in range(len(native.eigenvalues)) if i != native_index]
    write_table(pd.DataFrame({"gradient": [f"G{i + 1}" for i in range(len(order))],
                              "native_component": [i + 1 for i in order],
                              "eigenvalue": oriented.eigenvalues}), smk.output.eigenvalues)


run_rule(snakemake, main)
