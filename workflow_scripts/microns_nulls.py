"""Rule microns_nulls: clustering and efficiency of random graphs matching a field's size and the 10% density."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

from brainrnn.io import write_json  # noqa: E402
from brainrnn.microns.field import Field  # noqa: E402
from brainrnn.microns.graph import TOP_FRACTION, null_statistics  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    field = Field.load(smk.input.field)
    write_json(null_statistics(field.n_neurons, TOP_FRACTION, n_nulls=smk.params.n_nulls, seed=smk.params.seed),
               smk.output.nulls)


run_rule(snakemake, main)  # noqa: F821
