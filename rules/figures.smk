# Stage 6: publication figures (PNG + PDF) registered in the Snakemake report. One rule per figure,
# generated from one table: every family's stage figures and family figure, and the overview. A
# figure reads its family's tables; the library draws it by name (brainrnn.overview.draw_figure).


FIGURE_TABLE = (
    [(f"{family}_{stem}", [family]) for family in FAMILIES for stem in FIGURES[family]]
    + [(f"family_{family}", [family]) for family in FAMILIES]
    + [("overview", FAMILIES)]
)


for figure_name, figure_families in FIGURE_TABLE:

    rule:
        name:
            f"figure_{figure_name}"
        input:
            **{
                f"{family}__{table}": plain_paths(files)
                for family in figure_families
                for table, files in family_inputs(family).items()
            },
        output:
            png=report(
                f"results/figures/{figure_name}.png",
                caption=f"../resources/report/{figure_name}.rst",
                category=(
                    "Overview"
                    if figure_name == "overview"
                    else TITLES[figure_families[0]]
                ),
            ),
            pdf=f"results/figures/{figure_name}.pdf",
        log:
            f"logs/figures/{figure_name}.log",
        localrule: True
        conda:
            "../envs/figures.yaml"
        threads: 1
        resources:
            mem_mb=1000,
            runtime=10,
        params:
            figure=figure_name,
            families=figure_families,
            loader={family: loader_params(family) for family in figure_families},
            style=config["figures"],
        script:
            "../workflow_scripts/figure.py"


rule report_config:
    input:
        subjects=config["subjects"],
    output:
        report(
            "results/report/config.html",
            caption="../resources/report/config.rst",
            category="Configuration",
        ),
    log:
        "logs/report/config.log",
    localrule: True
    conda:
        "../envs/figures.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=5,
    params:
        config=config,
        configfiles=[str(path) for path in workflow.configfiles],
    script:
        "../workflow_scripts/report_config.py"
