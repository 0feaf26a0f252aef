"""Rule figure_cbrnn_ablation: accuracy per N with the cerebellum ablated."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.cbrnn_figures import ablation_figure  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    figure = ablation_figure(pd.read_csv(smk.input.ablation, sep="\t"))
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
