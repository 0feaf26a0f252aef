"""Rule summarise_gradreg: every network, every variant with intervals, the spread screen and the declared tests."""

import pandas as pd

from brainrnn.gradreg.summary import (
    compression_table,
    contrast_tests,
    spread_correlations,
    summary_table,
    variant_table,
)
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
    seed = derive_seed(smk.params.seed, "summary", "gradreg")
    write_table(variant_table(summary, seed), smk.output.variants)
    write_table(spread_correlations(summary, smk.params.n_permutations, seed), smk.output.versus_spread)
    write_table(contrast_tests(summary, smk.params.n_permutations, seed), smk.output.tests)
    if "compression" in smk.output:
        write_table(compression_table(summary, seed), smk.output.compression)


run_rule(snakemake, main)
