# Brain-constrained recurrent neural networks: from fMRI and connectomes to figures.
# Run `make run` for the demo, or `snakemake --profile profiles/default --configfile <yours>`.
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


rule all:
    input:
        all_outputs(),
    default_target: True
