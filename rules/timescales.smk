# Stage 5: Ornstein-Uhlenbeck timescales per region and their relation to the gradient.


rule timescales:
    input:
        table="results/fmri/sub-{subject}/timeseries.tsv",
        meta="results/fmri/sub-{subject}/timeseries.json",
    output:
        timescales="results/fmri/sub-{subject}/timescales.tsv",
    params:
        timescales=config["timescales"],
    log:
        "logs/timescales/sub-{subject}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/timescales.py"


rule timescale_gradient:
    input:
        timescales=per_subject("results/fmri/sub-{subject}/timescales.tsv"),
        gradients=per_subject("results/fmri/sub-{subject}/gradients.tsv"),
    output:
        relation="results/fmri/timescale_gradient.tsv",
    params:
        subjects=list(SUBJECTS.index),
        groups=list(SUBJECTS["group"]),
    log:
        "logs/timescale_gradient.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/timescale_gradient.py"
