"""Rules figure_family_* and figure_overview: one family's multi-panel figure, or the overview page."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

from brainrnn.family_figures import families_figure, load_families  # noqa: E402
from brainrnn.plotting import apply_style, save_figure  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    apply_style(smk.params.style["font_size"])
    results = load_families(dict(smk.input.items()), smk.params.loader, smk.params.families)
    save_figure(families_figure(results), smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)  # noqa: F821
