"""JEDI on a small synthetic family of known RNNs: reconstruction, classification, fixed points, few-shot, no leak."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch

from brainrnn.analysis.fixed_points import FixedPointOptions
from brainrnn.jedi.analysis import analyse_teacher_contexts, r_squared
from brainrnn.jedi.model import JediModel, StudentOptions
from brainrnn.jedi.simulate import ContextSpec, Dataset, simulate
from brainrnn.jedi.summary import classify
from brainrnn.jedi.train import fit, infer_new_contexts, predict
from brainrnn.models.rnn import LeakyRNN, RNNShape

from conftest import section

SINE = {"dt_ms": 10.0, "duration_ms": 300.0, "frequency_range_hz": [1.0, 10.0], "input_noise": 0.02}
MEMORY = {"dt_ms": 10.0, "fixation_ms": 50, "sample_ms": 100, "delays_ms": [200], "test_ms": 50, "input_noise": 0.02,
          "n_stimuli": 2}
R2_THRESHOLD = 0.8
"""Median held-out R² over the training contexts that JEDI must reach (the issue's demo bar; paper: > 0.94)."""


def known_network(n_inputs: int, *, gains: tuple[float, float], seed: int, rotation: float = 0.0,
                  input_along_mode: list[float] | None = None) -> LeakyRNN:
    """A rank-2 tanh network whose W has eigenvalues g_m and g_n on the directions m and n, coupled by
    ``rotation`` (W ≈ [[g_m, −ω], [ω, g_n]] on (m, n)): one stable point when every mode has real part < 1,
    two attractors along m and a saddle between when g_m > 1 > g_n without rotation; inputs push along m
    when ``input_along_mode`` gives each channel's push."""
    network = LeakyRNN(RNNShape(n_inputs, 60, 1, "tanh", 10.0, 50.0, 2, 1.0), [seed])
    gain_m, gain_n = gains
    with torch.no_grad():
        m, n = network.left[0, :, 0].clone(), network.left[0, :, 1].clone()
        network.right[0, :, 0] = gain_m * m - rotation * n
        network.right[0, :, 1] = rotation * m + gain_n * n
        if input_along_mode is not None:
            network.input_weight[0] = torch.outer(torch.tensor(input_along_mode), m) / 2
    return network


@pytest.fixture(scope="module")
def family():
    """Three known RNNs on two tasks: two on sine generation (one damped, one damped with rotation), one
    bistable memory network on delayed match-to-sample; one context held out for few-shot inference."""
    torch.set_num_threads(1)
    networks = {"damped": known_network(1, gains=(0.6, 0.6), seed=1),
                "rotating": known_network(1, gains=(0.9, 0.9), rotation=0.8, seed=2),
                "bistable": known_network(3, gains=(1.8, 0.3), seed=3, input_along_mode=[0.0, 1.0, -1.0])}
    contexts = [ContextSpec(f"{name}-{frequency}Hz", name, "sine", {**SINE, "frequency_hz": frequency}, False,
                            frequency) for name in ("damped", "rotating") for frequency in (4.0, 8.0)]
    contexts.append(ContextSpec("rotating-6Hz", "rotating", "sine", {**SINE, "frequency_hz": 6.0}, True, 6.0))
    contexts.append(ContextSpec("bistable-dms", "bistable", "dms", MEMORY, False))
    observation = {"model": "gaussian", "n_observed": 20, "shared_readout": True, "noise": 0.1, "process_noise": 0.05,
                   "max_rate_hz": 50.0, "bin_ms": 10.0}
    data = simulate(networks, contexts, observation, {"train": 24, "test": 12, "few_shot": 10}, seed=7)
    settings = section("jedi", model={"n_hidden": 32, "rank": 2, "embedding_dim": 3},
                       training={"steps": 600, "eval_every": 100, "batch_size": 32},
                       few_shot={"ks": [1, 2, 10], "steps": 100})
    result = fit("jedi", data, settings, base_seed=11)
    return networks, data, settings, result


def _r2_by_context(data: Dataset, trials: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    scores = {}
    for context in np.unique(data.context[trials]):
        chosen = data.context[trials] == context
        scores[str(data.contexts["context"].iloc[context])] = r_squared(
            predictions[:, chosen], data.observed[:, trials[chosen]], data.mask[:, trials[chosen]])
    return scores


def test_jedi_reconstructs_held_out_trials_of_every_context(family):
    _, data, _, result = family
    scores = _r2_by_context(data, result.test_trials, result.predictions)
    assert len(scores) == 5
    assert np.median(list(scores.values())) >= R2_THRESHOLD, scores
    assert min(scores.values()) > 0.4, scores


def test_embeddings_classify_contexts_above_chance_and_the_shuffled_control(family):
    _, data, settings, result = family
    items = data.trials("train", np.flatnonzero(data.contexts["role"] == "train"))
    with torch.no_grad():
        embeddings = result.model.item_embeddings(torch.arange(len(items))).numpy()
    labels = data.contexts["context"].to_numpy()[data.context[items]]
    scores, confusion = classify(embeddings, labels, {**settings["classification"], "n_shuffles": 50}, seed=3)
    assert scores["accuracy"] > scores["chance"], scores
    assert scores["accuracy"] > scores["shuffled_95"] and scores["p_shuffled"] < 0.05, scores
    assert confusion.to_numpy().sum() == len(labels)


def test_decoded_networks_recover_the_teachers_fixed_points(family):
    networks, data, settings, result = family
    embeddings = {str(data.contexts["context"].iloc[index]): vector for index, vector in
                  zip(np.flatnonzero(data.contexts["role"] == "train"), result.context_embeddings, strict=True)}
    options = FixedPointOptions.from_config(section("fixed_points", n_initial=128, max_iters=1000), seed=5)
    rows, spectra = analyse_teacher_contexts(networks, result.model, data.contexts, embeddings, options,
                                             settings["fixed_points"], teacher_dt_ms=10.0)
    table = pd.DataFrame(rows).set_index("context")
    # the known structure: one stable point in the sine networks, two attractors (and the saddle between them,
    # which the search, started from the trials' states, may miss) in the memory one
    assert table.loc["bistable-dms", "n_stable_teacher"] == 2, table
    assert table.loc["bistable-dms", "n_fixed_teacher"] in (2, 3), table
    assert (table.drop(index="bistable-dms")[["n_fixed_teacher", "n_stable_teacher"]] == 1).all().all(), table
    assert (table["n_fixed_decoded"] - table["n_fixed_teacher"]).abs().max() <= 1, table
    assert (table["n_stable_decoded"] == table["n_stable_teacher"]).mean() >= 0.75, table.to_string()
    assert table["fixed_point_match"].mean() >= 0.6, table
    assert set(spectra) == {f"{name}/{side}" for name in table.index for side in ("teacher", "decoded")}


def test_few_shot_r2_rises_with_the_number_of_trials(family):
    _, data, settings, result = family
    inferred = infer_new_contexts(result.model, data, settings, base_seed=13)
    scores = [r_squared(prediction, data.observed[:, test], data.mask[:, test])
              for prediction, test in zip(inferred.predictions, inferred.test_trials, strict=True)]
    assert list(inferred.table["k"]) == [1, 2, 10]
    assert scores[0] < scores[1] < scores[2], scores


def test_the_low_rank_head_generates_matrices_of_rank_at_most_its_rank():
    options = StudentOptions.from_config(section("jedi.model", n_hidden=24, rank=3, embedding_dim=4))
    items = torch.zeros(5, dtype=torch.long)
    embeddings = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    for low_rank, bound in ((True, 3), (False, 24)):
        model = JediModel(options, n_inputs=2, n_observed=5, n_recordings=1, item_recording=items,
                          item_row=torch.arange(5), low_rank=low_rank, embedded=True, seed=1)
        ranks = torch.linalg.matrix_rank(model.recurrent_weights(embeddings).detach().double(), rtol=1e-5)
        assert int(ranks.max()) <= bound
        if not low_rank:
            assert int(ranks.min()) > 3  # the ablation's head is not low-rank


def test_no_code_path_gives_the_model_the_observed_activity(family):
    """Shuffling a held-out trial's observed activity (and every test trial's) changes none of its predictions:
    neither the fitted model's rollout nor a refit, since only training trials' activity enters training."""
    _, data, settings, result = family
    trial = result.test_trials[0]
    shuffled = copy.deepcopy(data)
    rng = np.random.default_rng(0)
    for index in data.trials("test"):
        shuffled.observed[:, index] = rng.permutation(shuffled.observed[:, index].reshape(-1)).reshape(
            shuffled.observed[:, index].shape)
    assert not np.allclose(shuffled.observed[:, trial], data.observed[:, trial])
    embedding = result.context_embeddings[:1]
    before = predict(result.model, data, np.array([trial]), embedding, _scorer(settings))
    after = predict(result.model, shuffled, np.array([trial]), embedding, _scorer(settings))
    np.testing.assert_array_equal(before, after)
    short = copy.deepcopy(settings)
    short["training"]["steps"] = 3
    first, second = fit("jedi", data, short, base_seed=1), fit("jedi", shuffled, short, base_seed=1)
    np.testing.assert_array_equal(first.predictions, second.predictions)


def _scorer(settings):
    from brainrnn.jedi.train import data_scorer

    return data_scorer(settings)


def test_poisson_observations_are_counts_around_the_rates():
    network = known_network(1, gains=(0.6, 0.6), seed=1)
    spec = ContextSpec("damped-2Hz", "damped", "sine", {**SINE, "frequency_hz": 2.0}, False, 2.0)
    observation = {"model": "poisson", "n_observed": 10, "shared_readout": True, "noise": 0.0, "process_noise": 0.0,
                   "max_rate_hz": 100.0, "bin_ms": 20.0}
    data = simulate({"damped": network}, [spec], observation, {"train": 200, "test": 1, "few_shot": 1}, seed=3)
    assert np.array_equal(data.observed, np.round(data.observed)) and data.observed.min() >= 0
    assert data.rates.max() == pytest.approx(2.0, rel=1e-5)  # 100 Hz × 20 ms at each unit's highest activity
    mean_counts, mean_rates = data.observed[data.mask].mean(), data.rates[data.mask].mean()
    assert mean_counts == pytest.approx(mean_rates, rel=0.05)


def test_nwb_loader_bins_the_spikes_of_each_trial(tmp_path):
    from datetime import UTC, datetime

    from pynwb import NWBHDF5IO, NWBFile

    from brainrnn.jedi.nwb import load_binned_spikes, recording_dataset

    nwbfile = NWBFile(session_description="test", identifier="jedi-test",
                      session_start_time=datetime(2026, 1, 1, tzinfo=UTC))
    nwbfile.add_trial_column(name="direction", description="reach direction")
    for start, stop, direction in ((0.0, 0.1, "left"), (1.0, 1.06, "right")):
        nwbfile.add_trial(start_time=start, stop_time=stop, direction=direction)
    nwbfile.add_unit(spike_times=[0.005, 0.015, 0.025, 0.091, 1.001, 1.05])
    nwbfile.add_unit(spike_times=[0.5, 1.019, 1.021])
    path = tmp_path / "recording.nwb"
    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    binned = load_binned_spikes(path, bin_ms=20.0, condition="direction")
    assert binned.counts.shape == (5, 2, 2)
    np.testing.assert_array_equal(binned.counts[:, 0, 0], [2, 1, 0, 0, 1])
    np.testing.assert_array_equal(binned.counts[:3, 1, 0], [1, 0, 1])
    np.testing.assert_array_equal(binned.counts[:3, 1, 1], [1, 1, 0])
    np.testing.assert_array_equal(binned.mask[:, 1], [True, True, True, False, False])
    assert list(binned.conditions) == ["left", "right"] and binned.counts[:, 0, 1].sum() == 0
    data = recording_dataset(binned, test_fraction=0.0, seed=0)
    assert list(data.contexts["context"]) == ["left", "right"] and list(data.context) == [0, 1]
    # the input is the condition, on while the trial lasts; the counts are only ever targets
    np.testing.assert_array_equal(data.inputs[:, 1, 1], binned.mask[:, 1].astype(np.float32))
    assert data.inputs[:, 1, 0].sum() == 0 and data.observed is binned.counts


def test_a_context_of_a_network_too_small_to_observe_is_refused():
    from brainrnn.errors import InputError

    network = known_network(1, gains=(0.6, 0.6), seed=1)
    spec = ContextSpec("small", "small", "sine", {**SINE, "frequency_hz": 2.0}, False, 2.0)
    observation = {"model": "gaussian", "n_observed": 100, "shared_readout": False, "noise": 0.1, "process_noise": 0.0,
                   "max_rate_hz": 1.0, "bin_ms": 10.0}
    with pytest.raises(InputError, match="jedi.observation.n_observed"):
        simulate({"small": network}, [spec], observation, {"train": 2, "test": 1, "few_shot": 1}, seed=1)

