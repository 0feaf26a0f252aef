"""Rule extract_microns: unpack a verified MICrONS archive into its folder (members checked, all or nothing)."""

from brainrnn.download import extract_archive
from brainrnn.workflow import run_rule


def main(smk):
    extract_archive(smk.input.archive, smk.output.folder, inner=smk.params.inner)


run_rule(snakemake, main)
