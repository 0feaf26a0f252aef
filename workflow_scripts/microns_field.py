"""Rule microns_field: one field in functional order (or the synthetic stand-in), with quality checks."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import logging  # noqa: E402

from brainrnn.io import write_json  # noqa: E402
from brainrnn.microns.field import load_field, synthetic_field  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    name = smk.wildcards.field
    if name == "synthetic":
        settings = smk.params.synthetic
        field = synthetic_field(settings["n_neurons"], seed=smk.params.seed, length_um=settings["length_um"])
    else:
        field = load_field(smk.params.folder, name, smk.params.inf_md)
    quality = field.quality()
    logging.getLogger(__name__).info("field %s: %s", name, quality)
    field.save(smk.output.field)
    write_json({"field": name, "grid": list(field.grid), **quality}, smk.output.quality)


run_rule(snakemake, main)  # noqa: F821
