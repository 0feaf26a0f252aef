"""Rule figure_timescale_extremity: tau against gradient extremity, and per-subject rho by group."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.fmri.figures import timescale_extremity_figure  # noqa: E402
from brainrnn.io import read_region_tables  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    subjects = smk.params.subjects
    gradients = read_region_tables(smk.input.gradients, subjects)
    taus = read_region_tables(smk.input.timescales, subjects)
    relation = pd.read_csv(smk.input.relation, sep="\t", dtype={"subject": str})
    figure = timescale_extremity_figure(gradients, taus, relation)
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
