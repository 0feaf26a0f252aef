"""Rule summarise_gradreg: one table of every gradreg model, and correlations with gradient spread."""

import pandas as pd

from brainrnn.gradreg.summary import spread_correlations, summary_table
from brainrnn.io import read_json, write_table
from brainrnn.seeding import derive_seed
from brainrnn.workflow import run_rule


def main(smk):
    metrics = [read_json(path) for path in smk.input.metrics]
    for record in metrics:
        record.pop("provenance", None)
    points = pd.concat([pd.read_csv(path, sep="\t", dtype={"subject": str}) for path in smk.input.fixed_points])
    spread = pd.read_csv(smk.input.spread, sep="\t", dtype={"subject": str})
    summary = summary_table(metrics, points, spread, smk.params.steps)
    write_table(summary, smk.output.summary)
    correlations = spread_correlations(summary, smk.params.n_permutations,
                                       derive_seed(smk.params.seed, "summary", "gradreg"))
    write_table(correlations, smk.output.versus_spread)


run_rule(snakemake, main)
