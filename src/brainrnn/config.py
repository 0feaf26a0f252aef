"""Strict configuration and subjects-sheet validation.

The workflow calls :func:`validate_config` and :func:`load_subjects` while it parses, so a typo in
a key, a bad value or a broken sheet stops the run before any job starts, with a message that
names the file, the field and the fix.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from brainrnn.errors import InputError

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "config" / "schemas"


def load_schema(name: str, schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """Read a YAML JSON-schema from the project's ``config/schemas`` folder."""
    with open(schema_dir / f"{name}.schema.yaml") as stream:
        return yaml.safe_load(stream)


def _fill_defaults(instance: dict[str, Any], schema: Mapping[str, Any]) -> None:
    """Insert schema defaults for missing keys, recursing into nested objects."""
    for key, sub in schema.get("properties", {}).items():
        if key not in instance and "default" in sub:
            default = sub["default"]
            instance[key] = dict(default) if isinstance(default, dict) else (
                list(default) if isinstance(default, list) else default)
        if isinstance(instance.get(key), dict) and sub.get("type") == "object":
            _fill_defaults(instance[key], sub)


def _describe(error: jsonschema.ValidationError, schema: Mapping[str, Any]) -> tuple[str, str, str]:
    """Turn a jsonschema error into (dotted field, problem, fix)."""
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        given = sorted(set(error.instance) - set(allowed))
        unknown = given[0] if given else "?"
        field = f"{path}.{unknown}" if path else unknown
        close = difflib.get_close_matches(unknown, allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return field, f"unknown key '{unknown}'.", f"{hint}Allowed keys here: {', '.join(allowed)}."
    description = error.schema.get("description", "")
    fix = f"expected {error.validator} {error.validator_value!r}"
    if description:
        fix += f" ({' '.join(str(description).split())})"
    return path or "<top level>", error.message + ".", fix + "."


def validate_config(config: dict[str, Any], *, source: str = "config/config.yaml",
                    schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate ``config`` in place against the strict schema, filling defaults; return it."""
    schema = schema if schema is not None else load_schema("config")
    _fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        field, problem, fix = _describe(errors[0], schema)
        raise InputError(problem, file=source, field=field, fix=fix)
    return config


def load_subjects(path: str | Path, *, schema: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read and validate the subjects sheet; return it indexed by subject label."""
    path = Path(path)
    if not path.is_file():
        raise InputError("the subjects sheet does not exist.", file=path,
                         fix="create it (columns: subject, group) or set 'subjects' in the config.")
    sheet = pd.read_csv(path, sep="\t", dtype=str, comment="#", keep_default_na=False)
    sheet.columns = [column.strip() for column in sheet.columns]
    for column in ("subject", "group"):
        if column not in sheet.columns:
            raise InputError(f"missing column '{column}'.", file=path, field=column,
                             fix="the sheet is tab-separated with a header row 'subject<TAB>group ...'.")
    if sheet.empty:
        raise InputError("the sheet lists no subjects.", file=path, fix="add one row per subject.")
    sheet["subject"] = sheet["subject"].str.strip().str.removeprefix("sub-")
    duplicated = sorted(set(sheet.loc[sheet["subject"].duplicated(), "subject"]))
    if duplicated:
        raise InputError(f"duplicate subject IDs: {', '.join(duplicated)}.", file=path, field="subject",
                         fix="each subject must appear on exactly one row.")
    schema = schema if schema is not None else load_schema("subjects")
    validator = jsonschema.Draft202012Validator(schema)
    for row_number, row in enumerate(sheet.to_dict("records"), start=2):
        record = {key: _coerce(key, value) for key, value in row.items() if value != ""}
        error = next(iter(validator.iter_errors(record)), None)
        if error is not None:
            field, problem, fix = _describe(error, schema)
            raise InputError(f"line {row_number}: {problem}", file=path, field=field,
                             subject=row.get("subject") or None, fix=fix)
    return sheet.set_index("subject", drop=False)


NUMERIC_COLUMNS = frozenset({"tr"})


def _coerce(column: str, value: str) -> Any:
    """Sheet cells are strings; numeric columns are validated as numbers."""
    if column not in NUMERIC_COLUMNS:
        return value
    try:
        return float(value)
    except ValueError:
        return value


def subject_tr(sheet: pd.DataFrame, subject: str, config_tr: float | None, *, sheet_path: str) -> float:
    """Repetition time of one subject: the sheet's 'tr' column, else ``fmri.tr``; must be > 0."""
    cell = sheet.at[subject, "tr"] if "tr" in sheet.columns else ""
    if cell not in ("", None):
        tr = float(cell)
        origin = f"{sheet_path} column 'tr'"
    elif config_tr is not None:
        tr = float(config_tr)
        origin = "config fmri.tr"
    else:
        raise InputError("no repetition time (TR) is known for this subject.", file=sheet_path, field="tr",
                         subject=subject, fix="set fmri.tr in the config or a 'tr' column in the sheet (seconds).")
    if not math.isfinite(tr) or tr <= 0:
        raise InputError(f"TR must be a positive number of seconds, got {tr} from {origin}.", file=sheet_path,
                         field="tr", subject=subject, fix="give the repetition time in seconds, e.g. 0.72.")
    return tr
