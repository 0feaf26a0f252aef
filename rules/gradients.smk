# Stage 3-4: reference and subject gradients (BrainSpace), Procrustes alignment, gradient spread.


rule reference_gradients:
    input:
        fc=rules.group_connectivity.output.fc,
        regions=rules.group_connectivity.output.regions,
    output:
        gradients="results/fmri/group/reference_gradients.tsv",
        eigenvalues="results/fmri/group/reference_eigenvalues.tsv",
        sidecar="results/fmri/group/reference_gradients.json",
    log:
        "logs/reference_gradients.log",
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        gradients=GRADIENT_SETTINGS,
    script:
        "../workflow_scripts/reference_gradients.py"


rule gradients:
    input:
        fc=rules.timeseries.output.fc,
        reference=rules.reference_gradients.output.gradients,
    output:
        gradients="results/fmri/sub-{subject}/gradients.tsv",
        eigenvalues="results/fmri/sub-{subject}/eigenvalues.tsv",
        native="results/fmri/sub-{subject}/gradients.json",
    log:
        "logs/gradients/sub-{subject}.log",
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        gradients=GRADIENT_SETTINGS,
    script:
        "../workflow_scripts/gradients.py"


rule gradient_spread:
    input:
        gradients=per_subject(rules.gradients.output.gradients),
        eigenvalues=per_subject(rules.gradients.output.eigenvalues),
        native=per_subject(rules.gradients.output.native),
        metas=per_subject(rules.timeseries.output.meta),
    output:
        spread="results/fmri/gradient_spread.tsv",
        exclusions="results/fmri/exclusions.tsv",
    log:
        "logs/gradient_spread.log",
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
        spread_dims=config["gradients"]["spread_dims"],
        quality=config["fmri"]["quality"],
    script:
        "../workflow_scripts/gradient_spread.py"
