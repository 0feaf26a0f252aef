"""Rule summarise_microns: per-condition measures with intervals beside the authors', and the declared tests."""
import pandas as pd

from brainrnn.io import read_json, write_table
from brainrnn.microns.summary import summarise
from brainrnn.workflow import run_rule


def main(smk):
    records = [read_json(path) for path in smk.input.metrics]
    for record in records:
        record.pop("provenance", None)
    points = pd.concat([pd.read_csv(path, sep="\t", dtype={"field": str}) for path in smk.input.fixed_points],
                       ignore_index=True)
    reported = pd.read_csv(smk.input.reported, sep="\t", comment="#")
    runs, summary, tests = summarise(pd.DataFrame(records), points, reported, seed=smk.params.seed,
                                     n_permutations=smk.params.n_permutations)
    write_table(runs, smk.output.runs)
    write_table(summary, smk.output.summary)
    write_table(tests, smk.output.tests)


run_rule(snakemake, main)
