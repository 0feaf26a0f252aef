"""Rule figure_gradient_space: subjects' regions in G1-G2 space coloured by timescale."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

from brainrnn.fmri.figures import gradient_space_figure  # noqa: E402
from brainrnn.io import read_region_tables  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    subjects = smk.params.subjects
    gradients = read_region_tables(smk.input.gradients, subjects)
    taus = read_region_tables(smk.input.timescales, subjects)
    figure = gradient_space_figure(gradients, taus, dict(zip(subjects, smk.params.groups)))
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
