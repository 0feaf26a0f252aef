"""Rule gradient_spread: per subject spread (aligned and rotation-free), head motion, and who is excluded and why."""
import logging

import numpy as np
import pandas as pd

from brainrnn.fmri import gradients as gr
from brainrnn.fmri.quality import exclusion_reason
from brainrnn.fmri.tables import check_gradients
from brainrnn.io import read_json, write_table
from brainrnn.workflow import run_rule


def main(smk):
    rows = []
    for subject, group, grad_path, eig_path, native_path, meta_path in zip(
            smk.params.subjects, smk.params.groups, smk.input.gradients, smk.input.eigenvalues, smk.input.native,
            smk.input.metas, strict=True):
        frame = pd.read_csv(grad_path, sep="\t", index_col="region")
        check_gradients(frame, file=grad_path, subject=subject)
        eigen = pd.read_csv(eig_path, sep="\t")
        native = read_json(native_path)
        meta = read_json(meta_path)
        total, retained = meta.get("n_volumes_total") or meta["n_volumes"], meta.get("n_volumes_retained")
        mean_fd = meta.get("mean_fd_mm")
        quality = {"mean_fd_mm": np.nan if mean_fd is None else mean_fd,
                   "retained_fraction": (retained or meta["n_volumes"]) / total}
        reason = exclusion_reason(quality["mean_fd_mm"], quality["retained_fraction"], smk.params.quality)
        rows.append({"subject": subject, "group": group,
                     **gr.gradient_spread(frame.to_numpy(), smk.params.spread_dims),
                     "explained_G1": float(eigen["explained_share"].iloc[0]),
                     **{key: native[key] for key in ("g1_range_matched", "dispersion_native", "dispersion_full")},
                     **quality, "excluded": bool(reason), "exclusion_reason": reason})
    spread = pd.DataFrame(rows)
    excluded = spread.loc[spread["excluded"], ["subject", "group", "mean_fd_mm", "retained_fraction",
                                               "exclusion_reason"]]
    logging.getLogger(__name__).info("%d subjects, %d excluded by the quality thresholds %s", len(spread),
                                     len(excluded), dict(smk.params.quality))
    write_table(spread, smk.output.spread)
    write_table(excluded, smk.output.exclusions)


run_rule(snakemake, main)
