"""The device path: the setting, the GPU request of the training rules, and CUDA results against the CPU's."""

from __future__ import annotations

import pytest
import torch

from brainrnn.devices import resolve_device
from brainrnn.errors import InputError
from brainrnn.models.rnn import LeakyRNN, RNNShape
from brainrnn.tasks.registry import make_task

from conftest import ROOT, make_workdir, train_fixed

TRAINING_RULES = {"train_gradreg", "train_microns", "train_cbrnn", "freeze_cbrnn"}
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


def test_only_device_cuda_makes_the_training_rules_ask_for_a_gpu(tmp_path):
    assert _gpu_requests(tmp_path / "cuda", "cuda") == dict.fromkeys(TRAINING_RULES, 1)
    assert _gpu_requests(tmp_path / "auto", "auto") == dict.fromkeys(TRAINING_RULES, 0)


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
