"""Low-rank developmental family: tasks, agents, regularisers, the rank bound, training in both modes, analyses."""

from __future__ import annotations

import copy
import inspect
import math

import numpy as np
import pandas as pd
import pytest
import torch

from brainrnn.errors import InputError
from brainrnn.lowrank import COGNITIVE_MODELS, DEVELOPMENTAL, SPLITS
from brainrnn.lowrank.agents import TaskStructure, fit_agent, make_agent, mean_nll
from brainrnn.lowrank.analysis import behaviour, play, simulate_agent, stack_environments
from brainrnn.lowrank.behaviour import (
    adaptation_curve,
    adaptation_time_constant,
    logistic_regression,
    trials_to_adapt,
)
from brainrnn.lowrank.bridge import fit_lds, lds_measures
from brainrnn.lowrank.choices import (
    Choices,
    from_table,
    read_choice_table,
    split_choices,
    split_sessions,
    task_dimensions,
)
from brainrnn.lowrank.model import (
    Development,
    Regularisation,
    developmental_terms,
    heterogeneity,
    input_sensitivity,
    low_rank_network,
)
from brainrnn.lowrank.summary import interval, predictions_table
from brainrnn.lowrank.train import (
    ChoiceFit,
    SessionTensors,
    choice_nll,
    reward_task,
    simulate_choices,
    train_developmental,
    train_grus,
)
from brainrnn.models.gru import GRUShape, TinyGRU
from brainrnn.models.spectral import effective_rank, nuclear_norm, singular_values, spectral_target
from brainrnn.spectra import decay_rate
from brainrnn.spectra import effective_rank as effective_rank_numpy
from brainrnn.tasks.registry import make_task
from brainrnn.tasks.reward import reflect

from conftest import DEFAULTS, ROOT, merge_config, section

SAMPLE = ROOT / "resources" / "lowrank" / "reversal_choices_sample.tsv"


def small_section(**overrides) -> dict:
    """The lowrank config section at its defaults, shrunk for tests, with ``overrides`` merged in."""
    settings = section("lowrank", choices={"sessions": 60}, analysis={"test_sessions": 64},
                       act={"epochs": 3, "steps_per_epoch": 5, "sessions": 8, "eval_sessions": 16},
                       fit={"max_epochs": 30, "patience": 10}, gru={"units": [2], "l1": [1e-4]})
    merge_config(settings, overrides)
    return settings


def known_spectrum(values: list[float], n: int = 12, seed: int = 0) -> torch.Tensor:
    """A one-member (1, n, n) matrix U diag(values) Vᵀ with random orthogonal U, V."""
    generator = torch.Generator().manual_seed(seed)
    left, _ = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=torch.float64))
    right, _ = torch.linalg.qr(torch.randn(n, n, generator=generator, dtype=torch.float64))
    singular = torch.zeros(n, dtype=torch.float64)
    singular[:len(values)] = torch.tensor(values, dtype=torch.float64)
    return (left @ torch.diag(singular) @ right.T).unsqueeze(0)


# ----------------------------------------------------------------------------- tasks


def test_task_defaults_are_the_schema_defaults_and_the_dimensions_agree():
    settings = DEFAULTS["lowrank"]["task_settings"]
    for name, expected in settings.items():
        task = make_task(name)
        signature = inspect.signature(type(task).__init__)
        assert {key: parameter.default for key, parameter in signature.parameters.items()
                if key != "self"} == expected, name
        assert task_dimensions(name, expected) == (task.n_actions, task.n_states)
        assert task.n_inputs == len(task.input_names)


def test_reversal_blocks_alternate_within_their_length_range():
    task = make_task("reversal", trials=400, block_min=20, block_max=40)
    environment = task.environment(50, torch.Generator().manual_seed(0))
    good = environment.probabilities.argmax(dim=-1)
    assert torch.allclose(environment.probabilities.unique(), torch.tensor([0.2, 0.8]))
    for session in range(50):
        switches = np.flatnonzero(environment.reversals[:, session].numpy())
        assert np.array_equal(switches, np.flatnonzero(np.diff(good[:, session].numpy())) + 1)
        lengths = np.diff(switches)
        assert lengths.size > 5 and lengths.min() >= 20 and lengths.max() <= 40
    assert torch.equal(environment.best, good)


