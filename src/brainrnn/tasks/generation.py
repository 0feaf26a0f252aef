"""Pattern-generation tasks: a sine wave at a frequency given as a static input.

``sine``: the input channel holds f / ``frequency_scale_hz`` (plus Gaussian noise) for the whole
trial; the single output must follow sin(2π f t) from the first step on (t = step × dt, so the
wave starts at 0 like a network started at rest). Each trial draws f uniformly from
``frequency_range_hz``, or uses ``frequency_hz`` when it is set (one condition of the task). A
trial is correct when the RMS error of its output over the scored steps is below ``tolerance``
(the wave's amplitude is 1). The first ``settle_ms`` carry loss weight ``settle_weight``: a network
started at rest needs a moment to reach its oscillation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from brainrnn.tasks.base import Task, TaskBatch, register_task
from brainrnn.tasks.catalogue import CATALOGUE


@register_task
class SineGeneration(Task):
    """Generate sin(2π f t) while the input holds the frequency f (see the module docstring)."""

    info = CATALOGUE["sine"]
    kind = "regression"

    def __init__(self, *, dt_ms: float = 10.0, duration_ms: float = 1000.0,
                 frequency_range_hz: Sequence[float] = (1.0, 10.0), frequency_hz: float | None = None,
                 frequency_scale_hz: float = 10.0, input_noise: float = 0.02, settle_ms: float = 100.0,
                 settle_weight: float = 0.1, tolerance: float = 0.25) -> None:
        low, high = float(frequency_range_hz[0]), float(frequency_range_hz[1])
        if not 0 < low <= high:
            raise ValueError("frequency_range_hz must be (low, high) with 0 < low <= high")
        if frequency_hz is not None and frequency_hz <= 0:
            raise ValueError("frequency_hz must be positive")
        self.dt_ms = dt_ms
        self.max_steps = self.steps(duration_ms)
        self.low, self.high, self.frequency_hz = low, high, frequency_hz
        self.frequency_scale_hz = frequency_scale_hz
        self.input_noise = input_noise
        self.settle_steps, self.settle_weight = min(self.steps(settle_ms), self.max_steps), settle_weight
        self.tolerance = tolerance
        self.n_inputs = 1
        self.n_outputs = 1

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        draws = torch.rand(batch_size, generator=generator)
        frequencies = draws * (self.high - self.low) + self.low if self.frequency_hz is None else \
            torch.full((batch_size,), float(self.frequency_hz))
        time_s = torch.arange(self.max_steps, dtype=torch.float32).unsqueeze(1) * self.dt_ms / 1000.0
        targets = torch.sin(2 * math.pi * frequencies.unsqueeze(0) * time_s).unsqueeze(-1)
        inputs = (frequencies / self.frequency_scale_hz).expand(self.max_steps, batch_size).unsqueeze(-1)
        inputs = inputs + self.input_noise * torch.randn(inputs.shape, generator=generator)
        mask = torch.ones(self.max_steps, batch_size)
        mask[:self.settle_steps] = self.settle_weight
        every_step = torch.ones(self.max_steps, batch_size, dtype=torch.bool)
        return TaskBatch(inputs, targets, mask, every_step, frequencies, {"generation": every_step})

    def accuracy(self, outputs: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Share of trials whose RMS error over the scored steps is below ``tolerance``; one value per member."""
        weights = batch.mask.to(outputs.dtype)
        squared = (outputs[..., 0] - batch.targets[..., 0]).square()
        rms = ((squared * weights).sum(dim=0) / weights.sum(dim=0)).sqrt()
        return (rms < self.tolerance).to(outputs.dtype).mean(dim=-1)
