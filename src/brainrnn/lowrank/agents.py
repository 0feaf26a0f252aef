"""Generating agents and cognitive models with a known likelihood, and their maximum-likelihood fit (no torch).

Every agent keeps a small memory per session, turns it into choice logits and learns from each
trial's outcome; the same two functions simulate data and score observed choices, so an agent's
likelihood is exactly that of the process that generated its data. All agents add a perseveration
bonus κ to the logit of the previous action.

* ``q_learning`` (model-free): Q(a) ← Q(a) + α (r − Q(a)) for the chosen action; logits β Q.
  In the two-stage task this credits the first-stage action with the reward whatever the
  transition (TD(1) without a second-stage choice).
* ``model_based`` (two-stage): V(s) ← V(s) + α (r − V(s)) for the state reached; Q_MB(a) = Σ_s P(s|a) V(s)
  with the task's transition matrix; logits β Q_MB.
* ``hybrid`` (two-stage): both, Q = w Q_MB + (1 − w) Q_MF (one learning rate).
* ``bayesian`` (reversal): the posterior b that arm 0 is the good one, from the task's reward
  probabilities (p_high, p_low) and a hazard h of a reversal per trial; logits β E[r | a].

Values start at 0.5 (the middle of the reward range), beliefs at 0.5. Fits maximise the likelihood
with L-BFGS-B inside each parameter's bounds from several seeded random starts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import optimize
from scipy.special import logsumexp

from brainrnn.lowrank.choices import Choices

Memory = dict[str, np.ndarray]


@dataclass(frozen=True)
class TaskStructure:
    """What an agent knows of its task: the number of actions, the transition matrix P(state | action)
    (two-stage) and the reward probabilities of the good and bad arm (reversal)."""

    n_actions: int
    transition: np.ndarray | None = None
    p_high: float | None = None
    p_low: float | None = None

    @classmethod
    def of(cls, task: str, settings: Mapping[str, float]) -> TaskStructure:
        if task == "two_stage":
            common = float(settings["common"])
            return cls(2, transition=np.array([[common, 1 - common], [1 - common, common]]))
        if task == "reversal":
            return cls(2, p_high=float(settings["p_high"]), p_low=float(settings["p_low"]))
        return cls(int(settings["arms"]))


class Agent(ABC):
    """A cognitive model with named parameters (see the module docstring)."""

    name: ClassVar[str]
    parameter_names: ClassVar[tuple[str, ...]]
    bounds: ClassVar[tuple[tuple[float, float], ...]]
    """Where the fit searches each parameter."""
    starts: ClassVar[tuple[tuple[float, float], ...]]
    """Where the fit's random starting points are drawn (the plausible part of the bounds)."""

    def __init__(self, structure: TaskStructure, parameters: Mapping[str, float]) -> None:
        missing = set(self.parameter_names) - set(parameters)
        if missing:
            raise ValueError(f"{self.name} needs parameters {', '.join(sorted(missing))}")
        self.structure = structure
        self.parameters = {name: float(parameters[name]) for name in self.parameter_names}

    def initial(self, sessions: int) -> Memory:
        """The memory of ``sessions`` sessions before their first trial."""
        return {"previous": np.zeros((sessions, self.structure.n_actions)), **self.initial_values(sessions)}

    def logits(self, memory: Memory) -> np.ndarray:
        """Choice logits (sessions, actions): β × values + κ × previous action."""
        return (self.parameters["inverse_temperature"] * self.values(memory)
                + self.parameters["perseveration"] * memory["previous"])

    def learn(self, memory: Memory, actions: np.ndarray, options: np.ndarray, rewards: np.ndarray) -> None:
        """Update the memory with one trial's actions, options reached and rewards (one per session)."""
        self.update(memory, actions, options, rewards)
        memory["previous"] = np.eye(self.structure.n_actions)[actions]

    @abstractmethod
    def initial_values(self, sessions: int) -> Memory: ...

    @abstractmethod
    def values(self, memory: Memory) -> np.ndarray:
        """The value of each action (sessions, actions) that β multiplies."""

    @abstractmethod
    def update(self, memory: Memory, actions: np.ndarray, options: np.ndarray, rewards: np.ndarray) -> None: ...


def _delta_rule(values: np.ndarray, index: np.ndarray, target: np.ndarray, rate: float) -> None:
    rows = np.arange(len(index))
    values[rows, index] += rate * (target - values[rows, index])


class QLearning(Agent):
    name = "q_learning"
    parameter_names = ("learning_rate", "inverse_temperature", "perseveration")
    bounds = ((0.0, 1.0), (0.0, 50.0), (-5.0, 5.0))
    starts = ((0.1, 0.9), (1.0, 15.0), (-1.0, 1.0))

    def initial_values(self, sessions: int) -> Memory:
        return {"q": np.full((sessions, self.structure.n_actions), 0.5)}

    def values(self, memory: Memory) -> np.ndarray:
        return memory["q"]

    def update(self, memory: Memory, actions: np.ndarray, options: np.ndarray, rewards: np.ndarray) -> None:
        _delta_rule(memory["q"], actions, rewards, self.parameters["learning_rate"])


class ModelBased(Agent):
    name = "model_based"
    parameter_names: ClassVar[tuple[str, ...]] = ("learning_rate", "inverse_temperature", "perseveration")
    bounds: ClassVar[tuple[tuple[float, float], ...]] = ((0.0, 1.0), (0.0, 50.0), (-5.0, 5.0))
    starts: ClassVar[tuple[tuple[float, float], ...]] = ((0.1, 0.9), (1.0, 15.0), (-1.0, 1.0))

    @property
    def transition(self) -> np.ndarray:
        if self.structure.transition is None:
            raise ValueError(f"{self.name} needs a task with transitions (two_stage)")
        return self.structure.transition

    def initial_values(self, sessions: int) -> Memory:
        return {"v": np.full((sessions, self.transition.shape[1]), 0.5)}

    def values(self, memory: Memory) -> np.ndarray:
        return memory["v"] @ self.transition.T

    def update(self, memory: Memory, actions: np.ndarray, options: np.ndarray, rewards: np.ndarray) -> None:
        _delta_rule(memory["v"], options, rewards, self.parameters["learning_rate"])


