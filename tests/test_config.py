"""Strict config schema and subjects-sheet validation."""

from __future__ import annotations

import copy

import pytest
import yaml

from brainrnn.config import load_subjects, subject_tr, validate_config
from brainrnn.errors import InputError
from conftest import ROOT, merge_config

SHIPPED_OVERLAYS = sorted(path.name for path in (ROOT / "config").glob("*.yaml") if path.name != "config.yaml")


@pytest.fixture()
def default_config(root):
    return yaml.safe_load((root / "config" / "config.yaml").read_text())


def test_default_config_validates_and_gets_defaults(default_config):
    config = validate_config(copy.deepcopy(default_config))
    assert config["fmri"]["source"] == "demo"
    assert config["fmri"]["download"]["retries"] == 3  # filled from the schema
    assert config["gradients"]["sensory_regions"]


@pytest.mark.parametrize("name", SHIPPED_OVERLAYS)
def test_every_shipped_config_validates_layered_over_the_default(default_config, name):
    """The documented study configs (``--configfiles config/config.yaml config/<name>``) stay valid."""
    merge_config(default_config, yaml.safe_load((ROOT / "config" / name).read_text()))
    validate_config(default_config, source=f"config/{name}")


def test_empty_config_is_complete_from_defaults():
    config = validate_config({})
    assert config["gradients"]["kernel"] == "normalized_angle"
    assert config["timescales"]["method"] == "ar1"


def test_misspelt_key_is_named_with_a_suggestion(default_config):
    default_config["fmri"]["sorce"] = "demo"
    with pytest.raises(InputError) as caught:
        validate_config(default_config, source="my.yaml")
    message = str(caught.value)
    assert "fmri.sorce" in message and "did you mean 'source'" in message and "my.yaml" in message


def test_unknown_top_level_key(default_config):
    default_config["gradient"] = {}
    with pytest.raises(InputError, match="unknown key 'gradient'.*did you mean 'gradients'"):
        validate_config(default_config)


@pytest.mark.parametrize("section, key, value", [
    ("fmri", "source", "ftp"), ("gradients", "sparsity", 1.5), ("timescales", "method", "ou"),
    ("fmri", "tr", -0.7), ("gradients", "n_components", "five"),
])
def test_bad_values_are_rejected_with_the_field(default_config, section, key, value):
    default_config[section][key] = value
    with pytest.raises(InputError, match=f"{section}.{key}"):
        validate_config(default_config)


def _sheet(tmp_path, text):
    path = tmp_path / "subjects.tsv"
    path.write_text(text)
    return path


def test_sheet_loads_with_groups(tmp_path):
    sheet = load_subjects(_sheet(tmp_path, "subject\tgroup\nsub-01\tpatient\n02\tcontrol\n"))
    assert list(sheet.index) == ["01", "02"]
    assert sheet.at["01", "group"] == "patient"


def test_duplicate_subjects_are_refused(tmp_path):
    with pytest.raises(InputError, match="duplicate subject IDs: 01") as caught:
        load_subjects(_sheet(tmp_path, "subject\tgroup\n01\ta\nsub-01\tb\n"))
    assert "subjects.tsv" in str(caught.value)


def test_missing_group_column(tmp_path):
    with pytest.raises(InputError, match="missing column 'group'"):
        load_subjects(_sheet(tmp_path, "subject\n01\n"))


def test_bad_subject_label_names_the_line(tmp_path):
    with pytest.raises(InputError, match="line 3") as caught:
        load_subjects(_sheet(tmp_path, "subject\tgroup\n01\ta\n0/2\tb\n"))
    assert "subject" in str(caught.value)


def test_missing_sheet(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        load_subjects(tmp_path / "nope.tsv")


@pytest.mark.parametrize("cell", ["0", "-2"])
def test_non_positive_tr_in_the_sheet_is_refused(tmp_path, cell):
    with pytest.raises(InputError, match="field 'tr'.*line 2"):
        load_subjects(_sheet(tmp_path, f"subject\tgroup\ttr\n01\ta\t{cell}\n"))


@pytest.mark.parametrize("config_tr, message", [(None, "no repetition time"), (-1.0, "positive"), (0.0, "positive")])
def test_missing_or_non_positive_tr(tmp_path, config_tr, message):
    sheet = load_subjects(_sheet(tmp_path, "subject\tgroup\n01\ta\n"))
    with pytest.raises(InputError, match=message) as caught:
        subject_tr(sheet, "01", config_tr, sheet_path="subjects.tsv")
    assert "subject 01" in str(caught.value) and "Fix:" in str(caught.value)


def test_tr_from_sheet_overrides_config(tmp_path):
    sheet = load_subjects(_sheet(tmp_path, "subject\tgroup\ttr\n01\ta\t0.8\n02\tb\t\n"))
    assert subject_tr(sheet, "01", 2.0, sheet_path="s") == 0.8
    assert subject_tr(sheet, "02", 2.0, sheet_path="s") == 2.0
