"""Tasks of the MICrONS-constrained study (Shakiba et al., arXiv:2606.14975), scored on a response epoch.

The source gives only their sizes (steps, inputs, classes); the trial logic is ours:

* ``one_choice`` (50 steps: goal 20, delay 10, choices 20; 8 inputs; 4 classes): channels 0–3 show
  the goal location (one-hot) during the goal epoch; channels 4–7 light two of the four locations
  during the choice epoch: the goal and a distractor; the answer is the goal. With
  ``distractor="other"`` (default) the distractor is one of the three other locations, and
  ignoring the goal gives 0.5. With ``distractor="any"`` it is drawn from all four, so a quarter
  of the trials light the goal alone and ignoring the goal gives 1/4 + 3/4 × 1/2 = 0.625 — the
  level of the authors' baselines (one reading of their task; the source does not say).
* ``go_nogo`` (40 steps: fixation 5, stimulus 20, delay 10, response 5; 3 inputs: fixation, go, no-go;
  2 classes): answer 1 (go) or 0 (withhold); half the trials are go.
* ``perceptual_dm`` (41 steps: fixation 5, evidence 30, response 6; 3 inputs: fixation and two
  evidence streams 0.5 ± coh/200 + N(0, 0.1), coh ∈ {0, 6.4, 12.8, 25.6, 51.2}; 2 classes): which
  stream is stronger (random at coherence 0).

Loss and accuracy use the response epoch only (the source classifies the last step).
"""

from __future__ import annotations

import torch

from brainrnn.tasks.base import Task, TaskBatch, register_task
from brainrnn.tasks.catalogue import CATALOGUE

COHERENCES = (0.0, 6.4, 12.8, 25.6, 51.2)


class _EpochTask(Task):
    kind = "classification"
    epochs_steps: dict[str, int]

    def __init__(self, *, input_noise: float = 0.05, dt_ms: float = 1.0) -> None:
        self.input_noise = input_noise
        self.dt_ms = dt_ms
        self.max_steps = sum(self.epochs_steps.values())

    def _epochs(self, batch_size: int) -> dict[str, torch.Tensor]:
        masks, start = {}, 0
        for name, steps in self.epochs_steps.items():
            mask = torch.zeros(self.max_steps, batch_size, dtype=torch.bool)
            mask[start:start + steps] = True
            masks[name] = mask
            start += steps
        return masks

    def _batch(self, inputs: torch.Tensor, labels: torch.Tensor, epochs: dict[str, torch.Tensor],
               generator: torch.Generator) -> TaskBatch:
        inputs = inputs + self.input_noise * torch.randn(inputs.shape, generator=generator)
        response = epochs["response"]
        targets = torch.where(response, labels.unsqueeze(0), 0)
        return TaskBatch(inputs, targets, response.float(), response, labels, epochs)


@register_task
class OneChoiceInference(_EpochTask):
    info = CATALOGUE["one_choice"]
    epochs_steps = {"goal": 20, "delay": 10, "response": 20}
    n_inputs, n_outputs = 8, 4
    DISTRACTORS = ("other", "any")

    def __init__(self, *, distractor: str = "other", **settings: float) -> None:
        super().__init__(**settings)
        if distractor not in self.DISTRACTORS:
            raise ValueError(f"unknown one_choice distractor '{distractor}' (use one of {', '.join(self.DISTRACTORS)})")
        self.distractor = distractor

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        epochs = self._epochs(batch_size)
        goal = torch.randint(4, (batch_size,), generator=generator)
        if self.distractor == "other":
            other = (goal + torch.randint(1, 4, (batch_size,), generator=generator)) % 4
        else:
            other = torch.randint(4, (batch_size,), generator=generator)
        inputs = torch.zeros(self.max_steps, batch_size, self.n_inputs)
        eye = torch.eye(4)
        inputs[..., :4] = epochs["goal"].unsqueeze(-1) * eye[goal]
        inputs[..., 4:] = epochs["response"].unsqueeze(-1) * (eye[goal] + eye[other]).clamp(max=1.0)
        return self._batch(inputs, goal, epochs, generator)


@register_task
class GoNoGo(_EpochTask):
    info = CATALOGUE["go_nogo"]
    epochs_steps = {"fixation": 5, "stimulus": 20, "delay": 10, "response": 5}
    n_inputs, n_outputs = 3, 2

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        epochs = self._epochs(batch_size)
        go = (torch.rand(batch_size, generator=generator) < 0.5).long()
        inputs = torch.zeros(self.max_steps, batch_size, self.n_inputs)
        inputs[..., 0] = (~epochs["response"]).float()
        inputs[..., 1] = epochs["stimulus"] * go
        inputs[..., 2] = epochs["stimulus"] * (1 - go)
        return self._batch(inputs, go, epochs, generator)


@register_task
class PerceptualDecisionMaking(_EpochTask):
    info = CATALOGUE["perceptual_dm"]
    epochs_steps = {"fixation": 5, "stimulus": 30, "response": 6}
    n_inputs, n_outputs = 3, 2

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        epochs = self._epochs(batch_size)
        coherence = torch.tensor(COHERENCES)[torch.randint(len(COHERENCES), (batch_size,), generator=generator)]
        label = (torch.rand(batch_size, generator=generator) < 0.5).long()
        sign = 2.0 * label - 1.0
        stimulus = epochs["stimulus"].float()
        noise = 0.1 * torch.randn(self.max_steps, batch_size, 2, generator=generator)
        inputs = torch.zeros(self.max_steps, batch_size, self.n_inputs)
        inputs[..., 0] = (~epochs["response"]).float()
        inputs[..., 1] = stimulus * (0.5 + sign * coherence / 200 + noise[..., 0])
        inputs[..., 2] = stimulus * (0.5 - sign * coherence / 200 + noise[..., 1])
        return self._batch(inputs, label, epochs, generator)
