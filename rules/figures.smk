# Stage 6: publication figures (PNG + PDF), registered in the Snakemake report: per-stage figures,
# one multi-panel figure per model family, an overview page, and the configuration page.


include: "figures_common.smk"


rule figure_gradient_space:
    input:
        gradients=per_subject("results/fmri/sub-{subject}/gradients.tsv"),
        timescales=per_subject("results/fmri/sub-{subject}/timescales.tsv"),
    output:
        png=report("results/figures/fmri_gradient_space.png", caption="../resources/report/fmri_gradient_space.rst",
                   category="fMRI"),
        pdf="results/figures/fmri_gradient_space.pdf",
    params:
        subjects=list(SUBJECTS.index),
        groups=list(SUBJECTS["group"]),
        style=config["figures"],
    log:
        "logs/figures/fmri_gradient_space.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_gradient_space.py"


rule figure_spread_by_group:
    input:
        spread="results/fmri/gradient_spread.tsv",
    output:
        png=report("results/figures/fmri_spread_by_group.png", caption="../resources/report/fmri_spread_by_group.rst",
                   category="fMRI"),
        pdf="results/figures/fmri_spread_by_group.pdf",
    params:
        style=config["figures"],
    log:
        "logs/figures/fmri_spread_by_group.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_spread_by_group.py"


rule figure_timescale_extremity:
    input:
        gradients=per_subject("results/fmri/sub-{subject}/gradients.tsv"),
        timescales=per_subject("results/fmri/sub-{subject}/timescales.tsv"),
        relation="results/fmri/timescale_gradient.tsv",
    output:
        png=report("results/figures/fmri_timescale_extremity.png",
                   caption="../resources/report/fmri_timescale_extremity.rst", category="fMRI"),
        pdf="results/figures/fmri_timescale_extremity.pdf",
    params:
        subjects=list(SUBJECTS.index),
        style=config["figures"],
    log:
        "logs/figures/fmri_timescale_extremity.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_timescale_extremity.py"


rule figure_gradreg_learning:
    input:
        histories=gradreg_outputs("history.tsv"),
    output:
        png=report("results/figures/gradreg_learning.png", caption="../resources/report/gradreg_learning.rst",
                   category="Gradient-regularised RNNs"),
        pdf="results/figures/gradreg_learning.pdf",
    params:
        variants=config["gradreg"]["variants"],
        variant_of_history=gradreg_wildcard("variant"),
        style=config["figures"],
    log:
        "logs/figures/gradreg_learning.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_gradreg_learning.py"


rule figure_gradreg_vs_spread:
    input:
        summary="results/summary/gradreg.tsv",
        versus_spread="results/summary/gradreg_vs_spread.tsv",
    output:
        png=report("results/figures/gradreg_vs_spread.png", caption="../resources/report/gradreg_vs_spread.rst",
                   category="Gradient-regularised RNNs"),
        pdf="results/figures/gradreg_vs_spread.pdf",
    params:
        variant="gradreg",
        style=config["figures"],
    log:
        "logs/figures/gradreg_vs_spread.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_gradreg_vs_spread.py"


rule figure_gradreg_spectra:
    input:
        points=gradreg_outputs("fixed_points.npz"),
    output:
        png=report("results/figures/gradreg_spectra.png", caption="../resources/report/gradreg_spectra.rst",
                   category="Gradient-regularised RNNs"),
        pdf="results/figures/gradreg_spectra.pdf",
    params:
        variants=config["gradreg"]["variants"],
        variant_of_points=gradreg_wildcard("variant"),
        style=config["figures"],
    log:
        "logs/figures/gradreg_spectra.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_gradreg_spectra.py"


rule figure_cbrnn_levels:
    input:
        histories=cbrnn_outputs("history.tsv"),
    output:
        png=report("results/figures/cbrnn_levels.png", caption="../resources/report/cbrnn_levels.rst",
                   category="Cortico-cerebellar RNNs"),
        pdf="results/figures/cbrnn_levels.pdf",
    params:
        groups=cbrnn_wildcard("group"),
        style=config["figures"],
    log:
        "logs/figures/cbrnn_levels.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_cbrnn_levels.py"


