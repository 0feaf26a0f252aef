"""Where a job's tensors live: the ``device`` setting (auto | cpu | cuda) as a torch device.

``auto`` takes the first CUDA device when torch sees one and the CPU otherwise; ``cuda`` insists on
a GPU and fails with the fix when there is none. Data streams stay on the CPU whatever the device
(every member's ``torch.Generator`` is a CPU generator), so a network sees the same trials and
noise on either device and only the arithmetic's summation order differs.
"""

from __future__ import annotations

import logging

import torch

from brainrnn.errors import InputError

DEVICES = ("auto", "cpu", "cuda")
CPU = torch.device("cpu")
LOG = logging.getLogger(__name__)


def resolve_device(setting: str) -> torch.device:
    """The torch device for a ``device`` setting."""
    if setting not in DEVICES:
        raise InputError(f"unknown device '{setting}'.", field="device", fix=f"use one of {', '.join(DEVICES)}.")
    if setting == "cpu" or (setting == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise InputError("device: cuda, but torch sees no CUDA device on this machine "
                         f"(torch {torch.__version__}, built with CUDA {torch.version.cuda}).", field="device",
                         fix="run the job on a GPU node with a CUDA build of torch (the slurm profile requests a "
                             "GPU for the training rules when device is cuda), or set device: auto or cpu.")
    return torch.device("cuda")


def job_device(setting: str, threads: int) -> torch.device:
    """Resolve ``setting`` for a rule's job, use the rule's ``threads`` for CPU work, and log the choice."""
    torch.set_num_threads(threads)
    device = resolve_device(setting)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{threads} CPU thread(s)"
    LOG.info("device %s (%s; setting '%s')", device, name, setting)
    return device
