"""Rule timescale_gradient: per subject Spearman rho of tau with gradient extremity and with G1."""
import pandas as pd

from brainrnn.errors import InputError
from brainrnn.fmri.tables import check_gradients
from brainrnn.fmri.timescales import timescale_gradient_relation
from brainrnn.io import write_table
from brainrnn.workflow import run_rule


def main(smk):
    rows = []
    for subject, group, tau_path, grad_path in zip(smk.params.subjects, smk.params.groups,
                                                   smk.input.timescales, smk.input.gradients, strict=True):
        gradients = pd.read_csv(grad_path, sep="\t", index_col="region")
        check_gradients(gradients, file=grad_path, subject=subject)
        tau = pd.read_csv(tau_path, sep="\t", index_col="region")
        if set(tau.index) != set(gradients.index):
            raise InputError("timescale and gradient tables list different regions.", file=tau_path,
                             subject=subject, field="region", fix="rerun both from the same time series.")
        relation = timescale_gradient_relation(tau.loc[gradients.index, "tau_s"], gradients["G1"])
        rows.append({"subject": subject, "group": group, **relation})
    write_table(pd.DataFrame(rows), smk.output.relation)


run_rule(snakemake, main)
