"""Build any task by name; importing this module registers every built-in task class."""

from brainrnn.tasks import cortical, generation, reward, sequences, working_memory
from brainrnn.tasks.base import TASKS, Task, TaskBatch, make_task, stack_batches

BUILT_IN_SUITES = (working_memory, sequences, cortical, reward, generation)
"""The modules whose task classes register themselves when imported."""

__all__ = ["BUILT_IN_SUITES", "TASKS", "Task", "TaskBatch", "make_task", "stack_batches"]
