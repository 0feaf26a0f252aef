# Model stage: subject-specific gradient-regularised RNNs (all seeds of a variant x subject as one ensemble).


rule train_gradreg:
    input:
        gradients="results/fmri/sub-{subject}/gradients.tsv",
        timescales="results/fmri/sub-{subject}/timescales.tsv",
        reference="results/fmri/group/reference_gradients.tsv",
    output:
        models=expand("results/rnn/gradreg/{{variant}}/sub-{{subject}}/seed-{seed}/model.pt", seed=SEEDS),
        histories=expand("results/rnn/gradreg/{{variant}}/sub-{{subject}}/seed-{seed}/history.tsv", seed=SEEDS),
        metrics=expand("results/rnn/gradreg/{{variant}}/sub-{{subject}}/seed-{seed}/metrics.json", seed=SEEDS),
    params:
        seeds=SEEDS,
        base_seed=config["seed"],
        rnn=config["rnn"],
        gradreg=GRADREG_SETTINGS,
        checkpoint_dir="results/checkpoints/gradreg/{variant}/sub-{subject}",
    log:
        "logs/train_gradreg/{variant}/sub-{subject}.log",
    benchmark:
        "benchmarks/train_gradreg/{variant}/sub-{subject}.tsv"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    conda:
        "../envs/torch.yaml"
    script:
        "../workflow_scripts/train_gradreg.py"


rule summarise_gradreg:
    input:
        metrics=gradreg_outputs("metrics.json"),
        fixed_points=gradreg_outputs("fixed_points.tsv"),
        spread="results/fmri/gradient_spread.tsv",
    output:
        summary="results/summary/gradreg.tsv",
        versus_spread="results/summary/gradreg_vs_spread.tsv",
    params:
        n_permutations=config["summary"]["n_permutations"],
        steps=config["rnn"]["training"]["steps"],
        seed=config["seed"],
    log:
        "logs/summarise_gradreg.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/fmri.yaml"
    script:
        "../workflow_scripts/summarise_gradreg.py"
