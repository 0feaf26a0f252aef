"""Rule report_config: the validated configuration and the subjects sheet as a page of the report."""
import pandas as pd

from brainrnn.io import atomic_path
from brainrnn.report_page import config_page
from brainrnn.workflow import run_rule


def main(smk):
    subjects = pd.read_csv(smk.input.subjects, sep="\t", dtype=str, keep_default_na=False)
    page = config_page(smk.params.config, smk.params.configfiles, subjects)
    with atomic_path(smk.output[0]) as tmp:
        tmp.write_text(page, encoding="utf-8")


run_rule(snakemake, main)
