# Model stage: cortico-cerebellar RNNs. train (CB-RNN, RNN-only) -> freeze (reservoir, interleaved)
# -> ablate, dimensionality -> summary; every trained model also goes through rule fixed_points.


rule train_cbrnn:
    input:
        unpack(cbrnn_core_input),
    output:
        models=expand("results/rnn/cbrnn/{{group}}/seed-{seed}/model.pt", seed=CB_SEEDS),
        level_one=expand("results/rnn/cbrnn/{{group}}/seed-{seed}/level_one.pt", seed=CB_SEEDS),
        histories=expand("results/rnn/cbrnn/{{group}}/seed-{seed}/history.tsv", seed=CB_SEEDS),
        metrics=expand("results/rnn/cbrnn/{{group}}/seed-{seed}/metrics.json", seed=CB_SEEDS),
    params:
        seeds=CB_SEEDS,
        base_seed=config["seed"],
        cbrnn=CBRNN_SETTINGS,
        checkpoint_dir="results/checkpoints/cbrnn/{group}",
    log:
        "logs/train_cbrnn/{group}.log",
    benchmark:
        "benchmarks/train_cbrnn/{group}.tsv"
    wildcard_constraints:
        group="cbrnn|rnn",
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_cbrnn.py"


rule freeze_cbrnn:
    input:
        level_one=expand("results/rnn/cbrnn/cbrnn/seed-{seed}/level_one.pt", seed=CB_SEEDS),
    output:
        models=expand("results/rnn/cbrnn/{{mode}}/seed-{seed}/model.pt", seed=CB_SEEDS),
        histories=expand("results/rnn/cbrnn/{{mode}}/seed-{seed}/history.tsv", seed=CB_SEEDS),
        metrics=expand("results/rnn/cbrnn/{{mode}}/seed-{seed}/metrics.json", seed=CB_SEEDS),
    params:
        seeds=CB_SEEDS,
        base_seed=config["seed"],
        cbrnn=CBRNN_SETTINGS,
        checkpoint_dir="results/checkpoints/cbrnn/{mode}",
    log:
        "logs/freeze_cbrnn/{mode}.log",
    benchmark:
        "benchmarks/freeze_cbrnn/{mode}.tsv"
    wildcard_constraints:
        mode="reservoir|interleaved",
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/freeze_cbrnn.py"


rule ablate_cbrnn:
    input:
        model="results/rnn/cbrnn/cbrnn/seed-{seed}/model.pt",
        metrics="results/rnn/cbrnn/cbrnn/seed-{seed}/metrics.json",
    output:
        ablation="results/rnn/cbrnn/cbrnn/seed-{seed}/ablation.tsv",
    params:
        trials=config["cbrnn"]["ablation_trials"],
        start_level=config["cbrnn"]["curriculum"]["start_level"],
        seed=lambda wildcards: derive_seed(config["seed"], "ablation", wildcards.seed),
    log:
        "logs/ablate_cbrnn/seed-{seed}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/ablate_cbrnn.py"


rule dimensionality_cbrnn:
    input:
        model="results/rnn/cbrnn/{group}/seed-{seed}/model.pt",
        metrics="results/rnn/cbrnn/{group}/seed-{seed}/metrics.json",
    output:
        table="results/rnn/cbrnn/{group}/seed-{seed}/dimensionality.tsv",
    params:
        trials=config["cbrnn"]["dimensionality_trials"],
        seed=lambda wildcards: derive_seed(config["seed"], "dimensionality", wildcards.group, wildcards.seed),
    log:
        "logs/dimensionality_cbrnn/{group}/seed-{seed}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/dimensionality_cbrnn.py"


rule summarise_cbrnn:
    input:
        metrics=cbrnn_outputs("metrics.json"),
        histories=cbrnn_outputs("history.tsv"),
        ablation=expand("results/rnn/cbrnn/cbrnn/seed-{seed}/ablation.tsv", seed=CB_SEEDS),
        dimensionality=cbrnn_outputs("dimensionality.tsv"),
        fixed_points=cbrnn_outputs("fixed_points.tsv"),
    output:
        summary="results/summary/cbrnn.tsv",
        runs="results/summary/cbrnn_runs.tsv",
        ablation="results/summary/cbrnn_ablation.tsv",
        dimensionality="results/summary/cbrnn_dimensionality.tsv",
    params:
        groups=cbrnn_wildcard("group"),
        seeds=cbrnn_wildcard("seed"),
    log:
        "logs/summarise_cbrnn.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/summarise_cbrnn.py"
