"""Rule extract_microns: unpack a verified MICrONS archive into its folder (members checked, all or nothing)."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

from brainrnn.download import extract_archive  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    extract_archive(smk.input.archive, smk.output.folder, inner=smk.params.inner)


run_rule(snakemake, main)  # noqa: F821
