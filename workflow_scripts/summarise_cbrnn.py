"""Rule summarise_cbrnn: per-run and per-group curriculum measures, ablation and dimensionality tables."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import json  # noqa: E402

import pandas as pd  # noqa: E402

from brainrnn import cbrnn  # noqa: E402
from brainrnn.io import write_table  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    records = [json.loads(open(path).read()) for path in smk.input.metrics]
    for record in records:
        record.pop("provenance", None)
    histories = pd.concat([pd.read_csv(path, sep="\t").assign(group=group, seed=seed) for path, group, seed in
                           zip(smk.input.histories, smk.params.groups, smk.params.seeds)], ignore_index=True)
    points = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.fixed_points], ignore_index=True)
    runs = pd.DataFrame(records).merge(points.drop(columns=["family", "task"], errors="ignore"),
                                       on=["group", "seed"], how="left", validate="one_to_one")
    runs, summary = cbrnn.summarise_runs(runs, histories)
    write_table(runs, smk.output.runs)
    write_table(summary, smk.output.summary)
    ablation = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.ablation], ignore_index=True)
    write_table(cbrnn.summarise_ablation(ablation), smk.output.ablation)
    dimensionality = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.dimensionality], ignore_index=True)
    write_table(dimensionality.groupby(["group", "module"], as_index=False, sort=False)[
        ["participation_ratio", "timescale_steps", "active_units"]].mean(), smk.output.dimensionality)


run_rule(snakemake, main)  # noqa: F821