def test_two_stage_transitions_and_drifting_rewards_have_their_parameters():
    task = make_task("two_stage", trials=2000)
    environment = task.environment(20, torch.Generator().manual_seed(1))
    actions = torch.zeros(2000, 20, dtype=torch.long)
    options, _ = task.outcome(environment, slice(None), actions)
    assert abs(float((options == 0).float().mean()) - 0.8) < 0.01
    walks = environment.probabilities
    assert float(walks.min()) >= 0.25 and float(walks.max()) <= 0.75
    steps = (walks[1:] - walks[:-1]).flatten()
    interior = steps.abs() < 0.1  # reflected steps excluded
    assert abs(float(steps[interior].std()) - 0.025) < 0.001


def test_reflection_folds_any_distance_back_and_volatile_bandits_jump_at_their_rate():
    values = torch.tensor([-0.3, 0.1, 1.2, 2.7])
    assert torch.allclose(reflect(values, 0.0, 1.0), torch.tensor([0.3, 0.1, 0.8, 0.7]))
    task = make_task("bandit", trials=1000, jump_probability=0.05, drift_sd=0.0)
    environment = task.environment(10, torch.Generator().manual_seed(2))
    changed = (environment.probabilities[1:] != environment.probabilities[:-1]).any(dim=-1)
    assert abs(float(changed.float().mean()) - 0.05) < 0.01


def test_the_input_of_a_trial_is_the_previous_trial():
    task = make_task("two_stage", trials=5)
    actions, options = torch.tensor([[0], [1], [1], [0], [1]]), torch.tensor([[0], [0], [1], [1], [1]])
    rewards = torch.tensor([[1.0], [0.0], [1.0], [1.0], [0.0]])
    inputs = task.encode(actions, options, rewards)
    assert torch.equal(inputs[0, 0], torch.zeros(5))
    for trial in range(1, 5):
        expected = torch.cat([torch.eye(2)[actions[trial - 1, 0]], rewards[trial - 1],
                              torch.eye(2)[options[trial - 1, 0]]])
        assert torch.equal(inputs[trial, 0], expected)


# ----------------------------------------------------------------------------- agents


def _simulated(task_name: str, agent_name: str, parameters: dict, sessions: int = 200, seed: int = 3):
    settings = DEFAULTS["lowrank"]["task_settings"][task_name]
    task = make_task(task_name, **settings)
    agent = make_agent(agent_name, TaskStructure.of(task_name, settings), parameters)
    environment = task.environment(sessions, torch.Generator().manual_seed(seed))
    return agent, environment, simulate_agent(agent, task, environment)


HYBRID = {"learning_rate": 0.5, "inverse_temperature": 8.0, "weight_mb": 0.7, "perseveration": 0.3}


def test_a_model_based_agent_shows_the_reward_by_transition_interaction_and_a_model_free_one_does_not():
    parameters = {"learning_rate": 0.5, "inverse_temperature": 8.0, "perseveration": 0.3}
    _, environment, based = _simulated("two_stage", "model_based", parameters)
    _, _, free = _simulated("two_stage", "q_learning", parameters)
    model_based = behaviour(based, environment, "two_stage", before=5, window=20)
    model_free = behaviour(free, environment, "two_stage", before=5, window=20)
    # model-based: stay after common-rewarded and rare-unrewarded, switch after rare-rewarded
    assert model_based["mb_index"] > 0.5 and abs(model_based["mf_index"]) < 0.2
    assert model_based["common_rewarded"] > model_based["rare_rewarded"] + 0.2
    assert model_based["rare_unrewarded"] > model_based["common_unrewarded"] + 0.2
    # model-free: the main effect of reward, whatever the transition
    assert model_free["mf_index"] > 1.0 and abs(model_free["mb_index"]) < 0.15
    assert abs(model_free["common_rewarded"] - model_free["rare_rewarded"]) < 0.05