class Hybrid(ModelBased):
    name = "hybrid"
    parameter_names = ("learning_rate", "inverse_temperature", "weight_mb", "perseveration")
    bounds = ((0.0, 1.0), (0.0, 50.0), (0.0, 1.0), (-5.0, 5.0))
    starts = ((0.1, 0.9), (1.0, 15.0), (0.1, 0.9), (-1.0, 1.0))

    def initial_values(self, sessions: int) -> Memory:
        return {**super().initial_values(sessions), "q": np.full((sessions, self.structure.n_actions), 0.5)}

    def values(self, memory: Memory) -> np.ndarray:
        weight = self.parameters["weight_mb"]
        return weight * super().values(memory) + (1 - weight) * memory["q"]

    def update(self, memory: Memory, actions: np.ndarray, options: np.ndarray, rewards: np.ndarray) -> None:
        super().update(memory, actions, options, rewards)
        _delta_rule(memory["q"], actions, rewards, self.parameters["learning_rate"])


class BayesianReversal(Agent):
    name = "bayesian"
    parameter_names = ("hazard", "inverse_temperature", "perseveration")
    bounds = ((0.0, 0.5), (0.0, 50.0), (-5.0, 5.0))
    starts = ((0.01, 0.3), (1.0, 15.0), (-1.0, 1.0))

    def __init__(self, structure: TaskStructure, parameters: Mapping[str, float]) -> None:
        if structure.p_high is None or structure.p_low is None or structure.n_actions != 2:
            raise ValueError("the Bayesian agent needs the reversal task's two reward probabilities")
        super().__init__(structure, parameters)
        self.p_high, self.p_low = structure.p_high, structure.p_low

    def initial_values(self, sessions: int) -> Memory:
        return {"belief": np.full(sessions, 0.5)}

    def values(self, memory: Memory) -> np.ndarray:
        belief = memory["belief"]
        return np.stack([belief * self.p_high + (1 - belief) * self.p_low,
                         (1 - belief) * self.p_high + belief * self.p_low], axis=1)

    def update(self, memory: Memory, actions: np.ndarray, options: np.ndarray, rewards: np.ndarray) -> None:
        def likelihood(probability: np.ndarray) -> np.ndarray:
            return np.where(rewards > 0.5, probability, 1 - probability)

        if_zero_good = likelihood(np.where(actions == 0, self.p_high, self.p_low))
        if_one_good = likelihood(np.where(actions == 0, self.p_low, self.p_high))
        belief = memory["belief"]
        posterior = belief * if_zero_good / (belief * if_zero_good + (1 - belief) * if_one_good)
        hazard = self.parameters["hazard"]
        memory["belief"] = (1 - hazard) * posterior + hazard * (1 - posterior)


AGENT_CLASSES: dict[str, type[Agent]] = {cls.name: cls for cls in (QLearning, ModelBased, Hybrid, BayesianReversal)}


def make_agent(name: str, structure: TaskStructure, parameters: Mapping[str, float]) -> Agent:
    if name not in AGENT_CLASSES:
        raise ValueError(f"unknown agent '{name}' (use one of {', '.join(AGENT_CLASSES)})")
    return AGENT_CLASSES[name](structure, parameters)


def negative_log_likelihood(agent: Agent, choices: Choices) -> float:
    """Summed −log P(observed action) over the valid trials of every session."""
    memory = agent.initial(choices.sessions)
    rows = np.arange(choices.sessions)
    total = 0.0
    for trial in range(choices.trials):
        logits = agent.logits(memory)
        chosen = logits[rows, choices.actions[:, trial]] - logsumexp(logits, axis=1)
        total -= float(chosen[choices.valid[:, trial]].sum())
        agent.learn(memory, choices.actions[:, trial], choices.options[:, trial], choices.rewards[:, trial])
    return total


def mean_nll(agent: Agent, choices: Choices) -> float:
    """Negative log-likelihood per valid trial (nats)."""
    return negative_log_likelihood(agent, choices) / max(int(choices.valid.sum()), 1)


@dataclass(frozen=True)
class Fit:
    """The maximum-likelihood parameters of one cognitive model and its summed NLL on the data fitted."""

    model: str
    parameters: dict[str, float]
    nll: float
    n_parameters: int


def fit_agent(name: str, structure: TaskStructure, choices: Choices, *, starts: int, seed: int) -> Fit:
    """Maximum likelihood of agent ``name`` on ``choices``: L-BFGS-B from ``starts`` random starting points."""
    cls = AGENT_CLASSES[name]
    ranges = np.array(cls.starts)
    rng = np.random.default_rng(seed)

    def objective(values: np.ndarray) -> float:
        return negative_log_likelihood(cls(structure, dict(zip(cls.parameter_names, values, strict=True))), choices)

    best: optimize.OptimizeResult | None = None
    for _ in range(starts):
        start = rng.uniform(ranges[:, 0], ranges[:, 1])
        result = optimize.minimize(objective, start, method="L-BFGS-B", bounds=cls.bounds)
        if best is None or result.fun < best.fun:
            best = result
    assert best is not None, "at least one start"
    return Fit(name, dict(zip(cls.parameter_names, map(float, best.x), strict=True)), float(best.fun),
               len(cls.parameter_names))
