"""The device path: the setting, the GPU request of the training and fixed-point rules, and results on CUDA
against the CPU's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from brainrnn.analysis.fixed_points import FixedPointOptions
from brainrnn.analysis.rnn_fixed_points import EpochAnalysis, analyse_epoch
from brainrnn.config import default_config
from brainrnn.devices import resolve_device
from brainrnn.errors import InputError
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.tasks.registry import make_task

from conftest import ROOT, make_workdir, train_fixed

TRAINING_RULES = {"train_gradreg", "train_microns", "train_cbrnn", "freeze_cbrnn"}
FIXED_POINT_RULES = {"fixed_points_gradreg", "fixed_points_cbrnn", "fixed_points_microns", "fixed_points_lowrank"}
DEVICE_RULES = TRAINING_RULES | FIXED_POINT_RULES
NO_GPU = "no CUDA device here (torch.cuda.is_available() is False); the CUDA comparison needs a GPU"


def test_auto_and_cpu_resolve_to_the_cpu_without_a_gpu_and_cuda_says_how_to_fix_it():
    assert resolve_device("cpu") == torch.device("cpu")
    if torch.cuda.is_available():
        assert resolve_device("auto").type == "cuda"
        return
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(InputError, match="sees no CUDA device") as caught:
        resolve_device("cuda")
    assert caught.value.field == "device" and "device: auto" in str(caught.value)
    with pytest.raises(InputError, match="unknown device"):
        resolve_device("gpu")


def _gpu_requests(tmp_path, device: str) -> dict[str, int]:
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    workdir = make_workdir(tmp_path, {"device": device})
    with SnakemakeApi(OutputSettings()) as api:
        workflow = api.workflow(resource_settings=ResourceSettings(cores=1), config_settings=ConfigSettings(),
                                snakefile=ROOT / "Snakefile", workdir=workdir)._workflow
        return {rule.name: rule.resources["gpu"] for rule in workflow.rules if "gpu" in rule.resources}


def test_only_device_cuda_makes_the_training_and_fixed_point_rules_ask_for_a_gpu(tmp_path):
    assert _gpu_requests(tmp_path / "cuda", "cuda") == dict.fromkeys(DEVICE_RULES, 1)
    assert _gpu_requests(tmp_path / "auto", "auto") == dict.fromkeys(DEVICE_RULES, 0)


def _train(device: torch.device, steps: int) -> tuple[LeakyRNN, list[float]]:
    task = make_task("dms", dt_ms=40.0, n_stimuli=2)
    model = LeakyRNN(RNNShape(task.n_inputs, 64, task.n_outputs, dt_ms=40.0), [3, 4]).to(device)
    schedule, _ = train_fixed(model, task, [3, 4], eval_seed=5, steps=steps, learning_rate=0.01, eval_every=steps)
    return model.cpu(), schedule.history(schedule.HISTORY)["eval_loss"].tolist()


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
def test_training_on_cuda_equals_the_cpu_within_float_tolerance(one_torch_thread):
    """Same trials and noise (drawn on the CPU), float32 on both: one step agrees to 1e-5, and 30 steps of
    Adam to 1e-3 relative (the summation order differs, and training amplifies rounding slowly)."""
    cuda = torch.device("cuda")
    for steps, tolerance in ((1, 1e-5), (30, 1e-3)):
        on_cpu, cpu_losses = _train(torch.device("cpu"), steps)
        on_gpu, gpu_losses = _train(cuda, steps)
        for name, value in on_cpu.state_dict().items():
            assert torch.allclose(on_gpu.state_dict()[name], value, rtol=tolerance, atol=tolerance), (steps, name)
        assert gpu_losses == pytest.approx(cpu_losses, rel=tolerance)


def _fixed_points(device: torch.device | None) -> EpochAnalysis:
    """The fixed-point analysis of a 16-unit sequence network (two input conditions, +1 and −1) with the
    default settings, on ``device`` (None: the call without a device, as before the device path)."""
    task = make_task("ndms", n_back=2)
    model = LeakyRNN(RNNShape(task.n_inputs, 16, task.n_outputs, activation="tanh", dt_ms=1.0, tau_ms=1.5,
                              init_gain=1.5), [3])
    defaults = default_config(ROOT / "config" / "schemas")["fixed_points"]
    options = FixedPointOptions.from_config({**defaults, "n_initial": 64, "max_iters": 500}, seed=7)
    extra = {} if device is None else {"device": device}
    return analyse_epoch(model, "ndms", {"n_back": 2}, options, epoch="sequence", trials=16, max_conditions=4,
                         **extra)


def test_the_fixed_point_search_on_the_cpu_device_finds_the_same_points_as_without_a_device(one_torch_thread):
    before, on_cpu = _fixed_points(None), _fixed_points(resolve_device("cpu"))
    assert sum(int(condition.fixed_points.is_fixed.sum()) for condition in before.conditions) >= 2
    for expected, got in zip(before.conditions, on_cpu.conditions, strict=True):
        for field in ("states", "q", "kind", "eigenvalues"):
            np.testing.assert_array_equal(getattr(got.fixed_points, field), getattr(expected.fixed_points, field))
        np.testing.assert_array_equal(got.attractor, expected.attractor)
        assert got.energy == expected.energy


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
def test_the_fixed_points_on_cuda_equal_the_cpu_ones_within_float_tolerance(one_torch_thread):
    """Same initial states (the trials run on the CPU); the float32 search may stop at other states, but the
    float64 polish takes both to the same fixed points: each within 1e-6 of the other's, and the same
    leading |λ| to 1e-6."""
    on_cpu, on_gpu = _fixed_points(resolve_device("cpu")), _fixed_points(torch.device("cuda"))
    for expected, got in zip(on_cpu.conditions, on_gpu.conditions, strict=True):
        cpu_points, gpu_points = expected.fixed_points, got.fixed_points
        assert gpu_points.is_fixed.sum() == cpu_points.is_fixed.sum()
        cpu_fixed, gpu_fixed = cpu_points.states[cpu_points.is_fixed], gpu_points.states[gpu_points.is_fixed]
        distances = np.linalg.norm(cpu_fixed[:, None] - gpu_fixed[None], axis=-1)
        assert distances.min(axis=1).max() < 1e-6 and distances.min(axis=0).max() < 1e-6
        nearest = distances.argmin(axis=1)
        np.testing.assert_allclose(gpu_points.leading_abs_eigenvalue[gpu_points.is_fixed][nearest],
                                   cpu_points.leading_abs_eigenvalue[cpu_points.is_fixed], atol=1e-6)
