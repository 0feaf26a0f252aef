"""Rule checksum_manifest: SHA-256 of every file under results/ (checkpoints and temporary names left out)."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import logging  # noqa: E402
from pathlib import Path  # noqa: E402

from brainrnn.io import atomic_path  # noqa: E402
from brainrnn.provenance import checksum_manifest  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    output = Path(smk.output.manifest)
    manifest = checksum_manifest(output.parent, exclude=output)
    with atomic_path(output) as tmp:
        tmp.write_text(manifest)
    logging.getLogger(__name__).info("%d files listed in %s", manifest.count("\n"), output)


run_rule(snakemake, main)  # noqa: F821
