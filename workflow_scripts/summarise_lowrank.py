"""Rule summarise_lowrank: per-run measures, the summary over seeds per mode x task x configuration (networks,
cognitive models, generating agents), the predictions table, singular values and adaptation curves."""

import pandas as pd

from brainrnn.io import read_json, write_table
from brainrnn.lowrank.summary import predictions_table, runs_table, series_table, summary_table
from brainrnn.workflow import run_rule

IDENTITY = ["family", "mode", "task", "seed", "configuration"]


def main(smk):
    records = [read_json(path) for path in smk.input.metrics]
    points = [pd.read_csv(path, sep="\t").drop(columns=IDENTITY, errors="ignore").assign(**run)
              for path, run in zip(smk.input.fixed_points, smk.params.fixed_point_runs, strict=True)]
    choice_records = [read_json(path) for path in smk.input.records]
    ceilings = {(record["task"], record["seed"]): record["nll_ceiling_test"] for record in choice_records}
    runs = runs_table(records, pd.concat(points, ignore_index=True) if points else None, ceilings)
    cognitive = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.cognitive], ignore_index=True) \
        if smk.input.cognitive else pd.DataFrame(columns=["task", "model"])
    write_table(runs, smk.output.runs)
    write_table(summary_table(runs, cognitive, choice_records, smk.params.configurations), smk.output.summary)
    write_table(predictions_table(runs), smk.output.predictions)
    write_table(series_table(records, "singular_values", "index"), smk.output.spectra)
    write_table(series_table(records, "adaptation_curve", "lag"), smk.output.curves)


run_rule(snakemake, main)
