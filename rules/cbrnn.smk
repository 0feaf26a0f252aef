# Model family: cortico-cerebellar RNNs. train (CB-RNN, RNN-only) and freeze (reservoir, interleaved:
# level 1, then the core frozen), each from scratch on one epoch axis, keeping each network's state when
# it passed every analysis level -> ablate (CB-RNN beside the plain RNN) and dimensionality (every group)
# at those levels -> summary and declared contrasts; every final model also goes through fixed_points.


rule train_cbrnn:
    input:
        unpack(cbrnn_core_input),
    output:
        models=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/model.pt", seed=CBRNN["seeds"]
        ),
        snapshots=cbrnn_snapshots("{group}", CBRNN["seeds"]),
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
        cbrnn=CBRNN_END_TO_END_SETTINGS,
        checkpoint_dir="results/checkpoints/cbrnn/{group}",
    script:
        "../workflow_scripts/train_cbrnn.py"


rule freeze_cbrnn:
    input:
        unpack(cbrnn_core_input),
    output:
        models=expand(
            "results/rnn/cbrnn/{{group}}/seed-{seed}/model.pt", seed=CBRNN["seeds"]
        ),
        snapshots=cbrnn_snapshots("{group}", CBRNN["seeds"]),
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
        snapshots=lambda wildcards: cbrnn_snapshots("cbrnn", [wildcards.seed]),
        plain=lambda wildcards: cbrnn_snapshots("rnn", [wildcards.seed]),
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
        seed=lambda wildcards: derive_seed(config["seed"], "ablation", wildcards.seed),
    script:
        "../workflow_scripts/ablate_cbrnn.py"


rule dimensionality_cbrnn:
    input:
        snapshots=lambda wildcards: cbrnn_snapshots(wildcards.group, [wildcards.seed]),
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
        tests="results/summary/cbrnn_tests.tsv",
        curves="results/summary/cbrnn_curves.tsv",
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
        levels=CBRNN["analysis_levels"],
        n_permutations=config["summary"]["n_permutations"],
        seed=config["seed"],
    script:
        "../workflow_scripts/summarise_cbrnn.py"
