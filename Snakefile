# Brain-constrained recurrent neural networks: from fMRI and connectomes to figures.
# Run `make run` for the demo, or `snakemake --profile profiles/local --configfile <yours>`;
# `snakemake <target>` runs one part: fmri, gradreg, cbrnn, microns, lowrank, jedi, figures or all (the
# default).
from snakemake.utils import min_version

min_version("9.27.1")


configfile: "config/config.yaml"


report: "resources/report/workflow.rst"


include: "rules/common.smk"
include: "rules/timeseries.smk"
include: "rules/connectivity.smk"
include: "rules/gradients.smk"
include: "rules/timescales.smk"
include: "rules/fmri_stats.smk"
include: "rules/microns.smk"
include: "rules/gradreg.smk"
include: "rules/cbrnn.smk"
include: "rules/lowrank.smk"
include: "rules/fixed_points.smk"
include: "rules/jedi.smk"
include: "rules/figures.smk"
include: "rules/manifest.smk"


rule all:
    default_target: True
    input:
        all_targets(),
        rules.checksum_manifest.output.manifest,
    localrule: True


rule fmri:
    input:
        family_targets("fmri"),
    localrule: True


rule gradreg:
    input:
        family_targets("gradreg") if GRADREG["enabled"] else [],
    localrule: True


rule cbrnn:
    input:
        family_targets("cbrnn") if CBRNN["enabled"] else [],
    localrule: True


rule microns:
    input:
        family_targets("microns") if MICRONS["enabled"] else [],
    localrule: True


rule lowrank:
    input:
        family_targets("lowrank") if LOWRANK["enabled"] else [],
    localrule: True


rule jedi:
    input:
        family_targets("jedi") if JEDI["enabled"] else [],
    localrule: True


rule figures:
    input:
        [name for name in all_targets() if name.startswith("results/figures/")],
        rules.report_config.output,
    localrule: True
