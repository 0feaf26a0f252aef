# Inputs: MICrONS fields (synthetic, a local folder, or checksummed downloads, archives unpacked safely)
# -> one normalised field file.


rule download_microns:
    output:
        data="results/downloads/microns/{field}/{filename}",
    log:
        "logs/download_microns/{field}/{filename}.log",
    wildcard_constraints:
        field="[0-9]+_[0-9]+_[0-9]+",
    retries: 1
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=30,
    params:
        url=lambda wildcards: STUDY.microns_manifest.loc[
            (wildcards.field, wildcards.filename), "url"
        ],
        sha256=lambda wildcards: STUDY.microns_manifest.loc[
            (wildcards.field, wildcards.filename), "sha256"
        ],
        retries=config["fmri"]["download"]["retries"],
        timeout_s=config["fmri"]["download"]["timeout_s"],
    script:
        "../workflow_scripts/download_microns.py"


rule extract_microns:
    input:
        archive="results/downloads/microns/{field}/{archive}",
    output:
        folder=directory("results/extracted/microns/{field}/{archive}"),
    log:
        "logs/extract_microns/{field}/{archive}.log",
    wildcard_constraints:
        field="[0-9]+_[0-9]+_[0-9]+",
        archive=r"[A-Za-z0-9_.-]+\.(zip|tar|tgz|tbz2|txz|tar\.gz|tar\.bz2|tar\.xz)",
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    params:
        inner=lambda wildcards: STUDY.microns_manifest.loc[
            (wildcards.field, wildcards.archive), "extract"
        ],
    script:
        "../workflow_scripts/extract_microns.py"


rule microns_field:
    input:
        files=microns_field_files,
    output:
        field="results/microns/{field}/field.npz",
        quality="results/microns/{field}/quality.json",
    log:
        "logs/microns_field/{field}.log",
    wildcard_constraints:
        field="synthetic|[0-9]+_[0-9]+_[0-9]+",
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        folder=microns_field_folder,
        inf_md=MICRONS["inf_md"],
        synthetic=MICRONS["synthetic"],
        seed=lambda wildcards: derive_seed(config["seed"], "microns", wildcards.field),
    script:
        "../workflow_scripts/microns_field.py"


rule microns_nulls:
    input:
        field=rules.microns_field.output.field,
    output:
        nulls="results/microns/{field}/nulls.json",
    log:
        "logs/microns_nulls/{field}.log",
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        n_nulls=MICRONS["n_nulls"],
        seed=lambda wildcards: derive_seed(config["seed"], "nulls", wildcards.field),
    script:
        "../workflow_scripts/microns_nulls.py"


rule train_microns:
    input:
        field=rules.microns_field.output.field,
        nulls=rules.microns_nulls.output.nulls,
    output:
        models=expand(
            "results/rnn/microns/{{mode}}/{{field}}/{{variant}}/{{task}}/seed-{seed}/model.pt",
            seed=MICRONS["seeds"],
        ),
        histories=expand(
            "results/rnn/microns/{{mode}}/{{field}}/{{variant}}/{{task}}/seed-{seed}/history.tsv",
            seed=MICRONS["seeds"],
        ),
        metrics=expand(
            "results/rnn/microns/{{mode}}/{{field}}/{{variant}}/{{task}}/seed-{seed}/metrics.json",
            seed=MICRONS["seeds"],
        ),
    log:
        "logs/train_microns/{mode}/{field}/{variant}/{task}.log",
    benchmark:
        "benchmarks/train_microns/{mode}/{field}/{variant}/{task}.tsv"
    wildcard_constraints:
        mode=one_of(microns.MODES),
        variant=one_of(MICRONS_VARIANT_OF_SLUG),
        task=one_of(microns.TASKS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 3000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
        gpu=DEVICE_GPUS,
    params:
        device=config["device"],
        variant=lambda wildcards: MICRONS_VARIANT_OF_SLUG[wildcards.variant],
        seeds=MICRONS["seeds"],
        base_seed=config["seed"],
        settings=MICRONS_TRAINING_SETTINGS,
    script:
        "../workflow_scripts/train_microns.py"


rule summarise_microns:
    input:
        metrics=microns_outputs("metrics.json"),
        fixed_points=microns_outputs("fixed_points.tsv"),
        reported="resources/microns/reported_accuracy.tsv",
    output:
        summary="results/summary/microns.tsv",
        runs="results/summary/microns_runs.tsv",
    log:
        "logs/summarise_microns.log",
    localrule: True
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../workflow_scripts/summarise_microns.py"
