"""Working-memory tasks: delayed match-to-sample and a parametric delayed response.

Both share one timeline: fixation → sample → delay (length drawn per trial from a list) → test.
Input channel 0 is the fixation cue (1 until the test epoch). Trials with shorter delays end
earlier; their remaining steps carry no loss (mask 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, Unpack

import torch

from brainrnn.tasks.base import Task, TaskBatch, epoch_mask, register_task
from brainrnn.tasks.catalogue import CATALOGUE


class DelayedTiming(TypedDict, total=False):
    """Timing keywords shared by the delayed tasks (see :class:`_DelayedTask`)."""

    dt_ms: float
    fixation_ms: float
    sample_ms: float
    delays_ms: Sequence[float]
    test_ms: float
    input_noise: float
    fixation_weight: float


class _DelayedTask(Task):
    """Shared timing of the delayed tasks (durations in ms)."""

    def __init__(self, *, dt_ms: float = 20.0, fixation_ms: float = 100.0, sample_ms: float = 200.0,
                 delays_ms: Sequence[float] = (400.0, 600.0, 800.0), test_ms: float = 200.0,
                 input_noise: float = 0.1, fixation_weight: float = 0.2) -> None:
        if not delays_ms or min(delays_ms) <= 0:
            raise ValueError("delays_ms must list positive durations")
        self.dt_ms = dt_ms
        self.fixation_steps, self.sample_steps = self.steps(fixation_ms), self.steps(sample_ms)
        self.delay_steps = torch.tensor([self.steps(delay) for delay in delays_ms])
        self.test_steps = self.steps(test_ms)
        self.input_noise = input_noise
        self.fixation_weight = fixation_weight
        self.max_steps = self.fixation_steps + self.sample_steps + int(self.delay_steps.max()) + self.test_steps

    def _timeline(self, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Per-trial epoch masks for a batch with delays drawn from the list."""
        delays = self.delay_steps[torch.randint(len(self.delay_steps), (batch_size,), generator=generator)]
        time = torch.arange(self.max_steps).unsqueeze(1)
        sample_start = torch.full((batch_size,), self.fixation_steps)
        delay_start = sample_start + self.sample_steps
        test_start = delay_start + delays
        test_stop = test_start + self.test_steps
        return {
            "fixation": epoch_mask(time, torch.zeros(batch_size, dtype=torch.long), sample_start),
            "sample": epoch_mask(time, sample_start, delay_start),
            "delay": epoch_mask(time, delay_start, test_start),
            "test": epoch_mask(time, test_start, test_stop),
        }

    def _noise(self, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
        return self.input_noise * torch.randn(shape, generator=generator)


@register_task
class DelayedMatchToSample(_DelayedTask):
    """Report whether the test stimulus matches the sample seen before the delay.

    Inputs: fixation + one-hot stimulus channels. Outputs: 3 classes (0 fixate, 1 match,
    2 non-match); the answer is scored over the test epoch. Half the trials match.
    """

    info = CATALOGUE["dms"]
    kind = "classification"

    def __init__(self, *, n_stimuli: int = 4, **timing: Unpack[DelayedTiming]) -> None:
        super().__init__(**timing)
        if n_stimuli < 2:
            raise ValueError("n_stimuli must be at least 2")
        self.n_stimuli = n_stimuli
        self.n_inputs = 1 + n_stimuli
        self.n_outputs = 3

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        epochs = self._timeline(batch_size, generator)
        sample = torch.randint(self.n_stimuli, (batch_size,), generator=generator)
        match = torch.rand(batch_size, generator=generator) < 0.5
        offset = torch.randint(1, self.n_stimuli, (batch_size,), generator=generator)
        test = torch.where(match, sample, (sample + offset) % self.n_stimuli)
        stimuli = torch.eye(self.n_stimuli)
        inputs = torch.zeros(self.max_steps, batch_size, self.n_inputs)
        inputs[..., 0] = (epochs["fixation"] | epochs["sample"] | epochs["delay"]).float()
        inputs[..., 1:] += epochs["sample"].unsqueeze(-1) * stimuli[sample]
        inputs[..., 1:] += epochs["test"].unsqueeze(-1) * stimuli[test]
        active = epochs["fixation"] | epochs["sample"] | epochs["delay"] | epochs["test"]
        inputs = (inputs + self._noise(inputs.shape, generator)) * active.unsqueeze(-1)
        labels = torch.where(match, 1, 2)
        targets = torch.where(epochs["test"], labels.unsqueeze(0), 0)
        mask = torch.where(epochs["test"], 1.0, self.fixation_weight) * active
        return TaskBatch(inputs, targets, mask, epochs["test"], labels, epochs)


@register_task
class ParametricDelayedResponse(_DelayedTask):
    """Hold a scalar stimulus through the delay and reproduce it when the fixation cue goes off.

    Inputs: fixation + one amplitude channel (value drawn uniformly from ``value_range`` during
    the sample). Output: one continuous channel, 0 before the test epoch, the value during it.
    A trial is correct when the mean response over the test epoch is within ``tolerance``.
    """

    info = CATALOGUE["parametric"]
    kind = "regression"

    def __init__(self, *, value_range: Sequence[float] = (0.2, 1.0), tolerance: float = 0.1,
                 **timing: Unpack[DelayedTiming]) -> None:
        super().__init__(**timing)
        self.low, self.high = float(value_range[0]), float(value_range[1])
        self.tolerance = tolerance
        self.n_inputs = 2
        self.n_outputs = 1

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        epochs = self._timeline(batch_size, generator)
        values = self.low + (self.high - self.low) * torch.rand(batch_size, generator=generator)
        inputs = torch.zeros(self.max_steps, batch_size, self.n_inputs)
        inputs[..., 0] = (epochs["fixation"] | epochs["sample"] | epochs["delay"]).float()
        inputs[..., 1] = epochs["sample"] * values
        active = epochs["fixation"] | epochs["sample"] | epochs["delay"] | epochs["test"]
        inputs = (inputs + self._noise(inputs.shape, generator)) * active.unsqueeze(-1)
        targets = (epochs["test"] * values).unsqueeze(-1)
        mask = torch.where(epochs["test"], 1.0, self.fixation_weight) * active
        return TaskBatch(inputs, targets, mask, epochs["test"], values, epochs)
