"""Binary-sequence tasks of the cortico-cerebellar study: N-delayed match-to-sample and N-parity.

A trial is a random sequence of bits of length M ∈ [N + 2, 4N + 2), shown one bit per step as
±1 and aligned so that every trial ends on the last step (earlier steps are padding: input 0, no
loss, and the network's state is held at its initial value until the trial starts). The answer
(2 classes) is scored on the last step only.

* ``ndms``: 1 when the last bit equals the bit N steps before the end (x[−N] == x[−1]);
* ``parity``: the parity of the last N bits.
"""

from __future__ import annotations

from abc import abstractmethod

import torch

from brainrnn.tasks.base import Task, TaskBatch, register_task
from brainrnn.tasks.catalogue import CATALOGUE


class _BinarySequenceTask(Task):
    kind = "classification"

    def __init__(self, *, n_back: int = 2, dt_ms: float = 1.0) -> None:
        if n_back < 1:
            raise ValueError("n_back must be at least 1")
        self.n_back = n_back
        self.dt_ms = dt_ms
        self.n_inputs = 1
        self.n_outputs = 2
        self.min_length, self.max_length = n_back + 2, 4 * n_back + 2
        self.max_steps = self.max_length - 1

    @abstractmethod
    def label(self, bits: torch.Tensor) -> torch.Tensor:
        """Correct answer per trial from the bits (T, B) of right-aligned sequences."""

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        lengths = torch.randint(self.min_length, self.max_length, (batch_size,), generator=generator)
        bits = torch.randint(0, 2, (self.max_steps, batch_size), generator=generator)
        time = torch.arange(self.max_steps).unsqueeze(1)
        running = time >= (self.max_steps - lengths).unsqueeze(0)
        bits = bits * running
        inputs = ((2 * bits - 1) * running).float().unsqueeze(-1)
        labels = self.label(bits)
        last = torch.zeros(self.max_steps, batch_size, dtype=torch.bool)
        last[-1] = True
        targets = torch.where(last, labels.unsqueeze(0), 0)
        return TaskBatch(inputs, targets, last.float(), last, labels,
                         epochs={"sequence": running, "padding": ~running}, running=running)


@register_task
class NDelayedMatchToSample(_BinarySequenceTask):
    info = CATALOGUE["ndms"]

    def label(self, bits: torch.Tensor) -> torch.Tensor:
        return (bits[-self.n_back] == bits[-1]).long()


@register_task
class NParity(_BinarySequenceTask):
    info = CATALOGUE["parity"]

    def label(self, bits: torch.Tensor) -> torch.Tensor:
        return bits[-self.n_back:].sum(dim=0) % 2
