"""Rule timescale_gradient: Spearman rho of tau with gradient extremity and G1, parametric and surrogate p.

One row per subject (its τ map against its aligned G1), and in a table of its own the group's (the
regional mean τ over subjects against the reference G1).
"""
import logging

import numpy as np
import pandas as pd

from brainrnn.errors import InputError
from brainrnn.fmri.nulls import distance_matrix
from brainrnn.fmri.tables import check_gradients
from brainrnn.fmri.timescales import timescale_gradient_relation
from brainrnn.io import write_table
from brainrnn.seeding import derive_seed
from brainrnn.workflow import run_rule


def main(smk):
    log = logging.getLogger(__name__)
    regions = pd.read_csv(smk.input.regions, sep="\t", index_col="region")
    reference = pd.read_csv(smk.input.reference, sep="\t", index_col="region")
    centroids = regions[["x", "y", "z"]]
    distances = distance_matrix(centroids.to_numpy()) if centroids.notna().all().all() else None
    n_surrogates = smk.params.n_surrogates
    if distances is None:
        log.warning("no region centroids (fmri.regions.table x/y/z or a known atlas): p_surrogate is NaN")
    rows, taus = [], []
    for subject, group, tau_path, grad_path in zip(smk.params.subjects, smk.params.groups,
                                                   smk.input.timescales, smk.input.gradients, strict=True):
        gradients = pd.read_csv(grad_path, sep="\t", index_col="region")
        check_gradients(gradients, file=grad_path, subject=subject)
        tau = pd.read_csv(tau_path, sep="\t", index_col="region")
        if set(tau.index) != set(gradients.index) or set(tau.index) != set(regions.index):
            raise InputError("timescale, gradient and region tables list different regions.", file=tau_path,
                             subject=subject, field="region", fix="rerun them from the same time series.")
        rng = np.random.default_rng(derive_seed(smk.params.seed, "timescale_gradient", subject))
        relation = timescale_gradient_relation(tau.loc[regions.index, "tau_s"], gradients.loc[regions.index, "G1"],
                                               distances=distances, n_surrogates=n_surrogates, rng=rng)
        rows.append({"subject": subject, "group": group, **relation})
        taus.append(tau.loc[regions.index, "tau_s"])
        log.info("sub-%s: rho(tau, extremity) %.3f, p parametric %.2g, p surrogate %.3g (%d of %d regions)",
                 subject, relation["rho_tau_extremity"], relation["p_parametric_tau_extremity"],
                 relation["p_surrogate_tau_extremity"], relation["n_regions"], len(regions))
    mean_tau = pd.concat(taus, axis=1).mean(axis=1)
    rng = np.random.default_rng(derive_seed(smk.params.seed, "timescale_gradient", "group"))
    group = timescale_gradient_relation(mean_tau, reference.loc[regions.index, "G1"], distances=distances,
                                        n_surrogates=n_surrogates, rng=rng)
    log.info("group: rho(tau, extremity) %.3f, p parametric %.2g, p surrogate %.3g", group["rho_tau_extremity"],
             group["p_parametric_tau_extremity"], group["p_surrogate_tau_extremity"])
    write_table(pd.DataFrame(rows), smk.output.relation)
    write_table(pd.DataFrame([{"map": "mean_tau_vs_reference_G1", **group}]), smk.output.group)


run_rule(snakemake, main)
