"""Rule figure_microns_graph: graph measures of the learned networks by variant."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.microns.summary import graph_figure  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    figure = graph_figure(pd.read_csv(smk.input.summary, sep="\t"), list(smk.params.variants))
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
