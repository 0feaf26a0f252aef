# Stage 2: functional connectivity per subject and the group mean.


rule connectivity:
    input:
        table="results/fmri/sub-{subject}/timeseries.tsv",
    output:
        fc="results/fmri/sub-{subject}/fc.npy",
    log:
        "logs/connectivity/sub-{subject}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/connectivity.py"


rule group_connectivity:
    input:
        fc=expand("results/fmri/sub-{subject}/fc.npy", subject=REFERENCE_SUBJECTS),
        tables=expand("results/fmri/sub-{subject}/timeseries.tsv", subject=REFERENCE_SUBJECTS),
    output:
        fc="results/fmri/group/fc.npy",
        regions="results/fmri/group/regions.tsv",
    params:
        fisher_z=config["connectivity"]["fisher_z"],
    log:
        "logs/group_connectivity.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/group_connectivity.py"
