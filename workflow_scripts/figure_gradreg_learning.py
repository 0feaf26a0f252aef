"""Rule figure_gradreg_learning: learning curves by variant."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.gradreg_figures import learning_figure  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    frames = [pd.read_csv(path, sep="\t").assign(variant=variant)
              for path, variant in zip(smk.input.histories, smk.params.variant_of_history)]
    figure = learning_figure(pd.concat(frames, ignore_index=True), list(smk.params.variants))
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
