"""Cognitive tasks as vectorised, seeded batch generators (neurogym's split: tasks know nothing of models).

This package and :mod:`brainrnn.tasks.catalogue` import no torch; the generators live in
:mod:`brainrnn.tasks.base` (the base class and registry) and the suite modules, and are built by
name with :func:`brainrnn.tasks.registry.make_task`.
"""

from brainrnn.tasks.catalogue import CATALOGUE, TaskInfo, task_names

__all__ = ["CATALOGUE", "TaskInfo", "task_names"]
