"""A small registry of bias hooks, so a saved network can be rebuilt with its hook by name.

A bias hook is a module ``hook(state, inputs) -> bias`` added to a :class:`LeakyRNN`'s
pre-activation every step (the cerebellar module of the cortico-cerebellar family). A hook class
registers itself under a ``kind`` and describes its shape as a JSON-able dict; a saved model
records that description and :func:`build_hook` rebuilds an untrained hook of the same shape,
whose weights the saved state then fills.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class BiasHook(Protocol):
    """What a bias hook class provides besides being an ``nn.Module``."""

    kind: ClassVar[str]

    def describe(self) -> dict[str, Any]:
        """The hook's shape, enough to rebuild an untrained hook of the same size."""

    @classmethod
    def rebuild(cls, description: dict[str, Any]) -> nn.Module:
        """An untrained one-member hook of the described shape."""

    def __call__(self, state: torch.Tensor, inputs: torch.Tensor | None) -> torch.Tensor: ...


HOOKS: dict[str, type[BiasHook]] = {}


def register_hook(cls: type[BiasHook]) -> type[BiasHook]:
    """Class decorator: make a hook rebuildable from its saved description."""
    HOOKS[cls.kind] = cls
    return cls


def describe_hook(hook: nn.Module | None) -> dict[str, Any] | None:
    """``{"kind": ..., **shape}`` of a registered hook, or None without one."""
    if hook is None:
        return None
    kind = getattr(hook, "kind", None)
    if kind not in HOOKS:
        raise ValueError(f"cannot save a bias hook of type {type(hook).__name__}: it is not registered")
    assert isinstance(hook, BiasHook)  # every registered hook class provides the protocol
    return {"kind": kind, "shape": hook.describe()}


def build_hook(description: dict[str, Any] | None) -> nn.Module | None:
    """Rebuild an untrained one-member hook from :func:`describe_hook`'s output."""
    if description is None:
        return None
    if description["kind"] not in HOOKS:
        raise ValueError(f"unknown bias hook '{description['kind']}' (known: {', '.join(sorted(HOOKS))})")
    return HOOKS[description["kind"]].rebuild(description["shape"])
