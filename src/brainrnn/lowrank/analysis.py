"""Players in environments (networks closed-loop, generating agents) and the measures of a trained network.

A network plays closed-loop: each trial it reads the last trial's outcome, its readout's first
``n_actions`` units are the choice logits (an act-mode network's last unit is its value estimate),
the choice is drawn from the softmax with the environment's uniform number, and the outcome feeds
the next trial's input. Members of an ensemble play their own environments (stacked on axis 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from brainrnn.lowrank.agents import Agent
from brainrnn.lowrank.behaviour import (
    adaptation_curve,
    adaptation_time_constant,
    stay_probabilities,
    trials_to_adapt,
    two_stage_indices,
)
from brainrnn.lowrank.choices import Choices
from brainrnn.lowrank.model import Network, input_sensitivity
from brainrnn.models.rnn import LeakyRNN
from brainrnn.models.spectral import singular_values
from brainrnn.spectra import RANK_DEFINITIONS, decay_rate, effective_rank, participation_ratio
from brainrnn.tasks.reward import Environment, RewardTask, sample_choices


def stack_environments(environments: Sequence[Environment]) -> Environment:
    """One environment per member stacked on a member axis (axis 1, after trials)."""
    return Environment(**{field.name: torch.stack([getattr(environment, field.name) for environment in environments],
                                                  dim=1) for field in fields(Environment)})


@dataclass
class Play:
    """What happened in a batch of closed-loop sessions, time-major (T, E, B): actions, options reached,
    rewards, log-probabilities of the actions taken, choice entropies, value estimates (act-mode
    networks), the inputs read and the states (T, E, B, N)."""

    actions: torch.Tensor
    options: torch.Tensor
    rewards: torch.Tensor
    log_probabilities: torch.Tensor
    entropy: torch.Tensor
    values: torch.Tensor | None
    inputs: torch.Tensor
    states: torch.Tensor


def play(model: Network, task: RewardTask, environment: Environment) -> Play:
    """Run every member closed-loop through its environment (T, E, B); differentiable through the choices' log
    probabilities and the values."""
    actions, options, rewards, log_probabilities, entropies, values, inputs, states = ([] for _ in range(8))
    trial_input = torch.zeros(*environment.choice.shape[1:], task.n_inputs)
    state: torch.Tensor | None = None
    for trial in range(environment.trials):
        readout, new_states = model(trial_input.unsqueeze(0), initial_state=state)
        state = new_states[0]
        logits = readout[0, ..., :task.n_actions]
        log_probability = torch.log_softmax(logits, dim=-1)
        action = sample_choices(log_probability.detach().exp(), environment.choice[trial])
        option, reward = task.outcome(environment, trial, action)
        inputs.append(trial_input)
        states.append(state)
        actions.append(action)
        options.append(option)
        rewards.append(reward)
        log_probabilities.append(log_probability.gather(-1, action.unsqueeze(-1)).squeeze(-1))
        entropies.append(-(log_probability.exp() * log_probability).sum(dim=-1))
        if readout.shape[-1] > task.n_actions:
            values.append(readout[0, ..., task.n_actions])
        trial_input = task.trial_input(action, option, reward)
    return Play(torch.stack(actions), torch.stack(options), torch.stack(rewards), torch.stack(log_probabilities),
                torch.stack(entropies), torch.stack(values) if values else None, torch.stack(inputs),
                torch.stack(states))


def simulate_agent(agent: Agent, task: RewardTask, environment: Environment) -> Choices:
    """An agent's choices in an environment (T, B) as session-major :class:`Choices`."""
    memory = agent.initial(environment.sessions)
    actions, options, rewards = [], [], []
    for trial in range(environment.trials):
        logits = torch.as_tensor(agent.logits(memory))
        action = sample_choices(torch.softmax(logits, dim=-1), environment.choice[trial])
        option, reward = task.outcome(environment, trial, action)
        agent.learn(memory, action.numpy(), option.numpy(), reward.numpy())
        actions.append(action)
        options.append(option)
        rewards.append(reward)
    chosen, reached, rewarded = (torch.stack(values, dim=1).numpy() for values in (actions, options, rewards))
    return Choices(chosen, reached, rewarded, np.ones_like(chosen, dtype=bool))


def behaviour(choices: Choices, environment: Environment, task_name: str, *, before: int,
              window: int) -> dict[str, Any]:
    """Reward rate, P(best action), and the task's signatures: adaptation after reversals, stay probabilities
    and model-based / model-free indices. ``environment`` is (T, B), session-major choices (B, T)."""
    best = environment.best.T.numpy()
    measures: dict[str, Any] = {"reward_rate": float(choices.rewards[choices.valid].mean()),
                                "p_best": float((choices.actions == best)[choices.valid].mean())}
    if task_name == "reversal":
        lags, curve = adaptation_curve(choices.actions, best, environment.reversals.T.numpy(), choices.valid,
                                       before=before, window=window)
        measures.update(adaptation_lags=lags.tolist(), adaptation_curve=curve.tolist(),
                        trials_to_adapt=trials_to_adapt(lags, curve),
                        adaptation_tau=adaptation_time_constant(lags, curve))
    if task_name == "two_stage":
        measures.update(stay_probabilities(choices.actions, choices.options, choices.rewards, choices.valid))
        measures.update(two_stage_indices(choices.actions, choices.options, choices.rewards, choices.valid))
    return measures


def member_choices(played: Play, member: int) -> Choices:
    """One member's closed-loop sessions as session-major :class:`Choices`."""
    actions, options, rewards = (values[:, member].T.detach().numpy()
                                 for values in (played.actions, played.options, played.rewards))
    return Choices(actions, options, rewards, np.ones_like(actions, dtype=bool))


def structure(model: Network, played: Play, member: int, *, decay_values: int) -> dict[str, Any]:
    """Spectrum of the recurrent weights (low-rank networks; NaN for GRUs), response heterogeneity and the
    participation ratio of the member's states during ``played``."""
    states = played.states[:, member].reshape(-1, played.states.shape[-1]).detach().numpy()
    measures: dict[str, Any] = {"activity_participation_ratio": participation_ratio(states)}
    if not isinstance(model, LeakyRNN):
        return measures | {f"effective_rank_{definition}": math.nan for definition in RANK_DEFINITIONS} | {
            "decay_gamma": math.nan, "nuclear_norm": math.nan, "heterogeneity": math.nan,
            "heterogeneity_variance": math.nan, "singular_values": []}
    with torch.no_grad():
        singular = singular_values(model.recurrent_weight)[member].numpy()
        sensitivity = input_sensitivity(model, played.inputs, played.states)[member].numpy()
    mean = sensitivity.mean()
    return measures | {f"effective_rank_{definition}": effective_rank(singular, definition)
                       for definition in RANK_DEFINITIONS} | {
        "decay_gamma": decay_rate(singular, max_values=decay_values), "nuclear_norm": float(singular.sum()),
        "heterogeneity": float(sensitivity.std() / mean) if mean > 0 else math.nan,
        "heterogeneity_variance": float(sensitivity.var()), "singular_values": singular.tolist()}
