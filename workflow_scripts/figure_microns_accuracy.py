"""Rule figure_microns_accuracy: accuracy heat map per mode beside the authors' reported table."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.microns.summary import accuracy_figure  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    summary = pd.read_csv(smk.input.summary, sep="\t")
    reported = pd.read_csv(smk.input.reported, sep="\t", comment="#")
    figure = accuracy_figure(summary, reported, list(smk.params.variants), list(smk.params.tasks))
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
