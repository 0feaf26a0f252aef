"""Rule summarise_cbrnn: per-run and per-group curriculum measures, ablation and dimensionality tables."""

import pandas as pd

from brainrnn.cbrnn.summary import summarise_ablation, summarise_dimensionality, summarise_runs
from brainrnn.io import read_json, write_table
from brainrnn.workflow import run_rule


def main(smk):
    records = [read_json(path) for path in smk.input.metrics]
    for record in records:
        record.pop("provenance", None)
    histories = pd.concat([pd.read_csv(path, sep="\t").assign(**run) for path, run in
                           zip(smk.input.histories, smk.params.runs, strict=True)], ignore_index=True)
    points = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.fixed_points], ignore_index=True)
    runs = pd.DataFrame(records).merge(points.drop(columns=["family", "task"], errors="ignore"),
                                       on=["group", "seed"], how="left", validate="one_to_one")
    runs, summary = summarise_runs(runs, histories)
    write_table(runs, smk.output.runs)
    write_table(summary, smk.output.summary)
    ablation = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.ablation], ignore_index=True)
    write_table(summarise_ablation(ablation), smk.output.ablation)
    dimensionality = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.dimensionality], ignore_index=True)
    write_table(summarise_dimensionality(dimensionality), smk.output.dimensionality)


run_rule(snakemake, main)
