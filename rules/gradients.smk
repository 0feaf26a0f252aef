# Stage 3-4: reference and subject gradients (BrainSpace), Procrustes alignment, gradient spread.


rule reference_gradients:
    input:
        fc="results/fmri/group/fc.npy",
        regions="results/fmri/group/regions.tsv",
    output:
        gradients="results/fmri/group/reference_gradients.tsv",
        eigenvalues="results/fmri/group/reference_eigenvalues.tsv",
    params:
        gradients=GRADIENT_SETTINGS,
        seed=config["seed"],
    log:
        "logs/reference_gradients.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/reference_gradients.py"


rule gradients:
    input:
        fc="results/fmri/sub-{subject}/fc.npy",
        reference="results/fmri/group/reference_gradients.tsv",
    output:
        gradients="results/fmri/sub-{subject}/gradients.tsv",
        eigenvalues="results/fmri/sub-{subject}/eigenvalues.tsv",
    params:
        gradients=GRADIENT_SETTINGS,
        seed=config["seed"],
    log:
        "logs/gradients/sub-{subject}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/gradients.py"


rule gradient_spread:
    input:
        gradients=per_subject("results/fmri/sub-{subject}/gradients.tsv"),
        eigenvalues=per_subject("results/fmri/sub-{subject}/eigenvalues.tsv"),
    output:
        spread="results/fmri/gradient_spread.tsv",
    params:
        subjects=list(SUBJECTS.index),
        groups=list(SUBJECTS["group"]),
        spread_dims=config["gradients"]["spread_dims"],
    log:
        "logs/gradient_spread.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/gradient_spread.py"
