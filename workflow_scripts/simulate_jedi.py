"""Rule simulate_jedi: the contexts (teachers' conditions and pipeline networks) and their observed trials."""

import logging

import torch

from brainrnn.io import atomic_path, write_table
from brainrnn.jedi.simulate import network_contexts, simulate, teacher_contexts
from brainrnn.persistence import load_member
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    settings = smk.params.settings
    networks = {name: load_member(path)[0] for name, path in zip(smk.params.teacher_names, smk.input.teachers,
                                                                  strict=True)}
    metas = []
    for name, path in zip(smk.params.network_names, smk.input.networks, strict=True):
        networks[name], meta = load_member(path)
        metas.append(meta)
    contexts = teacher_contexts(settings["teachers"]) + network_contexts(smk.params.network_names, metas)
    data = simulate(networks, contexts, settings["observation"], settings["trials"], seed=smk.params.seed)
    logging.getLogger(__name__).info("%d contexts, %d trials of %d steps, %d input channels, %d observed units",
                                     len(contexts), data.inputs.shape[1], data.inputs.shape[0], data.inputs.shape[2],
                                     data.observed.shape[2])
    with atomic_path(smk.output.data) as tmp, open(tmp, "wb") as stream:
        data.save(stream)
    write_table(data.contexts, smk.output.contexts)


run_rule(snakemake, main)
