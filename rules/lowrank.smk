# Model family: developmental low-rank RNNs and tiny GRUs on reward-learning tasks. simulate (or read) the
# choice data -> fit cognitive models; train premature / mature low-rank networks and tiny GRUs in fit and
# act modes -> fixed points (rules/fixed_points.smk) -> summary and predictions; the LDS bridge to fMRI.


rule simulate_lowrank:
    input:
        unpack(lowrank_choice_input),
    output:
        tables=expand(
            "results/lowrank/choices/{{task}}/seed-{seed}.tsv", seed=LOWRANK["seeds"]
        ),
        records=expand(
            "results/lowrank/choices/{{task}}/seed-{seed}.json", seed=LOWRANK["seeds"]
        ),
    log:
        "logs/simulate_lowrank/{task}.log",
    wildcard_constraints:
        task=one_of(lowrank.TASKS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        seeds=LOWRANK["seeds"],
        base_seed=config["seed"],
        settings=lambda wildcards: lowrank_settings(wildcards.task, "simulate"),
    script:
        "../workflow_scripts/simulate_lowrank.py"


rule fit_cognitive_lowrank:
    input:
        tables=rules.simulate_lowrank.output.tables,
        records=rules.simulate_lowrank.output.records,
    output:
        fits="results/lowrank/cognitive/{task}.tsv",
    log:
        "logs/fit_cognitive_lowrank/{task}.log",
    benchmark:
        "benchmarks/fit_cognitive_lowrank/{task}.tsv"
    wildcard_constraints:
        task=one_of(lowrank.TASKS),
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        seeds=LOWRANK["seeds"],
        base_seed=config["seed"],
        settings=lambda wildcards: lowrank_settings(wildcards.task, "cognitive"),
        starts=LOWRANK["cognitive"]["starts"],
    script:
        "../workflow_scripts/fit_cognitive_lowrank.py"


rule train_lowrank:
    input:
        unpack(lowrank_fit_input),
    output:
        models=expand(
            "results/rnn/lowrank/{{mode}}/{{task}}/{{configuration}}/seed-{seed}/model.pt",
            seed=LOWRANK["seeds"],
        ),
        histories=expand(
            "results/rnn/lowrank/{{mode}}/{{task}}/{{configuration}}/seed-{seed}/history.tsv",
            seed=LOWRANK["seeds"],
        ),
        metrics=expand(
            "results/rnn/lowrank/{{mode}}/{{task}}/{{configuration}}/seed-{seed}/metrics.json",
            seed=LOWRANK["seeds"],
        ),
    log:
        "logs/train_lowrank/{mode}/{task}/{configuration}.log",
    benchmark:
        "benchmarks/train_lowrank/{mode}/{task}/{configuration}.tsv"
    wildcard_constraints:
        mode=one_of(lowrank.MODES),
        task=one_of(lowrank.TASKS),
        configuration=one_of(lowrank.DEVELOPMENTAL),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        seeds=LOWRANK["seeds"],
        base_seed=config["seed"],
        settings=lambda wildcards: lowrank_settings(wildcards.task, "train"),
        checkpoint_dir="results/checkpoints/lowrank/{mode}/{task}/{configuration}",
    script:
        "../workflow_scripts/train_lowrank.py"


rule train_lowrank_gru:
    input:
        unpack(lowrank_fit_input),
    output:
        networks=expand(
            "results/rnn/lowrank/{{mode}}/{{task}}/gru-{units}/seed-{seed}/network.pt",
            units=LOWRANK["gru"]["units"],
            seed=LOWRANK["seeds"],
        ),
        histories=expand(
            "results/rnn/lowrank/{{mode}}/{{task}}/gru-{units}/seed-{seed}/history.tsv",
            units=LOWRANK["gru"]["units"],
            seed=LOWRANK["seeds"],
        ),
        metrics=expand(
            "results/rnn/lowrank/{{mode}}/{{task}}/gru-{units}/seed-{seed}/metrics.json",
            units=LOWRANK["gru"]["units"],
            seed=LOWRANK["seeds"],
        ),
    log:
        "logs/train_lowrank_gru/{mode}/{task}.log",
    benchmark:
        "benchmarks/train_lowrank_gru/{mode}/{task}.tsv"
    wildcard_constraints:
        mode=one_of(lowrank.MODES),
        task=one_of(lowrank.TASKS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        seeds=LOWRANK["seeds"],
        base_seed=config["seed"],
        settings=lambda wildcards: lowrank_settings(wildcards.task, "gru"),
        checkpoint_dir="results/checkpoints/lowrank/{mode}/{task}/gru",
    script:
        "../workflow_scripts/train_lowrank_gru.py"


rule lowrank_bridge:
    input:
        timeseries=per_subject(rules.timeseries.output.table),
        spread=rules.gradient_spread.output.spread,
    output:
        bridge="results/summary/lowrank_bridge.tsv",
        versus_spread="results/summary/lowrank_bridge_vs_spread.tsv",
    log:
        "logs/lowrank_bridge.log",
    localrule: True
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        subjects=list(SUBJECTS.index),
        settings=LOWRANK["bridge"],
        decay_values=LOWRANK["analysis"]["decay_values"],
        n_permutations=config["summary"]["n_permutations"],
        seed=derive_seed(config["seed"], "lowrank-bridge"),
    script:
        "../workflow_scripts/lowrank_bridge.py"


rule summarise_lowrank:
    input:
        metrics=lowrank_outputs("metrics.json"),
        fixed_points=lowrank_outputs(
            "fixed_points.tsv",
            developmental_only=True,
            seeds=lowrank_fixed_point_seeds(),
        ),
        records=expand(
            "results/lowrank/choices/{task}/seed-{seed}.json",
            task=LOWRANK["tasks"] if "fit" in LOWRANK["modes"] else [],
            seed=LOWRANK["seeds"],
        ),
        cognitive=expand(
            "results/lowrank/cognitive/{task}.tsv",
            task=LOWRANK["tasks"] if "fit" in LOWRANK["modes"] else [],
        ),
    output:
        summary="results/summary/lowrank.tsv",
        runs="results/summary/lowrank_runs.tsv",
        predictions="results/summary/lowrank_predictions.tsv",
        spectra="results/summary/lowrank_spectra.tsv",
        curves="results/summary/lowrank_curves.tsv",
    log:
        "logs/summarise_lowrank.log",
    localrule: True
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        fixed_point_runs=lowrank_runs(
            developmental_only=True, seeds=lowrank_fixed_point_seeds()
        ),
        configurations=LOWRANK["configurations"],
    script:
        "../workflow_scripts/summarise_lowrank.py"
