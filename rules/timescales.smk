# Stage 5: Ornstein-Uhlenbeck timescales per region and their relation to the gradient.


rule timescales:
    input:
        table=rules.timeseries.output.table,
        meta=rules.timeseries.output.meta,
    output:
        timescales="results/fmri/sub-{subject}/timescales.tsv",
    log:
        "logs/timescales/sub-{subject}.log",
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        timescales=config["timescales"],
    script:
        "../workflow_scripts/timescales.py"


rule timescale_gradient:
    input:
        timescales=per_subject(rules.timescales.output.timescales),
        gradients=per_subject(rules.gradients.output.gradients),
    output:
        relation="results/fmri/timescale_gradient.tsv",
    log:
        "logs/timescale_gradient.log",
    localrule: True
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        subjects=list(SUBJECTS.index),
        groups=list(SUBJECTS["group"]),
    script:
        "../workflow_scripts/timescale_gradient.py"