def test_the_bayesian_agent_detects_reversals_within_a_few_trials():
    agent, environment, choices = _simulated("reversal", "bayesian",
                                             {"hazard": 0.05, "inverse_temperature": 8.0, "perseveration": 0.3})
    measures = behaviour(choices, environment, "reversal", before=5, window=20)
    curve = np.array(measures["adaptation_curve"])
    assert curve[:5].max() < 0.15 and curve[-10:].min() > 0.8  # old arm before, new arm 10 trials after
    assert 1.0 < measures["trials_to_adapt"] < 4.0
    assert measures["p_best"] > 0.8


@pytest.mark.parametrize("task_name, agent_name, parameters, tolerance", [
    ("bandit", "q_learning", {"learning_rate": 0.4, "inverse_temperature": 6.0, "perseveration": 0.2},
     {"learning_rate": 0.05, "inverse_temperature": 0.9, "perseveration": 0.1}),
    ("two_stage", "hybrid", HYBRID,
     {"learning_rate": 0.1, "inverse_temperature": 1.5, "weight_mb": 0.1, "perseveration": 0.15}),
])
def test_a_fitted_cognitive_model_recovers_its_generating_parameters(task_name, agent_name, parameters, tolerance):
    """200 sessions × 100 trials: every parameter within the stated absolute tolerance (β within 15%)."""
    agent, _, choices = _simulated(task_name, agent_name, parameters)
    fit = fit_agent(agent_name, agent.structure, choices, starts=2, seed=0)
    for name, value in parameters.items():
        assert abs(fit.parameters[name] - value) <= tolerance[name], (name, fit.parameters)
    assert fit.nll <= mean_nll(agent, choices) * choices.valid.sum() + 1e-6  # the maximum is at least the truth


# ----------------------------------------------------------------------------- spectra and regularisers


def test_regularisers_equal_direct_computation_on_known_spectra():
    values = [3.0, 2.0, 1.0, 0.5]
    weight = known_spectrum(values)
    singular = singular_values(weight)
    assert torch.allclose(singular[0, :4], torch.tensor(values, dtype=torch.float64))
    assert float(nuclear_norm(singular)) == pytest.approx(6.5)
    # plain: (Σσ)²/Σσ² = ‖W‖*² / ‖W‖F²; squared: (Σσ²)²/Σσ⁴ = ‖W‖F⁴ / ‖WᵀW‖F², without an SVD
    frobenius = float((weight**2).sum())
    assert float(effective_rank(singular, "plain")) == pytest.approx(6.5**2 / frobenius)
    gram = weight[0].T @ weight[0]
    assert float(effective_rank(singular, "squared")) == pytest.approx(frobenius**2 / float((gram**2).sum()))
    for definition in ("plain", "squared"):
        assert float(effective_rank(singular, definition)) == pytest.approx(
            effective_rank_numpy(np.array(values), definition))
    target = 3.0 * np.exp(-0.4 * np.arange(4))
    residual = float(((np.array(values) - target) ** 2).sum())
    assert float(spectral_target(singular[:, :4], 0.4)) == pytest.approx(residual)
    assert float(effective_rank(singular_values(known_spectrum([1.0] * 5)), "plain")) == pytest.approx(5.0)


def test_the_decay_fit_recovers_gamma_and_ignores_the_zero_part_of_a_spectrum():
    for gamma in (0.2, 0.4):
        spectrum = np.concatenate([2.0 * np.exp(-gamma * np.arange(9)), np.full(23, 3e-7)])
        assert decay_rate(spectrum, max_values=10) == pytest.approx(gamma, abs=1e-9)


def _trained_state(model, inputs):
    _, states = model(inputs)
    return states


