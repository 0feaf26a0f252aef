"""Rule train_jedi_teacher: train one teacher of the JEDI family (sine generation or the memory task)."""

import torch

from brainrnn.jedi.train import train_teacher
from brainrnn.persistence import write_members
from brainrnn.workflow import run_rule


def main(smk):
    torch.set_num_threads(smk.threads)
    name = smk.wildcards.teacher
    teacher = train_teacher(name, smk.params.teachers, base_seed=smk.params.base_seed)
    settings = {"teachers": smk.params.teachers, "teacher": name, "base_seed": smk.params.base_seed}
    write_members(teacher.model, [teacher.metrics], settings,
                  meta=lambda record: {"family": "jedi", "teacher": name, "seed": 0, "task": teacher.task,
                                       "task_settings": teacher.task_settings},
                  models=[smk.output.model], histories=[smk.output.history], history=teacher.history,
                  metrics=[smk.output.metrics])


run_rule(snakemake, main)
