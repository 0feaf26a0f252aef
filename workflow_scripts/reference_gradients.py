"""Rule reference_gradients: deterministic embedding of the group FC, G1 chosen and signed sensory -> association."""
import logging

import numpy as np
import pandas as pd

from brainrnn.fmri import gradients as gr
from brainrnn.io import write_json, write_table
from brainrnn.workflow import run_rule


def main(smk):
    settings = smk.params.gradients
    regions = pd.read_csv(smk.input.regions, sep="\t", index_col="region")
    names = [str(name) for name in regions.index]
    template = regions["template"] if regions["template"].notna().any() else None
    native = gr.embed(np.load(smk.input.fc), gr.GradientOptions.from_config(settings))
    oriented, record = gr.orient_reference(native, names, gr.OrientationOptions.from_config(settings["orientation"]),
                                           template)
    log = logging.getLogger(__name__)
    log.info("G1 is native component %d of %d (method %s, score %.3f); eigenvalues %s", record["native_component"],
             len(native.eigenvalues), record["method"], record["score"], np.round(native.eigenvalues, 4).tolist())
    record["near_tie"] = record["eigengap"] < gr.EIGENGAP_WARNING
    if record["near_tie"]:
        log.warning("G1's eigenvalue is within %.1f%% of a neighbour's (eigengap %.4f): the component order is "
                    "fragile; G1 was chosen by %s, not by its index", 100 * gr.EIGENGAP_WARNING, record["eigengap"],
                    record["method"])
    write_table(gr.gradients_frame(oriented.gradients, names), smk.output.gradients, index=True)
    order = [record["native_component"] - 1] + [i for i in range(len(native.eigenvalues))
                                                if i != record["native_component"] - 1]
    write_table(pd.DataFrame({"gradient": [f"G{i + 1}" for i in range(len(order))],
                              "native_component": [i + 1 for i in order],
                              "eigenvalue": oriented.eigenvalues}), smk.output.eigenvalues)
    write_json({**record, "solver": "dense" if len(names) <= settings["dense_max_regions"] else "sparse",
                "n_regions": len(names), "eigengap_warning": gr.EIGENGAP_WARNING}, smk.output.sidecar)


run_rule(snakemake, main)
