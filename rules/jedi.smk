# Model family: JEDI. Teachers -> simulated recordings (with networks other families trained) -> one job
# per fit (JEDI, its full-rank ablation, the baselines) -> teacher against decoded fixed points -> summary.


rule train_jedi_teacher:
    output:
        model="results/jedi/teachers/{teacher}/model.pt",
        history="results/jedi/teachers/{teacher}/history.tsv",
        metrics="results/jedi/teachers/{teacher}/metrics.json",
    log:
        "logs/train_jedi_teacher/{teacher}.log",
    benchmark:
        "benchmarks/train_jedi_teacher/{teacher}.tsv"
    wildcard_constraints:
        teacher=one_of(jedi.TEACHERS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        teachers=JEDI["teachers"],
        base_seed=config["seed"],
    script:
        "../workflow_scripts/train_jedi_teacher.py"


rule simulate_jedi:
    input:
        teachers=expand(
            "results/jedi/teachers/{teacher}/model.pt", teacher=jedi.TEACHERS
        ),
        networks=jedi_network_models(),
    output:
        data="results/jedi/data.npz",
        contexts="results/jedi/contexts.tsv",
    log:
        "logs/simulate_jedi.log",
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        teacher_names=list(jedi.TEACHERS),
        network_names=JEDI["networks"],
        settings=JEDI_DATA_SETTINGS,
        seed=derive_seed(config["seed"], "jedi", "data"),
    script:
        "../workflow_scripts/simulate_jedi.py"


rule fit_jedi:
    input:
        data=rules.simulate_jedi.output.data,
        contexts=rules.simulate_jedi.output.contexts,
    output:
        model="results/jedi/fits/{fit}/model.pt",
        history="results/jedi/fits/{fit}/history.tsv",
        r2="results/jedi/fits/{fit}/r2.tsv",
        embeddings="results/jedi/fits/{fit}/embeddings.tsv",
        few_shot="results/jedi/fits/{fit}/few_shot.tsv",
    log:
        "logs/fit_jedi/{fit}.log",
    benchmark:
        "benchmarks/fit_jedi/{fit}.tsv"
    wildcard_constraints:
        fit=one_of(jedi.FITS),
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 60 * attempt,
    params:
        settings=JEDI_FIT_SETTINGS,
        base_seed=config["seed"],
        checkpoint_dir="results/checkpoints/jedi/{fit}",
    script:
        "../workflow_scripts/fit_jedi.py"


rule fixed_points_jedi:
    input:
        teachers=expand(
            "results/jedi/teachers/{teacher}/model.pt", teacher=jedi.TEACHERS
        ),
        fit="results/jedi/fits/jedi/model.pt",
        embeddings="results/jedi/fits/jedi/embeddings.tsv",
        contexts=rules.simulate_jedi.output.contexts,
    output:
        points="results/jedi/fixed_points.tsv",
        spectra="results/jedi/spectra.npz",
    log:
        "logs/fixed_points_jedi.log",
    benchmark:
        "benchmarks/fixed_points_jedi.tsv"
    conda:
        "../envs/torch.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        teacher_names=list(jedi.TEACHERS),
        options=config["fixed_points"],
        settings=JEDI["fixed_points"],
        teacher_dt_ms=JEDI["teachers"]["dt_ms"],
        seed=derive_seed(config["seed"], "fixed_points", "jedi"),
    script:
        "../workflow_scripts/fixed_points_jedi.py"


rule summarise_jedi:
    input:
        contexts=rules.simulate_jedi.output.contexts,
        r2=expand("results/jedi/fits/{fit}/r2.tsv", fit=JEDI["fits"]),
        embeddings="results/jedi/fits/jedi/embeddings.tsv",
        few_shot=expand("results/jedi/fits/{fit}/few_shot.tsv", fit=JEDI["fits"]),
        points=rules.fixed_points_jedi.output.points,
    output:
        summary="results/summary/jedi.tsv",
        fits="results/summary/jedi_fits.tsv",
        classification="results/summary/jedi_classification.tsv",
        confusion="results/summary/jedi_confusion.tsv",
        few_shot="results/summary/jedi_few_shot.tsv",
        frequency="results/summary/jedi_frequency.tsv",
    log:
        "logs/summarise_jedi.log",
    localrule: True
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        fits=JEDI["fits"],
        classification=JEDI["classification"],
        ks=JEDI["few_shot"]["ks"],
        seed=derive_seed(config["seed"], "summary", "jedi"),
    script:
        "../workflow_scripts/summarise_jedi.py"
