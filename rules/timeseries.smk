# Stage 1: raw data -> one cleaned, validated parcellated time series per subject, and its FC (one job:
# FC has no settings and reruns exactly when the series does, so a job of its own bought no rerun).


rule download_fmri:
    output:
        data="results/downloads/fmri/sub-{subject}/{filename}",
    log:
        "logs/download_fmri/sub-{subject}/{filename}.log",
    retries: 1
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    params:
        url=lambda wildcards: manifest_entry(wildcards, "url"),
        sha256=lambda wildcards: manifest_entry(wildcards, "sha256"),
        retries=config["fmri"]["download"]["retries"],
        timeout_s=config["fmri"]["download"]["timeout_s"],
    script:
        "../workflow_scripts/download_fmri.py"


rule timeseries:
    input:
        unpack(timeseries_inputs),
    output:
        table="results/fmri/sub-{subject}/timeseries.tsv",
        meta="results/fmri/sub-{subject}/timeseries.json",
        fc="results/fmri/sub-{subject}/fc.npy",
    log:
        "logs/timeseries/sub-{subject}.log",
    benchmark:
        "benchmarks/timeseries/sub-{subject}.tsv"
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        source=SOURCE,
        tr=timeseries_tr,
        clean=config["fmri"]["clean"],
        min_volumes=config["fmri"]["min_volumes"],
        bids=config["fmri"]["bids"],
        regions=config["fmri"]["regions"],
        orientation=ORIENTATION_CHECK,
        mat_key=lambda wildcards: (
            manifest_entry(wildcards, "key") if SOURCE == "download" else None
        ),
        labels=lambda wildcards: (
            manifest_entry(wildcards, "labels") if SOURCE == "download" else None
        ),
    script:
        "../workflow_scripts/timeseries.py"
