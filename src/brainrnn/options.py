"""Option dataclasses built from their config section (the schema is the one source of defaults)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeVar

Options = TypeVar("Options")


def from_section(cls: type[Options], section: Mapping[str, Any], **given: Any) -> Options:
    """``cls`` with every field read from ``section`` by name, except those ``given`` here (e.g. a seed
    that comes from the wildcards, not the config); a missing key raises KeyError with its name."""
    assert dataclasses.is_dataclass(cls), f"{cls.__name__} is not a dataclass"
    names = [field.name for field in dataclasses.fields(cls) if field.name not in given]
    return cls(**{name: section[name] for name in names}, **given)
