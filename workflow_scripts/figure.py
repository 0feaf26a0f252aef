"""Rules figure_*: one figure (a stage figure, a family figure or the overview), drawn by name."""


from brainrnn.overview import draw_figure
from brainrnn.plotting import apply_style, save_figure
from brainrnn.workflow import run_rule


def main(smk):
    apply_style(smk.params.style["font_size"])
    figure = draw_figure(smk.params.figure, dict(smk.input.items()), smk.params.loader, smk.params.families)
    save_figure(figure, smk.output.png, smk.output.pdf, dpi=smk.params.style["dpi"])


run_rule(snakemake, main)