rule figure_cbrnn_ablation:
    input:
        ablation="results/summary/cbrnn_ablation.tsv",
    output:
        png=report("results/figures/cbrnn_ablation.png", caption="../resources/report/cbrnn_ablation.rst",
                   category="Cortico-cerebellar RNNs"),
        pdf="results/figures/cbrnn_ablation.pdf",
    params:
        style=config["figures"],
    log:
        "logs/figures/cbrnn_ablation.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_cbrnn_ablation.py"


rule figure_microns_accuracy:
    input:
        summary="results/summary/microns.tsv",
        reported="resources/microns/reported_accuracy.tsv",
    output:
        png=report("results/figures/microns_accuracy.png", caption="../resources/report/microns_accuracy.rst",
                   category="MICrONS-constrained RNNs"),
        pdf="results/figures/microns_accuracy.pdf",
    params:
        variants=config["microns"]["variants"],
        tasks=config["microns"]["tasks"],
        style=config["figures"],
    log:
        "logs/figures/microns_accuracy.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_microns_accuracy.py"


rule figure_microns_graph:
    input:
        summary="results/summary/microns.tsv",
    output:
        png=report("results/figures/microns_graph.png", caption="../resources/report/microns_graph.rst",
                   category="MICrONS-constrained RNNs"),
        pdf="results/figures/microns_graph.pdf",
    params:
        variants=config["microns"]["variants"],
        style=config["figures"],
    log:
        "logs/figures/microns_graph.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_microns_graph.py"


rule figure_family_fmri:
    input:
        **figure_inputs(["fmri"]),
    output:
        png=report("results/figures/family_fmri.png", caption="../resources/report/family_fmri.rst",
                   category="fMRI"),
        pdf="results/figures/family_fmri.pdf",
    params:
        families=["fmri"],
        loader=loader_params(["fmri"]),
        style=config["figures"],
    log:
        "logs/figures/family_fmri.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_family.py"


rule figure_family_gradreg:
    input:
        **figure_inputs(["gradreg"]),
    output:
        png=report("results/figures/family_gradreg.png", caption="../resources/report/family_gradreg.rst",
                   category="Gradient-regularised RNNs"),
        pdf="results/figures/family_gradreg.pdf",
    params:
        families=["gradreg"],
        loader=loader_params(["gradreg"]),
        style=config["figures"],
    log:
        "logs/figures/family_gradreg.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_family.py"


rule figure_family_cbrnn:
    input:
        **figure_inputs(["cbrnn"]),
    output:
        png=report("results/figures/family_cbrnn.png", caption="../resources/report/family_cbrnn.rst",
                   category="Cortico-cerebellar RNNs"),
        pdf="results/figures/family_cbrnn.pdf",
    params:
        families=["cbrnn"],
        loader=loader_params(["cbrnn"]),
        style=config["figures"],
    log:
        "logs/figures/family_cbrnn.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_family.py"


rule figure_family_microns:
    input:
        **figure_inputs(["microns"]),
    output:
        png=report("results/figures/family_microns.png", caption="../resources/report/family_microns.rst",
                   category="MICrONS-constrained RNNs"),
        pdf="results/figures/family_microns.pdf",
    params:
        families=["microns"],
        loader=loader_params(["microns"]),
        style=config["figures"],
    log:
        "logs/figures/family_microns.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_family.py"


rule figure_overview:
    input:
        **figure_inputs(figure_families()),
    output:
        png=report("results/figures/overview.png", caption="../resources/report/overview.rst", category="Overview"),
        pdf="results/figures/overview.pdf",
    params:
        families=figure_families(),
        loader=loader_params(figure_families()),
        style=config["figures"],
    log:
        "logs/figures/overview.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/figure_family.py"


rule report_config:
    input:
        subjects=config["subjects"],
    output:
        report("results/report/config.html", caption="../resources/report/config.rst", category="Configuration"),
    params:
        config=config,
        configfiles=[str(path) for path in workflow.configfiles],
    log:
        "logs/report/config.log",
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    conda:
        "../envs/figures.yaml"
    script:
        "../workflow_scripts/report_config.py"