def test_input_sensitivity_equals_autograd_jacobian_norms_and_heterogeneity_is_bounded():
    torch.set_num_threads(1)
    task = reward_task("two_stage", section("lowrank"))
    development = Development.from_config(section("lowrank.developmental.premature"))
    model = low_rank_network(task, "fit", development, section("lowrank.network"), [5]).double()
    inputs = task.sample(3, torch.Generator().manual_seed(0)).inputs[:6].unsqueeze(1).double()
    states = _trained_state(model, inputs)
    closed = input_sensitivity(model, inputs, states)[0]
    norms = []
    for trial in range(inputs.shape[0]):
        previous = states[trial - 1] if trial else torch.zeros_like(states[0])
        for session in range(inputs.shape[2]):
            def one_step(u, h=previous[:, session:session + 1]):
                return model.step(h, model.input_drive(u.view(1, 1, 1, -1))[0])[0, 0]
            jacobian = torch.autograd.functional.jacobian(one_step, inputs[trial, 0, session])
            norms.append(jacobian.norm(dim=1))
    assert torch.allclose(closed, torch.stack(norms).mean(dim=0), atol=1e-10)
    concentrated = torch.zeros(1, 32, dtype=torch.float64)
    concentrated[0, 0] = 1.0
    assert float(heterogeneity(concentrated)) == pytest.approx(math.sqrt(31))  # the CV's bound, √(N − 1)
    assert float(heterogeneity(torch.ones(1, 32))) == 0.0


def test_the_spectral_loss_drives_the_singular_values_to_their_target():
    """Toy problem: only the spectral term on a rank-6 factorised matrix; σ_i/σ_0 → e^(−0.4 i) within 1%."""
    torch.manual_seed(0)
    left = torch.randn(1, 16, 6, requires_grad=True)
    right = torch.randn(1, 16, 6, requires_grad=True)
    optimiser = torch.optim.Adam([left, right], lr=0.01)
    for _ in range(3000):
        optimiser.zero_grad()
        spectral_target(singular_values(left @ right.transpose(1, 2) / 16)[:, :6], 0.4).sum().backward()
        optimiser.step()
    singular = singular_values(left @ right.transpose(1, 2) / 16)[0, :6].detach()
    assert torch.allclose(singular / singular[0], torch.exp(-0.4 * torch.arange(6.0)), rtol=0.01)


def test_the_low_rank_layer_has_rank_at_most_r_plus_one_before_and_after_training(one_torch_thread):
    settings = small_section()
    for configuration in DEVELOPMENTAL:
        rank = settings["developmental"][configuration]["rank"]
        run = train_developmental("act", "reversal", configuration, settings, [0, 1], 11, None)
        weight = run.model.recurrent_weight.detach()
        singular = singular_values(weight)
        assert weight.shape[-1] == 32
        for member in range(2):  # float32: the zero singular values sit at rounding level, ~1e-7 of the largest
            assert int(torch.linalg.matrix_rank(weight[member], rtol=1e-5)) == rank + 1
            assert float(singular[member, rank]) > 1e-3 * float(singular[member, 0])


# ----------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def reversal_data():
    """Two seeds of Bayesian-agent reversal sessions (200 per seed: 120 train, 40 validation, 40 test)."""
    settings = section("lowrank", choices={"sessions": 200})
    simulated = [simulate_choices("reversal", settings, seed, 4) for seed in (0, 1)]
    return [split_choices(data.table) for data in simulated], [data.record for data in simulated]


def test_a_trained_tiny_gru_beats_chance_and_comes_within_0_1_nats_of_the_generating_agent(reversal_data,
                                                                                         one_torch_thread):
    data, records = reversal_data
    settings = section("lowrank", gru={"units": [2], "l1": [1e-4]}, fit={"max_epochs": 300, "patience": 50},
                       analysis={"test_sessions": 16})
    (size,) = train_grus("fit", "reversal", settings, [0, 1], 4, data)
    for seed, member in enumerate(size.selected):
        nll, ceiling = size.run.metrics[member]["nll_test"], records[seed]["nll_ceiling_test"]
        assert nll < math.log(2) - 0.3, nll
        assert nll - ceiling < 0.1, (nll, ceiling)


