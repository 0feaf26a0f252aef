"""Rule download_fmri: fetch one manifest entry over https, verify its SHA-256, rename into place."""

from brainrnn.download import download
from brainrnn.workflow import run_rule


def main(smk):
    download(smk.params.url, smk.output.data, smk.params.sha256, retries=smk.params.retries,
             timeout_s=smk.params.timeout_s)


run_rule(snakemake, main)
