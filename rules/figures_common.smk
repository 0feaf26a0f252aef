# Targets and inputs of the family figures, the overview page and the report's configuration page
# (included by rules/figures.smk; all_outputs() in rules/common.smk asks for family_figure_targets()).


def figure_families():
    """The model families whose results this configuration produces, in the overview's order."""
    families = ["fmri", "gradreg"]
    if config["cbrnn"]["enabled"]:
        families.append("cbrnn")
    if config["microns"]["enabled"] and config["microns"]["train"]:
        families.append("microns")
    return families


def family_figure_targets():
    """Family figures of the enabled families, the overview page and the report's configuration page."""
    names = [f"family_{family}" for family in figure_families()] + ["overview"]
    return [*expand("results/figures/{name}.{ext}", name=names, ext=["png", "pdf"]), "results/report/config.html"]


def family_inputs(family):
    """The tables one family's figure is drawn from, by name (the loader's arguments)."""
    if family == "fmri":
        return {"reference": "results/fmri/group/reference_gradients.tsv",
                "gradients": per_subject("results/fmri/sub-{subject}/gradients.tsv"),
                "timescales": per_subject("results/fmri/sub-{subject}/timescales.tsv"),
                "spread": "results/fmri/gradient_spread.tsv", "relation": "results/fmri/timescale_gradient.tsv"}
    if family == "gradreg":
        return {"histories": gradreg_outputs("history.tsv"), "summary": "results/summary/gradreg.tsv",
                "correlations": "results/summary/gradreg_vs_spread.tsv"}
    if family == "cbrnn":
        return {"histories": cbrnn_outputs("history.tsv"), "ablation": "results/summary/cbrnn_ablation.tsv",
                "dimensionality": "results/summary/cbrnn_dimensionality.tsv",
                "runs": "results/summary/cbrnn_runs.tsv"}
    return {"summary": "results/summary/microns.tsv", "runs": "results/summary/microns_runs.tsv"}


def family_params(family):
    """What the loader needs besides the tables: subjects, and the keys of each history file."""
    if family == "fmri":
        return {"subjects": list(SUBJECTS.index)}
    if family == "gradreg":
        keys = [{"variant": v, "subject": s, "seed": seed} for v, s, seed in
                zip(gradreg_wildcard("variant"), gradreg_wildcard("subject"), gradreg_wildcard("seed"))]
        return {"keys": keys, "variants": config["gradreg"]["variants"]}
    if family == "cbrnn":
        return {"keys": [{"group": g, "seed": s} for g, s in zip(cbrnn_wildcard("group"), cbrnn_wildcard("seed"))]}
    return {"variants": config["microns"]["variants"], "tasks": config["microns"]["tasks"]}


def figure_inputs(families):
    """Named inputs of a family or overview figure: '<family>__<table>'."""
    return {f"{family}__{name}": files for family in families for name, files in family_inputs(family).items()}


def loader_params(families):
    """The loader parameters of each family, keyed by family."""
    return {family: family_params(family) for family in families}
