"""Rule figure_gradreg_spectra: Jacobian eigenvalues at delay fixed points, per variant."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import numpy as np  # noqa: E402

from brainrnn.gradreg_figures import spectra_figure  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    pooled: dict[str, list[np.ndarray]] = {}
    for path, variant in zip(smk.input.points, smk.params.variant_of_points):
        with np.load(path) as saved:
            pooled.setdefault(variant, []).append(saved["eigenvalues"].ravel())
    eigenvalues = {variant: np.concatenate(values) for variant, values in pooled.items()}
    figure = spectra_figure(eigenvalues, list(smk.params.variants))
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
