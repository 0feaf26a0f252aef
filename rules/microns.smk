# Inputs: MICrONS fields (synthetic, a local folder, or checksummed downloads) -> one normalised field file.


rule download_microns:
    output:
        data="results/downloads/microns/{field}/{filename}",
    params:
        url=lambda wildcards: MICRONS_MANIFEST.loc[(wildcards.field, wildcards.filename), "url"],
        sha256=lambda wildcards: MICRONS_MANIFEST.loc[(wildcards.field, wildcards.filename), "sha256"],
        retries=config["fmri"]["download"]["retries"],
        timeout_s=config["fmri"]["download"]["timeout_s"],
    log:
        "logs/download_microns/{field}/{filename}.log",
    wildcard_constraints:
        field="[0-9]+_[0-9]+_[0-9]+",
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    retries: 1
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/download_microns.py"


rule microns_field:
    input:
        files=microns_field_files,
    output:
        field="results/microns/{field}/field.npz",
        quality="results/microns/{field}/quality.json",
    params:
        folder=lambda wildcards: microns_field_folder(),
        inf_md=config["microns"]["inf_md"],
        synthetic=config["microns"]["synthetic"],
        seed=lambda wildcards: derive_seed(config["seed"], "microns", wildcards.field),
    log:
        "logs/microns_field/{field}.log",
    wildcard_constraints:
        field="synthetic|[0-9]+_[0-9]+_[0-9]+",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/microns_field.py"
