# Model family: cortico-cerebellar RNNs. train (CB-RNN, RNN-only) -> freeze (reservoir, interleaved)
# -> ablate, dimensionality -> summary; every trained model also goes through rule fixed_points.


rule train_cbrnn:
    input:
        unpack(cbrnn_core_input),
    output:
        models=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/model.pt", seed=CBRNN["seeds"]
        ),
        level_one=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/level_one.pt", seed=CBRNN["seeds"]
        ),
        histories=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/history.tsv", seed=CBRNN["seeds"]
        ),
        metrics=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/metrics.json", seed=CBRNN["seeds"]
        ),
    log:
        "logs/train_cbrnn/{group}.log",
    benchmark:
        "benchmarks/train_cbrnn/{group}.tsv"
    wildcard_constraints:
        group=one_of(cbrnn.TRAINED_GROUPS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
        gpu=DEVICE_GPUS,
    params:
        device=config["device"],
        seeds=CBRNN["seeds"],
        base_seed=config["seed"],
        cbrnn=CBRNN_SETTINGS,
        checkpoint_dir="results/checkpoints/cbrnn/{group}",
    script:
        "../workflow_scripts/train_cbrnn.py"


rule freeze_cbrnn:
    input:
        level_one=expand(
            "results/rnn/cbrnn/cbrnn/seed-{seed}/level_one.pt", seed=CBRNN["seeds"]
        ),
    output:
        models=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/model.pt", seed=CBRNN["seeds"]
        ),
        histories=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/history.tsv", seed=CBRNN["seeds"]
        ),
        metrics=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/metrics.json", seed=CBRNN["seeds"]
        ),
    log:
        "logs/freeze_cbrnn/{group}.log",
    benchmark:
        "benchmarks/freeze_cbrnn/{group}.tsv"
    wildcard_constraints:
        group=one_of(cbrnn.FROZEN_GROUPS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
        gpu=DEVICE_GPUS,
    params:
        device=config["device"],
        seeds=CBRNN["seeds"],
        base_seed=config["seed"],
        cbrnn=CBRNN_SETTINGS,
        checkpoint_dir="results/checkpoints/cbrnn/{group}",
    script:
        "../workflow_scripts/freeze_cbrnn.py"


rule ablate_cbrnn:
    input:
        model="results/rnn/cbrnn/cbrnn/seed-{seed}/model.pt",
        metrics="results/rnn/cbrnn/cbrnn/seed-{seed}/metrics.json",
    output:
        ablation="results/rnn/cbrnn/cbrnn/seed-{seed}/ablation.tsv",
    log:
        "logs/ablate_cbrnn/seed-{seed}.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        trials=CBRNN["ablation_trials"],
        start_level=CBRNN["curriculum"]["start_level"],
        seed=lambda wildcards: derive_seed(config["seed"], "ablation", wildcards.seed),
    script:
        "../workflow_scripts/ablate_cbrnn.py"


rule dimensionality_cbrnn:
    input:
        model="results/rnn/cbrnn/{group}/seed-{seed}/model.pt",
        metrics="results/rnn/cbrnn/{group}/seed-{seed}/metrics.json",
    output:
        table="results/rnn/cbrnn/{group}/seed-{seed}/dimensionality.tsv",
    log:
        "logs/dimensionality_cbrnn/{group}/seed-{seed}.log",
    wildcard_constraints:
        group=one_of(cbrnn.GROUPS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        trials=CBRNN["dimensionality_trials"],
        seed=lambda wildcards: derive_seed(
            config["seed"], "dimensionality", wildcards.group, wildcards.seed
        ),
    script:
        "../workflow_scripts/dimensionality_cbrnn.py"


rule summarise_cbrnn:
    input:
        metrics=cbrnn_outputs("metrics.json"),
        histories=cbrnn_outputs("history.tsv"),
        ablation=expand(rules.ablate_cbrnn.output.ablation, seed=CBRNN["seeds"]),
        dimensionality=cbrnn_outputs("dimensionality.tsv"),
        fixed_points=cbrnn_outputs("fixed_points.tsv"),
    output:
        summary="results/summary/cbrnn.tsv",
        runs="results/summary/cbrnn_runs.tsv",
        ablation="results/summary/cbrnn_ablation.tsv",
        dimensionality="results/summary/cbrnn_dimensionality.tsv",
    log:
        "logs/summarise_cbrnn.log",
    localrule: True
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        runs=cbrnn_runs(),
    script:
        "../workflow_scripts/summarise_cbrnn.py"
