"""Rule figure_gradreg_vs_spread: learning and fixed-point measures against gradient spread."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.gradreg_figures import spread_figure  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    summary = pd.read_csv(smk.input.summary, sep="\t", dtype={"subject": str})
    correlations = pd.read_csv(smk.input.versus_spread, sep="\t")
    figure = spread_figure(summary, correlations, variant=smk.params.variant)
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
