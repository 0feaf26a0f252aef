"""Rule download_microns: fetch one file of a MICrONS field over https, verify its SHA-256, rename into place."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

from brainrnn.download import download  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    download(smk.params.url, smk.output.data, smk.params.sha256, retries=smk.params.retries,
             timeout_s=smk.params.timeout_s)


run_rule(snakemake, main)  # noqa: F821
