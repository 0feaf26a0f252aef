# Stage 6: publication figures (PNG + PDF), registered in the Snakemake report.


rule figure_gradient_space:
    input:
        gradients=per_subject("results/fmri/sub-{subject}/gradients.tsv"),
        timescales=per_subject("results/fmri/sub-{subject}/timescales.tsv"),
    output:
        png=report("results/figures/fmri_gradient_space.png", caption="../resources/report/fmri_gradient_space.rst",
                   category="fMRI"),
        pdf="results/figures/fmri_gradient_space.pdf",
    params:
        subjects=list(SUBJECTS.index),
        groups=list(SUBJECTS["group"]),
        style=config["figures"],
    log:
        "logs/figures/fmri_gradient_space.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_gradient_space.py"


rule figure_spread_by_group:
    input:
        spread="results/fmri/gradient_spread.tsv",
    output:
        png=report("results/figures/fmri_spread_by_group.png", caption="../resources/report/fmri_spread_by_group.rst",
                   category="fMRI"),
        pdf="results/figures/fmri_spread_by_group.pdf",
    params:
        style=config["figures"],
    log:
        "logs/figures/fmri_spread_by_group.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_spread_by_group.py"


rule figure_timescale_extremity:
    input:
        gradients=per_subject("results/fmri/sub-{subject}/gradients.tsv"),
        timescales=per_subject("results/fmri/sub-{subject}/timescales.tsv"),
        relation="results/fmri/timescale_gradient.tsv",
    output:
        png=report("results/figures/fmri_timescale_extremity.png",
                   caption="../resources/report/fmri_timescale_extremity.rst", category="fMRI"),
        pdf="results/figures/fmri_timescale_extremity.pdf",
    params:
        subjects=list(SUBJECTS.index),
        style=config["figures"],
    log:
        "logs/figures/fmri_timescale_extremity.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_timescale_extremity.py"
