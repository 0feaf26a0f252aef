"""Rule microns_field: one field in functional order (or the synthetic stand-in), with quality checks."""
import logging

from brainrnn.io import write_json
from brainrnn.microns.field import load_field, synthetic_field, verify_checksums
from brainrnn.workflow import run_rule


def main(smk):
    name = smk.wildcards.field
    if name == "synthetic":
        settings = smk.params.synthetic
        field = synthetic_field(settings["n_neurons"], seed=smk.params.seed, length_um=settings["length_um"])
    else:
        verify_checksums(smk.params.folder, name, smk.params.checksums, manifest=smk.params.manifest)
        field = load_field(smk.params.folder, name, smk.params.inf_md)
    quality = field.quality()
    logging.getLogger(__name__).info("field %s: %s", name, quality)
    field.save(smk.output.field)
    write_json({"field": name, "grid": list(field.grid), **quality}, smk.output.quality)


run_rule(snakemake, main)
