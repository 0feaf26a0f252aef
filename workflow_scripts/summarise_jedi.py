"""Rule summarise_jedi: per-context table, fits, classification from the embeddings, few-shot and frequency."""

import pandas as pd

from brainrnn.io import write_table
from brainrnn.jedi.summary import classification_tables, fit_table, frequency_table, summary_table
from brainrnn.workflow import run_rule


def main(smk):
    contexts = pd.read_csv(smk.input.contexts, sep="\t")
    r2 = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.r2], ignore_index=True)
    few_shot = pd.concat([pd.read_csv(path, sep="\t") for path in smk.input.few_shot], ignore_index=True)
    embeddings = pd.read_csv(smk.input.embeddings, sep="\t")
    points = pd.read_csv(smk.input.points, sep="\t")
    classification, confusion = classification_tables(embeddings, contexts, smk.params.classification,
                                                      smk.params.seed)
    summary = summary_table(contexts, r2, few_shot, points, confusion, smk.params.fits, smk.params.ks)
    write_table(summary, smk.output.summary)
    write_table(fit_table(summary, r2, few_shot, smk.params.fits, smk.params.seed), smk.output.fits)
    write_table(classification, smk.output.classification)
    write_table(confusion, smk.output.confusion)
    write_table(few_shot, smk.output.few_shot)
    write_table(frequency_table(summary), smk.output.frequency)


run_rule(snakemake, main)
