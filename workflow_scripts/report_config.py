"""Rule report_config: the validated configuration and the subjects sheet as a page of the report."""
import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../src")  # noqa: F821 (snakemake is injected)

import pandas as pd  # noqa: E402

from brainrnn.io import atomic_path  # noqa: E402
from brainrnn.report_page import config_page  # noqa: E402
from brainrnn.workflow import run_rule  # noqa: E402


def main(smk):
    subjects = pd.read_csv(smk.input.subjects, sep="\t", dtype=str, keep_default_na=False)
    page = config_page(smk.params.config, smk.params.configfiles, subjects)
    with atomic_path(smk.output[0]) as tmp:
        tmp.write_text(page, encoding="utf-8")


run_rule(snakemake, main)  # noqa: F821
