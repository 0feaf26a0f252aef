"""Rule figure_cbrnn_levels: curriculum level against epoch per group."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.cbrnn_figures import levels_figure  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    histories = pd.concat([pd.read_csv(path, sep="\t").assign(group=group) for path, group in
                           zip(smk.input.histories, smk.params.groups)], ignore_index=True)
    figure = levels_figure(histories, list(dict.fromkeys(smk.params.groups)))
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
