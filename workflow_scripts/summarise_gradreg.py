"""Rule summarise_gradreg: one table of every gradreg model, and correlations with gradient spread."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import json  # noqa: E402

import pandas as pd  # noqa: E402

from brainrnn import gradreg as gr  # noqa: E402
from brainrnn.io import write_table  # noqa: E402
from brainrnn.seeding import derive_seed  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    metrics = [json.loads(open(path).read()) for path in smk.input.metrics]
    for record in metrics:
        record.pop("provenance", None)
    points = pd.concat([pd.read_csv(path, sep="\t", dtype={"subject": str}) for path in smk.input.fixed_points])
    spread = pd.read_csv(smk.input.spread, sep="\t", dtype={"subject": str})
    summary = gr.summary_table(metrics, points, spread, smk.params.steps)
    write_table(summary, smk.output.summary)
    correlations = gr.spread_correlations(summary, smk.params.n_permutations,
                                          derive_seed(smk.params.seed, "summary", "gradreg"))
    write_table(correlations, smk.output.versus_spread)


run_rule(snakemake, main)  # noqa: F821
