"""Rule fixed_points_jedi: fixed points of every teacher context against those of the network JEDI decodes for it."""

import numpy as np
import pandas as pd
import torch

from brainrnn.analysis.fixed_points import FixedPointOptions
from brainrnn.io import atomic_path, write_table
from brainrnn.jedi.analysis import analyse_teacher_contexts
from brainrnn.jedi.train import load_fit
from brainrnn.persistence import load_member
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    teachers = {name: load_member(path)[0] for name, path in zip(smk.params.teacher_names, smk.input.teachers,
                                                                  strict=True)}
    model, _ = load_fit(smk.input.fit)
    contexts = pd.read_csv(smk.input.contexts, sep="\t")
    table = pd.read_csv(smk.input.embeddings, sep="\t")
    components = [column for column in table.columns if column.startswith("z")]
    embeddings = {row["context"]: row[components].to_numpy(dtype=float)
                  for _, row in table[table["kind"] == "context_mean"].iterrows()}
    few_shot = table[table["kind"] == "few_shot"]
    for context, block in few_shot.groupby("context"):
        embeddings[context] = block.loc[block["k"].idxmax(), components].to_numpy(dtype=float)
    options = FixedPointOptions.from_config(smk.params.options, seed=smk.params.seed)
    rows, spectra = analyse_teacher_contexts(teachers, model, contexts, embeddings, options, smk.params.settings,
                                             teacher_dt_ms=smk.params.teacher_dt_ms)
    write_table(pd.DataFrame(rows), smk.output.points)
    with atomic_path(smk.output.spectra) as tmp, open(tmp, "wb") as stream:
        np.savez(stream, allow_pickle=False, **{key.replace("/", "__"): value for key, value in spectra.items()})


run_rule(snakemake, main)
