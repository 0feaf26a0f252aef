"""Rule checksum_manifest: SHA-256 of every file under results/ (checkpoints and temporary names left out)."""
import logging
from pathlib import Path

from brainrnn.io import atomic_path
from brainrnn.provenance import checksum_manifest
from brainrnn.workflow import run_rule


def main(smk):
    output = Path(smk.output.manifest)
    manifest = checksum_manifest(output.parent, exclude=output)
    with atomic_path(output) as tmp:
        tmp.write_text(manifest)
    logging.getLogger(__name__).info("%d files listed in %s", manifest.count("\n"), output)


run_rule(snakemake, main)
