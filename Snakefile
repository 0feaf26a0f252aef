# Brain-constrained recurrent neural networks: from fMRI and connectomes to figures.
# Run `make run` for the demo, or `snakemake --profile profiles/local --configfile <yours>`.
from snakemake.utils import min_version

min_version("9.15.0")


configfile: "config/config.yaml"


report: "resources/report/workflow.rst"


include: "rules/common.smk"
include: "rules/timeseries.smk"
include: "rules/microns.smk"
include: "rules/connectivity.smk"
include: "rules/gradients.smk"
include: "rules/timescales.smk"
include: "rules/gradreg.smk"
include: "rules/cbrnn.smk"
include: "rules/fixed_points.smk"
include: "rules/figures.smk"
include: "rules/manifest.smk"


# Light steps (summaries, figures, the target rule) run on the submitting node, not as cluster jobs.
localrules:
    all,
    checksum_manifest,
    gradient_spread,
    timescale_gradient,
    summarise_gradreg,
    summarise_cbrnn,
    figure_gradient_space,
    figure_spread_by_group,
    figure_timescale_extremity,
    figure_gradreg_learning,
    figure_gradreg_vs_spread,
    figure_gradreg_spectra,
    figure_cbrnn_levels,
    figure_cbrnn_ablation,
    summarise_microns,
    figure_microns_accuracy,
    figure_microns_graph,
    figure_family_fmri,
    figure_family_gradreg,
    figure_family_cbrnn,
    figure_family_microns,
    figure_overview,
    report_config,


rule all:
    input:
        all_outputs(),
        "results/checksums.sha256",
    default_target: True
