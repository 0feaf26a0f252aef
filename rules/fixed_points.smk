# Analysis stage: fixed and slow points, Jacobian spectra and attractors of every trained model. One
# job per training job (every seed of one run): the seeds of a run always retrain together, so
# analysing them together reruns nothing extra, and torch is imported once per run, not per seed.


for fp_family, fp_seeds in FIXED_POINT_SEEDS.items():

    rule:
        name:
            f"fixed_points_{fp_family}"
        input:
            models=expand(
                f"results/rnn/{fp_family}/{{{{run}}}}/seed-{{seed}}/model.pt",
                seed=fp_seeds,
            ),
        output:
            points=expand(
                f"results/rnn/{fp_family}/{{{{run}}}}/seed-{{seed}}/fixed_points.npz",
                seed=fp_seeds,
            ),
            summaries=expand(
                f"results/rnn/{fp_family}/{{{{run}}}}/seed-{{seed}}/fixed_points.tsv",
                seed=fp_seeds,
            ),
        log:
            f"logs/fixed_points/{fp_family}/{{run}}.log",
        benchmark:
            f"benchmarks/fixed_points/{fp_family}/{{run}}.tsv"
        group:
            "fixed_points"
        conda:
            "../envs/torch.yaml"
        threads: 1
        resources:
            mem_mb=2000,
            runtime=lambda wildcards, seeds=fp_seeds: 10 + 5 * len(seeds),
            gpu=DEVICE_GPUS,
        params:
            options=config["fixed_points"],
            device=config["device"],
            seeds=lambda wildcards, family=fp_family, seeds=fp_seeds: [
                derive_seed(
                    config["seed"],
                    "fixed_points",
                    family,
                    f"{wildcards.run}/seed-{seed}",
                )
                for seed in seeds
            ],
        script:
            "../workflow_scripts/fixed_points.py"
