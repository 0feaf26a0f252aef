# Analysis stage: fixed points and Jacobian spectra of any trained model (every family).


rule fixed_points:
    input:
        model="results/rnn/{family}/{run}/model.pt",
    output:
        points="results/rnn/{family}/{run}/fixed_points.npz",
        summary="results/rnn/{family}/{run}/fixed_points.tsv",
    log:
        "logs/fixed_points/{family}/{run}.log",
    benchmark:
        "benchmarks/fixed_points/{family}/{run}.tsv"
    group:
        "fixed_points"
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        options=config["fixed_points"],
        seed=lambda wildcards: derive_seed(
            config["seed"], "fixed_points", wildcards.family, wildcards.run
        ),
    script:
        "../workflow_scripts/fixed_points.py"
