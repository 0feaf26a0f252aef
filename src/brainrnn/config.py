"""Strict configuration, subjects-sheet and study validation.

The workflow calls :func:`load_study` while it parses, so a typo in a key, a bad value, a broken
sheet or a subject without data stops the run before any job starts, with a message that names
the file, the field and the fix. The schema (``config/schemas/*.schema.yaml``) is the only source
of defaults: the library's option classes are built from validated config sections.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from brainrnn.download import read_manifest
from brainrnn.errors import InputError
from brainrnn.fmri import atlases, bids
from brainrnn.fmri import timeseries as ts
from brainrnn.fmri.gradients import OrientationOptions, orientation_problem


def load_schema(schema_dir: str | Path, name: str) -> dict[str, Any]:
    """Read the YAML JSON-schema ``<schema_dir>/<name>.schema.yaml`` (the workflow's ``config/schemas``)."""
    with open(Path(schema_dir) / f"{name}.schema.yaml") as stream:
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
    subschema = error.schema
    assert isinstance(subschema, Mapping), "the study schemas have no boolean subschemas"
    if error.validator == "additionalProperties":
        assert isinstance(error.instance, Mapping), "only an object can have unknown keys"
        allowed = sorted(subschema.get("properties", {}))
        given = sorted(set(error.instance) - set(allowed))
        unknown = given[0] if given else "?"
        field = f"{path}.{unknown}" if path else unknown
        lowered = {key.lower(): key for key in allowed}
        close = difflib.get_close_matches(unknown.lower(), list(lowered), n=1)
        hint = f"did you mean '{lowered[close[0]]}'? " if close else ""
        return field, f"unknown key '{unknown}'.", f"{hint}Allowed keys here: {', '.join(allowed)}."
    description = subschema.get("description", "")
    fix = f"expected {error.validator} {error.validator_value!r}"
    if description:
        fix += f" ({' '.join(str(description).split())})"
    return path or "<top level>", error.message + ".", fix + "."


def validate_config(config: dict[str, Any], schema: Mapping[str, Any], *,
                    source: str = "config/config.yaml") -> dict[str, Any]:
    """Validate ``config`` in place against the strict schema, filling defaults; return it."""
    _fill_defaults(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        field, problem, fix = _describe(errors[0], schema)
        raise InputError(problem, file=source, field=field, fix=fix)
    return config


def default_config(schema_dir: str | Path) -> dict[str, Any]:
    """Every setting at its schema default (what an empty config file means)."""
    return validate_config({}, load_schema(schema_dir, "config"), source="defaults")


def load_subjects(path: str | Path, schema: Mapping[str, Any]) -> pd.DataFrame:
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
    validator = jsonschema.Draft202012Validator(schema)
    for row_number, row in enumerate(sheet.to_dict("records"), start=2):
        record = {key: _coerce(key, value) for key, value in row.items() if value != ""}
        error = next(iter(validator.iter_errors(record)), None)
        if error is not None:
            field, problem, fix = _describe(error, schema)
            raise InputError(f"line {row_number}: {problem}", file=path, field=field,
                             subject=row.get("subject") or None, fix=fix)
    return sheet.set_index("subject", drop=False)


NUMERIC_COLUMNS = frozenset({"tr", "age"})


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


@dataclass(frozen=True)
class Study:
    """A validated configuration with its subjects sheet, checked against the data it names.

    ``manifest`` is the fMRI download manifest (source ``download``), ``microns_manifest`` the
    MICrONS one (sources ``download`` and ``shipped``: URLs and SHA-256 sums of the field files);
    ``reference_subjects`` define the reference gradients.
    """

    config: dict[str, Any]
    subjects: pd.DataFrame
    reference_subjects: list[str]
    manifest: pd.DataFrame | None
    microns_manifest: pd.DataFrame | None

    @property
    def source(self) -> str:
        return str(self.config["fmri"]["source"])


def load_study(config: dict[str, Any], schema_dir: str | Path, configfiles: Sequence[str | Path]) -> Study:
    """Validate ``config`` (defaults filled in place) and its sheet, and check that every subject has
    data and every cross-reference resolves; raise :class:`InputError` naming the fix otherwise."""
    source = ", ".join(map(str, configfiles)) or "config"
    validate_config(config, load_schema(schema_dir, "config"), source=source)
    sheet_path = config["subjects"]
    subjects = load_subjects(sheet_path, load_schema(schema_dir, "subjects"))
    manifest = check_sources(config, subjects)
    microns = config["microns"]
    microns_manifest = None
    if microns["enabled"] and microns["source"] in ("download", "shipped"):
        microns_manifest = read_manifest(microns["manifest"], ("field", "file", "url", "sha256"), ("field", "file"))
    if microns["enabled"] and microns["source"] == "shipped":
        assert microns_manifest is not None, "read just above"
        check_shipped_fields(microns["fields"], microns_manifest, microns["manifest"])
    check_cbrnn_core(config, subjects)
    check_orientation(config, subjects, manifest)
    check_cbrnn_levels(config, source)
    check_compression(config)
    check_jedi(config, subjects)
    return Study(config, subjects, reference_subjects(config, subjects, source), manifest, microns_manifest)


def check_sources(config: dict[str, Any], subjects: pd.DataFrame) -> pd.DataFrame | None:
    """Fail if a listed subject has no data; return the download manifest for that source."""
    sheet_path, fmri = config["subjects"], config["fmri"]
    manifest = None
    if fmri["source"] == "demo":
        known = set(ts.demo_subjects())
        for subject in subjects.index:
            if subject not in known:
                raise InputError(
                    f"subject '{subject}' is not in the demo data set (known: {', '.join(sorted(known))}).",
                    file=sheet_path, subject=subject, field="subject",
                    fix="remove the row or choose another fmri.source.")
    elif fmri["source"] == "timeseries":
        if "timeseries" not in subjects.columns:
            raise InputError("the timeseries source needs a 'timeseries' column.", file=sheet_path,
                             field="timeseries", fix="add a column with each subject's table path.")
        for subject, path in subjects["timeseries"].items():
            if not path or not Path(path).is_file():
                raise InputError(f"no data: '{path}' does not exist.", file=sheet_path, subject=subject,
                                 field="timeseries", fix="correct the path or remove the subject's row.")
    elif fmri["source"] == "bids":
        for subject in subjects.index:
            bids.find_runs(fmri["bids"]["derivatives"], subject, fmri["bids"]["task"], fmri["bids"]["space"])
    elif fmri["source"] == "download":
        manifest = read_manifest(fmri["download"]["manifest"])
        missing = [subject for subject in subjects.index if subject not in manifest.index]
        if missing:
            raise InputError(f"no download listed for subject(s) {', '.join(missing)}.",
                             file=fmri["download"]["manifest"], subject=missing[0],
                             field="subject", fix="add their rows to the manifest or remove them from the sheet.")
    if fmri["source"] in ("timeseries", "download"):
        for subject in subjects.index:
            subject_tr(subjects, subject, fmri["tr"], sheet_path=sheet_path)
    return manifest


def source_labels_file(config: dict[str, Any], manifest: pd.DataFrame | None) -> str | None:
    """The labels file the source itself names (the first manifest row's ``labels``, ``fmri.bids.atlas_labels``)."""
    fmri = config["fmri"]
    if fmri["source"] == "download" and manifest is not None and "labels" in manifest.columns:
        return str(manifest["labels"].iloc[0]) or None
    if fmri["source"] == "bids":
        return fmri["bids"]["atlas_labels"]
    return None


def known_region_names(config: dict[str, Any], subjects: pd.DataFrame, manifest: pd.DataFrame | None
                       ) -> list[str] | None:
    """The region names the series will have, where they can be known before any job runs (else None)."""
    fmri = config["fmri"]
    if fmri["source"] == "demo":
        header: list[str] | None = ts.aal2_cortical_names()
    elif fmri["source"] == "timeseries":
        header = atlases.series_header(subjects["timeseries"].iloc[0])
    elif (labels := source_labels_file(config, manifest)) is not None:
        header = pd.read_csv(labels, sep="\t")["name"].astype(str).tolist()
    else:
        header = None
    if header is None:
        return None
    table = atlases.study_region_table(fmri["regions"], fmri["source"], source_labels_file(config, manifest))
    if table is not None and "name" in table.columns and set(header) != set(table["name"]) \
            and len(table) != len(header):
        return None  # e.g. an atlas_labels file in another order: the job that knows the series checks it
    return atlases.label_regions(table, header, file=fmri["regions"]["table"])


def check_orientation(config: dict[str, Any], subjects: pd.DataFrame, manifest: pd.DataFrame | None) -> None:
    """Fail before any job when G1 cannot be chosen and signed (no template, no matching names, no anchor)."""
    orientation = config["gradients"]["orientation"]
    options = OrientationOptions.from_config(orientation)
    table = atlases.study_region_table(config["fmri"]["regions"], config["fmri"]["source"],
                                       source_labels_file(config, manifest))
    names = known_region_names(config, subjects, manifest)
    if names is None:
        if options.method == "template" and orientation["template"] is None and (
                table is None or "template" not in table.columns):
            problem = orientation_problem([], options, None)
            assert problem is not None, "a template orientation without a template is a problem"
            raise problem
        return
    problem = orientation_problem(names, options, atlases.template_map(table, names, orientation["template"]))
    if problem is not None:
        raise problem


MICRONS_SHIPPED = Path("resources/microns")
"""The folder of the MICrONS fields shipped with the workflow (``<field>/``, licence and attribution beside)."""


def check_shipped_fields(fields: Sequence[str], manifest: pd.DataFrame, manifest_path: str) -> None:
    """Every field asked of the shipped source must be shipped, with a checksum for each of its files."""
    for field in fields:
        if field == "synthetic":
            continue
        folder = MICRONS_SHIPPED / field
        listed = manifest[manifest["field"] == field]
        if not folder.is_dir() or listed.empty:
            shipped = sorted(path.name for path in MICRONS_SHIPPED.iterdir() if path.is_dir())
            raise InputError(f"field {field} is not shipped (shipped: {', '.join(shipped) or 'none'}).",
                             file=folder, field="microns.fields",
                             fix="choose a shipped field, or set microns.source to download or folder.")
        missing = [name for name in listed["file"] if not (folder / name).is_file()]
        if missing:
            raise InputError(f"shipped field {field} lacks {', '.join(missing)}.", file=folder,
                             field="microns.fields", fix=f"restore the files listed for it in {manifest_path}.")


def reference_subjects(config: dict[str, Any], subjects: pd.DataFrame, source: str) -> list[str]:
    """Subjects whose group FC defines the reference gradients (all of the sheet unless fixed in config)."""
    chosen = config["gradients"]["reference_subjects"]
    if chosen is None:
        return list(subjects.index)
    unknown = [subject for subject in chosen if subject not in subjects.index]
    if unknown:
        raise InputError(f"reference subject(s) {', '.join(unknown)} are not in the subjects sheet "
                         f"{config['subjects']}.", file=source, field="gradients.reference_subjects",
                         fix="list only subjects of the sheet, or set it to null to use all of them.")
    return list(chosen)


def check_cbrnn_core(config: dict[str, Any], subjects: pd.DataFrame) -> None:
    """A CB-RNN core taken from a gradient-regularised network must name one that is trained."""
    core = config["cbrnn"]["core"]
    if not config["cbrnn"]["enabled"] or core["source"] != "gradreg":
        return
    if not config["gradreg"]["enabled"]:
        raise InputError("cbrnn.core.source is gradreg but the gradient-regularised family is off.",
                         field="cbrnn.core.source", fix="set gradreg.enabled: true, or cbrnn.core.source: random.")
    if core["subject"] not in subjects.index:
        raise InputError(f"cbrnn.core.subject '{core['subject']}' is not in the subjects sheet.",
                         file=config["subjects"], field="cbrnn.core.subject", fix="name a subject of the sheet.")
    if core["variant"] not in config["gradreg"]["variants"] or core["seed"] not in config["gradreg"]["seeds"]:
        raise InputError("cbrnn.core names a variant or seed that is not trained.", field="cbrnn.core",
                         fix="pick one of gradreg.variants and gradreg.seeds.")


def check_cbrnn_levels(config: dict[str, Any], source: str) -> None:
    """The cortico-cerebellar analysis levels must lie on the curriculum (start_level to max_level)."""
    section = config["cbrnn"]
    curriculum = section["curriculum"]
    outside = [level for level in section["analysis_levels"]
               if not curriculum["start_level"] <= level <= curriculum["max_level"]]
    if section["enabled"] and outside:
        raise InputError(f"cbrnn.analysis_levels {outside} lie outside the curriculum "
                         f"(N = {curriculum['start_level']} to {curriculum['max_level']}).", file=source,
                         field="cbrnn.analysis_levels",
                         fix="choose levels between cbrnn.curriculum.start_level and max_level.")


def check_compression(config: dict[str, Any]) -> None:
    """The compression experiment needs its uncompressed variants (scale 1) among the trained ones."""
    gradreg = config["gradreg"]
    if not gradreg["enabled"] or not gradreg["compression"]["enabled"]:
        return
    missing = [name for name in gradreg["compression"]["variants"] if name not in gradreg["variants"]]
    if missing:
        raise InputError(f"the compression experiment needs {', '.join(missing)} at scale 1, which is not trained.",
                         field="gradreg.compression.variants",
                         fix=f"add {', '.join(missing)} to gradreg.variants, or remove it from the experiment.")


def check_jedi(config: dict[str, Any], subjects: pd.DataFrame) -> None:
    """JEDI needs its own fit among its fits, a few-shot pool as large as the largest k, and pipeline networks
    that their (enabled) family trains."""
    jedi = config["jedi"]
    if not jedi["enabled"]:
        return
    if "jedi" not in jedi["fits"]:
        raise InputError("jedi.fits must include jedi (the fixed-point stage and the summary read it).",
                         field="jedi.fits", fix="add jedi to jedi.fits.")
    extra = sorted(set(jedi["few_shot"]["fits"]) - set(jedi["fits"]))
    if extra:
        raise InputError(f"few-shot inference asked of fits that are not run: {', '.join(extra)}.",
                         field="jedi.few_shot.fits", fix="list only fits of jedi.fits.")
    if jedi["trials"]["few_shot"] < max(jedi["few_shot"]["ks"]):
        raise InputError(f"a few-shot pool of {jedi['trials']['few_shot']} trials cannot give k = "
                         f"{max(jedi['few_shot']['ks'])}.", field="jedi.trials.few_shot",
                         fix="raise jedi.trials.few_shot to the largest of jedi.few_shot.ks.")
    for network in jedi["networks"]:
        family, _, rest = network.partition("/")
        trained = config[family]["enabled"] and (family != "microns" or config["microns"]["train"])
        if not trained:
            raise InputError(f"JEDI network '{network}' comes from the {family} family, which is off.",
                             field="jedi.networks", fix=f"set {family}.enabled: true, or remove the network.")
        if family == "gradreg":
            variant, subject, seed = rest.split("/", 2)
            known = (variant in config["gradreg"]["variants"] and subject.removeprefix("sub-") in subjects.index
                     and int(seed.removeprefix("seed-")) in config["gradreg"]["seeds"])
            if not known:
                raise InputError(f"JEDI network '{network}' is not among the trained gradient-regularised networks.",
                                 field="jedi.networks",
                                 fix="name a variant of gradreg.variants, a subject of the sheet and a seed of "
                                     "gradreg.seeds (gradreg/<variant>/sub-<subject>/seed-<seed>), or set "
                                     "jedi.networks: [] to fit the teacher family alone (the demo config names a "
                                     "demo subject's network).")


def settings_without(section: Mapping[str, Any], *selectors: str) -> dict[str, Any]:
    """A config section minus the keys that only select what runs (variants, tasks, seeds…), so adding a
    variant, task or mode reruns no model that is already trained."""
    return {key: copy.deepcopy(value) for key, value in section.items() if key not in selectors}