def test_a_low_rank_network_fits_choices_well_above_chance_and_keeps_its_best_weights(reversal_data,
                                                                                      one_torch_thread):
    data, _ = reversal_data
    settings = section("lowrank", fit={"max_epochs": 150, "patience": 30}, analysis={"test_sessions": 16},
                       optimiser={"learning_rate": 0.005, "weight_decay": 1e-5, "clip_grad_norm": 1.0})
    run = train_developmental("fit", "reversal", "premature", settings, [0, 1], 4, data)
    for member, record in enumerate(run.metrics):
        assert record["nll_test"] < math.log(2) - 0.2, record["nll_test"]
        best = run.history.loc[run.history["member"] == member, "validation_nll"].min()
        assert record["nll_validation"] == pytest.approx(best, abs=1e-5)  # the early-stopped weights


def test_choice_fit_members_train_as_they_would_alone(reversal_data, one_torch_thread):
    data, _ = reversal_data
    settings = section("lowrank", fit={"max_epochs": 8, "patience": 5, "batch_sessions": 40},
                       analysis={"test_sessions": 8})
    together = train_developmental("fit", "reversal", "mature", settings, [0, 1], 4, data)
    alone = train_developmental("fit", "reversal", "mature", settings, [1], 4, data[1:])
    for name, value in alone.model.state_dict().items():
        assert torch.allclose(together.model.state_dict()[name][1], value[0], atol=1e-5), name


def test_act_mode_learns_to_choose_the_better_arm(one_torch_thread):
    settings = small_section(act={"epochs": 20, "steps_per_epoch": 10, "sessions": 16, "eval_sessions": 32},
                             task_settings={"reversal": {"trials": 60}})
    run = train_developmental("act", "reversal", "premature", settings, [0], 8, None)
    history = run.history.set_index("epoch")
    assert history["eval_p_best"].iloc[0] < 0.6 and history["eval_p_best"].iloc[-1] > 0.7
    assert run.metrics[0]["p_best"] > 0.7 and run.metrics[0]["trials_to_adapt"] < 6


def test_premature_networks_have_the_higher_effective_rank_under_both_definitions(one_torch_thread):
    settings = small_section()
    runs = {configuration: train_developmental("act", "two_stage", configuration, settings, [0, 1, 2], 9, None)
            for configuration in DEVELOPMENTAL}
    for seed in range(3):
        premature, mature = runs["premature"].metrics[seed], runs["mature"].metrics[seed]
        assert premature["effective_rank_plain"] > mature["effective_rank_plain"] + 1.0
        assert premature["effective_rank_squared"] > mature["effective_rank_squared"] + 0.5
        assert premature["decay_gamma"] < mature["decay_gamma"]


def test_developmental_terms_follow_the_configured_definition():
    task = reward_task("reversal", section("lowrank"))
    development = Development.from_config(section("lowrank.developmental.mature"))
    model = low_rank_network(task, "fit", development, section("lowrank.network"), [3])
    inputs = task.sample(4, torch.Generator().manual_seed(0)).inputs.unsqueeze(1)
    states = _trained_state(model, inputs)
    singular = singular_values(model.recurrent_weight)
    for definition in ("plain", "squared"):
        regularisation = Regularisation.from_config(section("lowrank.regularisation", effective_rank=definition))
        terms = developmental_terms(model, development, regularisation, inputs, states)
        assert torch.allclose(terms["effective_rank"], effective_rank(singular, definition))


