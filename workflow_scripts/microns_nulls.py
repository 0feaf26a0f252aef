"""Rule microns_nulls: clustering and efficiency of random graphs matching a field's size and the 10% density."""

from brainrnn.io import write_json
from brainrnn.microns.analysis import TOP_FRACTION, null_statistics
from brainrnn.microns.field import Field
from brainrnn.workflow import run_rule


def main(smk):
    field = Field.load(smk.input.field)
    write_json(null_statistics(field.n_neurons, TOP_FRACTION, n_nulls=smk.params.n_nulls, seed=smk.params.seed),
               smk.output.nulls)


run_rule(snakemake, main)
