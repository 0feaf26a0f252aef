"""Rule summarise_microns: accuracy and graph measures per mode x field x variant x task, beside the authors'."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import json  # noqa: E402

import pandas as pd  # noqa: E402

from brainrnn.io import write_table  # noqa: E402
from brainrnn.microns.summary import summarise  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    records = [json.loads(open(path).read()) for path in smk.input.metrics]
    for record in records:
        record.pop("provenance", None)
    points = pd.concat([pd.read_csv(path, sep="\t", dtype={"field": str}) for path in smk.input.fixed_points],
                       ignore_index=True)
    reported = pd.read_csv(smk.input.reported, sep="\t", comment="#")
    runs, summary = summarise(pd.DataFrame(records), points, reported)
    write_table(runs, smk.output.runs)
    write_table(summary, smk.output.summary)


run_rule(snakemake, main)  # noqa: F821