def test_a_gru_ensemble_plays_closed_loop_with_the_environment_s_luck():
    task = make_task("reversal", trials=20)
    environments = [task.environment(4, torch.Generator().manual_seed(seed)) for seed in (0, 1)]
    model = TinyGRU(GRUShape(task.n_inputs, 2, task.n_outputs), [0, 1])
    with torch.no_grad():
        played = play(model, task, stack_environments(environments))
        single = TinyGRU(GRUShape(task.n_inputs, 2, task.n_outputs), [1])
        alone = play(single, task, stack_environments(environments[1:]))
    assert torch.equal(played.actions[:, 1], alone.actions[:, 0])
    assert torch.equal(played.rewards[:, 1], alone.rewards[:, 0])
    _, rewards = task.outcome(environments[0], slice(None), played.actions[:, 0])
    assert torch.equal(rewards, played.rewards[:, 0])


def test_choice_nll_of_a_uniform_predictor_is_log_of_the_actions():
    task = make_task("bandit", trials=10)
    batch = task.sample(6, torch.Generator().manual_seed(0))
    sessions = SessionTensors(batch.inputs.unsqueeze(1), batch.targets.unsqueeze(1), batch.mask.unsqueeze(1))
    model = TinyGRU(GRUShape(task.n_inputs, 2, task.n_outputs), [0])
    with torch.no_grad():
        for parameter in (model.readout_weight, model.readout_bias):
            parameter.zero_()
        nll, _ = choice_nll(model, sessions, task.n_actions)
    assert float(nll) == pytest.approx(math.log(4))
    assert ChoiceFit.HISTORY[0] == "member"


# ----------------------------------------------------------------------------- behaviour, bridge, summary


def test_adaptation_measures_of_a_known_switcher():
    """A player that switches to the new arm 3 trials after each reversal: P(new best) 0, 0, 0, 1, ..."""
    best = np.repeat([[0, 1, 0]], 30, axis=0).T.reshape(1, -1)  # blocks of 30 trials
    reversals = np.zeros_like(best, dtype=bool)
    reversals[0, [30, 60]] = True
    actions = best.copy()
    for start in (30, 60):
        actions[0, start:start + 3] = 1 - best[0, start]
    lags, curve = adaptation_curve(actions, best, reversals, np.ones_like(best, dtype=bool), before=5, window=20)
    assert np.array_equal(curve, (lags >= 3).astype(float))
    assert trials_to_adapt(lags, curve) == pytest.approx(2.5)
    smooth = 0.9 - 0.8 * np.exp(-np.arange(20) / 4.0)
    assert adaptation_time_constant(np.arange(-5, 20), np.concatenate([np.full(5, 0.1), smooth])) == pytest.approx(4.0)
    assert math.isnan(trials_to_adapt(lags, np.full(len(lags), 0.5)))  # at chance before: no switch to measure


def test_logistic_regression_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    design = np.column_stack([np.ones(20000), rng.choice([-1.0, 1.0], (20000, 3))])
    truth = np.array([0.3, 1.0, -0.5, 0.8])
    outcome = (rng.uniform(size=20000) < 1 / (1 + np.exp(-design @ truth))).astype(float)
    assert np.allclose(logistic_regression(design, outcome), truth, atol=0.06)


def test_the_lds_fit_recovers_known_dynamics_and_their_spectrum():
    rng = np.random.default_rng(0)
    left, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    dynamics = left @ np.diag(0.9 * np.exp(-0.3 * np.arange(10))) @ left.T
    series = np.zeros((5000, 10))
    for t in range(1, 5000):
        series[t] = dynamics @ series[t - 1] + rng.normal(size=10)
    fitted, ridge, explained = fit_lds(series, [0.1, 10.0, 1e4, 1e6], 0.2)
    assert np.abs(fitted - dynamics).max() < 0.05 and ridge <= 10.0 and explained > 0.1
    measures = lds_measures(dynamics, decay_values=10)
    assert measures["decay_gamma"] == pytest.approx(0.3) and measures["spectral_radius"] == pytest.approx(0.9)


