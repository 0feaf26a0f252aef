"""Reward-learning tasks (Ji-An, Benna & Mattar 2025): sessions of discrete trials, one time step per trial.

A session is a sequence of choices; each trial the player picks an action, reaches an *option*
(the chosen arm, or in the two-stage task the second-stage state the action leads to) and is
rewarded (1) or not (0) with that option's current probability. The input of trial t is what
happened on trial t − 1: the action (one-hot), the reward and, in the two-stage task, the
second-stage state (one-hot); the first trial's input is zero.

* ``reversal``: two arms, the good one rewarded with ``p_high`` and the other with ``p_low``; the
  arms swap after blocks of ``block_min``–``block_max`` trials (uniform, inclusive). The source's
  task is 0.8/0.2 with blocks of 20–40; the monkeys' variant 0.7/0.3 with 80-trial blocks.
* ``two_stage``: two first-stage actions, each leading to "its" second-stage state with probability
  ``common`` (0.8) and to the other one otherwise; each state rewards with a probability that
  follows a Gaussian random walk (σ ``drift_sd`` = 0.025), reflected into [``reward_min``,
  ``reward_max``] = [0.25, 0.75]. No second-stage choice (the rats' version).
* ``bandit``: ``arms`` (4) arms whose reward probabilities follow reflected Gaussian walks; with
  ``jump_probability`` > 0 (the volatile variant) every arm is redrawn uniformly at that rate.

:meth:`RewardTask.environment` draws everything random about a batch of sessions at once: the
reward probabilities and uniform numbers for every choice, transition and reward, so that any
player (a generating agent, a network) facing the same environment meets the same luck. The
generic :meth:`RewardTask.sample` (used by the fixed-point stage) plays uniformly random actions;
its targets are the best action of each trial, which a network can only infer from the history.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import torch

from brainrnn.tasks.base import Task, TaskBatch, register_task
from brainrnn.tasks.catalogue import CATALOGUE


@dataclass(frozen=True)
class Environment:
    """Everything random about ``sessions`` sessions of ``trials`` trials, time-major.

    ``probabilities`` (T, B, options): reward probability of each option; ``best`` (T, B): the
    action with the highest expected reward; ``reversals`` (T, B): the first trial after the
    contingencies swapped (reversal task; all False otherwise); ``choice``, ``transition``,
    ``reward`` (T, B): uniform numbers for the player's choice, the transition and the reward.
    """

    probabilities: torch.Tensor
    best: torch.Tensor
    reversals: torch.Tensor
    choice: torch.Tensor
    transition: torch.Tensor
    reward: torch.Tensor

    @property
    def trials(self) -> int:
        return self.probabilities.shape[0]

    @property
    def sessions(self) -> int:
        return self.probabilities.shape[1]


def reflect(values: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Fold values back into [low, high] as a reflecting boundary does (any distance outside)."""
    width = high - low
    folded = torch.remainder(values - low, 2 * width)
    return low + torch.where(folded > width, 2 * width - folded, folded)


