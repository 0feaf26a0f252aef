"""Rule summarise_cbrnn: curriculum measures per run and group (mean, SEM, 95% CI), curves per epoch,
ablation and dimensionality at the analysis levels, and every declared contrast with Holm-corrected p."""

import pandas as pd

from brainrnn.cbrnn.summary import (
    contrast_tests,
    curves,
    summarise_ablation,
    summarise_dimensionality,
    summarise_runs,
)
from brainrnn.io import read_json, write_table
from brainrnn.workflow import run_rule


def main(smk):
    params = smk.params
    records = [read_json(path) for path in smk.input.metrics]
    for record in records:
        record.pop("provenance", None)
    histories = pd.concat([pd.read_csv(path, sep="\t").assign(**run) for path, run in
                           zip(smk.input.histories, params.runs, strict=True)], ignore_index=True)
    points = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.fixed_points], ignore_index=True)
    runs = pd.DataFrame(records).merge(points.drop(columns=["family", "task"], errors="ignore"),
                                       on=["group", "seed"], how="left", validate="one_to_one")
    runs, summary = summarise_runs(runs, histories, params.levels, seed=params.seed)
    write_table(runs, smk.output.runs)
    write_table(summary, smk.output.summary)
    write_table(curves(histories, seed=params.seed), smk.output.curves)
    ablation = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.ablation], ignore_index=True)
    write_table(summarise_ablation(ablation, seed=params.seed), smk.output.ablation)
    dimensionality = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.dimensionality], ignore_index=True)
    write_table(summarise_dimensionality(dimensionality, seed=params.seed), smk.output.dimensionality)
    tests = contrast_tests(runs, ablation, dimensionality, levels=params.levels, n_permutations=params.n_permutations,
                           seed=params.seed)
    write_table(tests, smk.output.tests)


run_rule(snakemake, main)