def test_interval_and_a_planted_difference_in_the_predictions_table():
    summary = interval(np.array([1.0, 2.0, 3.0]))
    assert summary[""] == 2.0 and summary["_ci_low"] == pytest.approx(2.0 - 4.302653 * 1 / math.sqrt(3) * 1, rel=1e-5)
    rng = np.random.default_rng(1)
    rows = []
    for seed in range(10):
        shared = rng.normal()
        rows.append({"mode": "act", "task": "reversal", "configuration": "premature", "seed": seed,
                     "effective_rank_plain": 7.0 + shared, "heterogeneity": shared + rng.normal()})
        rows.append({"mode": "act", "task": "reversal", "configuration": "mature", "seed": seed,
                     "effective_rank_plain": 5.0 + shared + 0.1 * rng.normal(), "heterogeneity": shared + rng.normal()})
    table = predictions_table(pd.DataFrame(rows)).set_index("measure")
    assert table.loc["effective_rank_plain", "verdict"] == "confirmed"
    assert table.loc["effective_rank_plain", "difference_mean"] == pytest.approx(-2.0, abs=0.1)
    assert table.loc["heterogeneity", "verdict"] == "not confirmed"
    assert "mb_index" not in table.index  # no two-stage runs: no row


# ----------------------------------------------------------------------------- choice tables


def test_the_shipped_sample_loads_and_splits_reproducibly():
    table = read_choice_table(SAMPLE, task="reversal", n_actions=2, n_states=0)
    choices, _ = from_table(table)
    assert choices.sessions >= 10 and choices.valid.sum() == len(table)
    first = split_sessions(choices.sessions, 0.2, 0.2, seed=5)
    assert list(first) == list(split_sessions(choices.sessions, 0.2, 0.2, seed=5))
    assert {label: int((first == label).sum()) for label in SPLITS} == {
        "train": choices.sessions - 2 * round(0.2 * choices.sessions), "validation": round(0.2 * choices.sessions),
        "test": round(0.2 * choices.sessions)}


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.drop(columns="reward"), "missing column 'reward'"),
    (lambda t: t.assign(action=t["action"].where(t.index != 3, 2)), "data row 4: action 2 is outside 0..1"),
    (lambda t: t.assign(reward=t["reward"].where(t.index != 0, 3)), "data row 1: reward 3 is outside 0..1"),
    (lambda t: t.assign(trial=t["trial"].astype(str).where(t.index != 2, "x")), "data row 3: 'x' is not a whole"),
    (lambda t: pd.concat([t, t.iloc[[0]]]), "appears twice"),
])
def test_a_broken_choice_table_is_refused_with_its_row_and_column(tmp_path, edit, message):
    table = pd.read_csv(SAMPLE, sep="\t", comment="#")
    path = tmp_path / "choices.tsv"
    edit(table).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=message) as caught:
        read_choice_table(path, task="reversal", n_actions=2, n_states=0)
    assert str(path) in str(caught.value) and "Fix:" in str(caught.value)


def test_variable_length_sessions_round_trip_and_are_masked():
    choices = Choices(np.array([[0, 1, 1], [1, 0, 0]]), np.array([[0, 1, 1], [1, 0, 0]]),
                      np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]), np.array([[True, True, True], [True, True, False]]))
    table = choices.to_table(["train", "test"])
    back, split = from_table(table)
    assert len(table) == 5 and list(split) == ["train", "test"]
    assert np.array_equal(back.valid, choices.valid)
    assert np.array_equal(back.actions[back.valid], choices.actions[choices.valid])


def test_cognitive_models_per_task_apply_to_their_task():
    for task_name, models in COGNITIVE_MODELS.items():
        structure = TaskStructure.of(task_name, DEFAULTS["lowrank"]["task_settings"][task_name])
        for model in models:
            parameters = copy.deepcopy(DEFAULTS["lowrank"]["agent_parameters"][model])
            assert make_agent(model, structure, parameters).logits(
                make_agent(model, structure, parameters).initial(3)).shape == (3, structure.n_actions)