def sample_choices(probabilities: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
    """Actions drawn from choice probabilities (..., actions) by inverse CDF with uniforms (...)."""
    cumulative = probabilities.cumsum(dim=-1)
    return (cumulative < uniform.unsqueeze(-1) * cumulative[..., -1:]).sum(dim=-1).clamp(
        max=probabilities.shape[-1] - 1)


class RewardTask(Task):
    """A reward-learning task: environments, outcomes of choices, and the trial-by-trial input code."""

    kind = "classification"
    n_actions: int
    n_options: int
    n_states: int
    """Second-stage states shown in the input (0 when the option is the chosen arm itself)."""

    def __init__(self, *, trials: int) -> None:
        if trials < 2:
            raise ValueError("a session needs at least 2 trials")
        self.trials = trials
        self.dt_ms = 1.0
        self.n_inputs = self.n_actions + 1 + self.n_states
        self.n_outputs = self.n_actions

    @abstractmethod
    def reward_probabilities(self, sessions: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Reward probability of every option (T, B, options) and the reversal mask (T, B)."""

    def option_values(self, probabilities: torch.Tensor) -> torch.Tensor:
        """Expected reward of each action (..., actions) from the options' probabilities."""
        return probabilities

    def reach(self, actions: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
        """The option each action leads to (the chosen arm itself unless the task has transitions)."""
        return actions

    def environment(self, sessions: int, generator: torch.Generator) -> Environment:
        probabilities, reversals = self.reward_probabilities(sessions, generator)
        uniforms = torch.rand(3, self.trials, sessions, generator=generator)
        return Environment(probabilities, self.option_values(probabilities).argmax(dim=-1), reversals,
                           choice=uniforms[0], transition=uniforms[1], reward=uniforms[2])

    def outcome(self, environment: Environment, trial: int | slice,
                actions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Options reached and rewards (0/1 floats) of ``actions`` on ``trial`` (or a slice of trials)."""
        options = self.reach(actions, environment.transition[trial])
        reward_probability = environment.probabilities[trial].gather(-1, options.unsqueeze(-1)).squeeze(-1)
        return options, (environment.reward[trial] < reward_probability).float()

    def trial_input(self, actions: torch.Tensor, options: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
        """The input that follows one trial (..., n_inputs): action one-hot, reward, second-stage state one-hot."""
        parts = [torch.nn.functional.one_hot(actions, self.n_actions).float(), rewards.unsqueeze(-1)]
        if self.n_states:
            parts.append(torch.nn.functional.one_hot(options, self.n_states).float())
        return torch.cat(parts, dim=-1)

    def encode(self, actions: torch.Tensor, options: torch.Tensor, rewards: torch.Tensor) -> torch.Tensor:
        """Inputs (T, ..., n_inputs) of whole sessions: trial t sees trial t − 1; trial 0 sees nothing."""
        following = self.trial_input(actions, options, rewards)
        return torch.cat([torch.zeros_like(following[:1]), following[:-1]])

    def sample(self, batch_size: int, generator: torch.Generator) -> TaskBatch:
        """Sessions of uniformly random choices; target = each trial's best action."""
        environment = self.environment(batch_size, generator)
        actions = (environment.choice * self.n_actions).long().clamp(max=self.n_actions - 1)
        options, rewards = self.outcome(environment, slice(None), actions)
        inputs = self.encode(actions, options, rewards)
        every = torch.ones(self.trials, batch_size, dtype=torch.bool)
        return TaskBatch(inputs, environment.best, every.float(), every, environment.best[-1], {"trials": every})

    def accuracy(self, outputs: torch.Tensor, batch: TaskBatch) -> torch.Tensor:
        """Fraction of (mask-weighted) trials whose largest logit is the target; one value per member."""
        hits = (outputs.argmax(dim=-1) == batch.targets).to(outputs.dtype) * batch.mask
        return hits.sum(dim=(0, -1)) / batch.mask.sum(dim=(0, -1))


def random_walks(start: torch.Tensor, trials: int, drift_sd: float, low: float, high: float,
                 generator: torch.Generator) -> torch.Tensor:
    """Reflected Gaussian random walks (T, *start.shape) starting at ``start``."""
    steps = drift_sd * torch.randn(trials - 1, *start.shape, generator=generator)
    return reflect(torch.cat([start.unsqueeze(0), start.unsqueeze(0) + steps.cumsum(dim=0)]), low, high)


@register_task
class ReversalLearning(RewardTask):
    info = CATALOGUE["reversal"]
    n_actions, n_options, n_states = 2, 2, 0

    def __init__(self, *, trials: int = 100, p_high: float = 0.8, p_low: float = 0.2, block_min: int = 20,
                 block_max: int = 40) -> None:
        super().__init__(trials=trials)
        if not 0 <= p_low < p_high <= 1 or not 1 <= block_min <= block_max:
            raise ValueError("reversal needs 0 <= p_low < p_high <= 1 and 1 <= block_min <= block_max")
        self.p_high, self.p_low, self.block_min, self.block_max = p_high, p_low, block_min, block_max

    def reward_probabilities(self, sessions: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        most = self.trials // self.block_min + 1
        lengths = torch.randint(self.block_min, self.block_max + 1, (most, sessions), generator=generator)
        first_good = torch.randint(2, (sessions,), generator=generator)
        block = (torch.arange(self.trials).view(-1, 1, 1) >= lengths.cumsum(dim=0).unsqueeze(0)).sum(dim=1)
        good = (first_good + block) % 2
        probabilities = torch.where(torch.nn.functional.one_hot(good, 2).bool(), self.p_high, self.p_low)
        reversals = torch.cat([torch.zeros(1, sessions, dtype=torch.bool), block[1:] != block[:-1]])
        return probabilities, reversals


@register_task
class TwoStage(RewardTask):
    info = CATALOGUE["two_stage"]
    n_actions, n_options, n_states = 2, 2, 2

    def __init__(self, *, trials: int = 100, common: float = 0.8, drift_sd: float = 0.025, reward_min: float = 0.25,
                 reward_max: float = 0.75) -> None:
        super().__init__(trials=trials)
        if not 0.5 < common <= 1 or not 0 <= reward_min < reward_max <= 1:
            raise ValueError("two_stage needs 0.5 < common <= 1 and 0 <= reward_min < reward_max <= 1")
        self.common, self.drift_sd, self.reward_min, self.reward_max = common, drift_sd, reward_min, reward_max

    @property
    def transition_matrix(self) -> torch.Tensor:
        """P(state | action) (actions, states): action a leads to state a with probability ``common``."""
        return torch.tensor([[self.common, 1 - self.common], [1 - self.common, self.common]])

    def reward_probabilities(self, sessions: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        start = self.reward_min + (self.reward_max - self.reward_min) * torch.rand(sessions, 2, generator=generator)
        walks = random_walks(start, self.trials, self.drift_sd, self.reward_min, self.reward_max, generator)
        return walks, torch.zeros(self.trials, sessions, dtype=torch.bool)

    def option_values(self, probabilities: torch.Tensor) -> torch.Tensor:
        return probabilities @ self.transition_matrix.T

    def reach(self, actions: torch.Tensor, uniform: torch.Tensor) -> torch.Tensor:
        return torch.where(uniform < self.common, actions, 1 - actions)


@register_task
class DriftingBandit(RewardTask):
    info = CATALOGUE["bandit"]
    n_states = 0

    def __init__(self, *, trials: int = 100, arms: int = 4, drift_sd: float = 0.05, reward_min: float = 0.0,
                 reward_max: float = 1.0, jump_probability: float = 0.0) -> None:
        if arms < 2 or not 0 <= reward_min < reward_max <= 1 or not 0 <= jump_probability <= 1:
            raise ValueError("bandit needs at least 2 arms, 0 <= reward_min < reward_max <= 1 and "
                             "0 <= jump_probability <= 1")
        self.n_actions = self.n_options = arms
        super().__init__(trials=trials)
        self.drift_sd, self.reward_min, self.reward_max = drift_sd, reward_min, reward_max
        self.jump_probability = jump_probability

    def reward_probabilities(self, sessions: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        width = self.reward_max - self.reward_min
        fresh = self.reward_min + width * torch.rand(self.trials, sessions, self.n_actions, generator=generator)
        jumps = torch.rand(self.trials, sessions, generator=generator) < self.jump_probability
        steps = self.drift_sd * torch.randn(self.trials, sessions, self.n_actions, generator=generator)
        means = [fresh[0]]
        for trial in range(1, self.trials):
            drifted = reflect(means[-1] + steps[trial], self.reward_min, self.reward_max)
            means.append(torch.where(jumps[trial].unsqueeze(-1), fresh[trial], drifted))
        return torch.stack(means), torch.zeros(self.trials, sessions, dtype=torch.bool)
