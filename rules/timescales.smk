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
        regions=rules.group_connectivity.output.regions,
        reference=rules.reference_gradients.output.gradients,
    output:
        relation="results/fmri/timescale_gradient.tsv",
        group="results/fmri/group/timescale_gradient.tsv",
    log:
        "logs/timescale_gradient.log",
    benchmark:
        "benchmarks/timescale_gradient/timescale_gradient.tsv"
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        subjects=list(SUBJECTS.index),
        groups=list(SUBJECTS["group"]),
        n_surrogates=config["spatial_nulls"]["n_surrogates"],
        seed=config["seed"],
    script:
        "../workflow_scripts/timescale_gradient.py"
