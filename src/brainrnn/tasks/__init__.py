"""Cognitive tasks as vectorised, seeded batch generators, looked up by name in a registry."""

from brainrnn.tasks.base import TASKS, Task, TaskBatch, make_task, register_task
from brainrnn.tasks import cortical, sequences, working_memory  # noqa: F401  (registers their tasks)

__all__ = ["TASKS", "Task", "TaskBatch", "make_task", "register_task"]
