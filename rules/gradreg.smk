# Model family: subject-specific gradient-regularised RNNs (all seeds of a variant x subject as one
# ensemble) -> fixed points (rules/fixed_points.smk) -> summary.


rule train_gradreg:
    input:
        gradients=rules.gradients.output.gradients,
        timescales=rules.timescales.output.timescales,
        reference=rules.reference_gradients.output.gradients,
    output:
        models=expand(
            "results/rnn/gradreg/{{variant}}/sub-{{subject}}/seed-{seed}/model.pt",
            seed=GRADREG["seeds"],
        ),
        histories=expand(
            "results/rnn/gradreg/{{variant}}/sub-{{subject}}/seed-{seed}/history.tsv",
            seed=GRADREG["seeds"],
        ),
        metrics=expand(
            "results/rnn/gradreg/{{variant}}/sub-{{subject}}/seed-{seed}/metrics.json",
            seed=GRADREG["seeds"],
        ),
    log:
        "logs/train_gradreg/{variant}/sub-{subject}.log",
    benchmark:
        "benchmarks/train_gradreg/{variant}/sub-{subject}.tsv"
    wildcard_constraints:
        variant=one_of(GRADREG_VARIANTS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
        gpu=DEVICE_GPUS,
    params:
        device=config["device"],
        seeds=GRADREG["seeds"],
        base_seed=config["seed"],
        gradreg=GRADREG_SETTINGS,
        checkpoint_dir="results/checkpoints/gradreg/{variant}/sub-{subject}",
    script:
        "../workflow_scripts/train_gradreg.py"


rule summarise_gradreg:
    input:
        metrics=gradreg_outputs("metrics.json"),
        fixed_points=gradreg_outputs("fixed_points.tsv"),
        spread=plain_paths(rules.gradient_spread.output.spread),
    output:
        **(
            {"compression": "results/summary/gradreg_compression.tsv"}
            if COMPRESSION
            else {}
        ),
        summary="results/summary/gradreg.tsv",
        variants="results/summary/gradreg_variants.tsv",
        versus_spread="results/summary/gradreg_vs_spread.tsv",
        tests="results/summary/gradreg_tests.tsv",
    log:
        "logs/summarise_gradreg.log",
    localrule: True
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        n_permutations=config["summary"]["n_permutations"],
        steps=GRADREG["training"]["steps"],
        seed=config["seed"],
    script:
        "../workflow_scripts/summarise_gradreg.py"
