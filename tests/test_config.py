"""Strict config schema and subjects-sheet validation."""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pandas as pd
import pytest
import yaml

from brainrnn import cbrnn, gradreg, jedi, lowrank, microns
from brainrnn.analysis.fixed_points import FixedPointOptions
from brainrnn.cbrnn.model import CBConfig
from brainrnn.cbrnn.train import CurriculumOptions, FreezeOptions
from brainrnn.config import check_cbrnn_levels, load_schema, subject_tr
from brainrnn.config import load_subjects as load_subjects_with
from brainrnn.config import validate_config as validate_with
from brainrnn.devices import DEVICES
from brainrnn.errors import InputError
from brainrnn.fmri import atlases, group_stats
from brainrnn.fmri.bids import MOTION_MODELS, MotionOptions
from brainrnn.fmri.gradients import ORIENTATION_METHODS, GradientOptions, OrientationOptions
from brainrnn.fmri.timescales import METHODS
from brainrnn.fmri.timeseries import CleaningOptions
from brainrnn.jedi.model import StudentOptions
from brainrnn.lowrank.model import Development, Regularisation
from brainrnn.lowrank.train import ActOptions, FitOptions
from brainrnn.tasks import CATALOGUE
from brainrnn.training import OPTIMISERS, TrainingOptions

from conftest import DEFAULTS, ROOT, SCHEMAS, merge_config

SHIPPED_OVERLAYS = sorted(path.name for path in (ROOT / "config").glob("*.yaml") if path.name != "config.yaml")
SCHEMA = load_schema(SCHEMAS, "config")
SUBJECTS_SCHEMA = load_schema(SCHEMAS, "subjects")


def validate_config(config, source="config/config.yaml"):
    return validate_with(config, SCHEMA, source=source)


def load_subjects(path):
    return load_subjects_with(path, SUBJECTS_SCHEMA)


@pytest.fixture()
def default_config(root):
    return yaml.safe_load((root / "config" / "config.yaml").read_text())


def test_default_config_validates_and_gets_defaults(default_config):
    config = validate_config(copy.deepcopy(default_config))
    assert config["fmri"]["source"] == "demo"
    assert config["fmri"]["download"]["retries"] == 3  # filled from the schema
    assert config["gradients"]["orientation"]["sensory_regions"]


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


def test_suggestions_ignore_case(default_config):
    default_config["fmri"]["TR"] = 0.72
    with pytest.raises(InputError, match="fmri.TR.*did you mean 'tr'"):
        validate_config(default_config)


@pytest.mark.parametrize("levels, refused", [([3, 5], False), ([2], False), ([1], True), ([3, 61], True)])
def test_cbrnn_analysis_levels_must_lie_on_the_curriculum(default_config, levels, refused):
    default_config["cbrnn"]["analysis_levels"] = levels
    config = validate_config(default_config)
    if refused:
        with pytest.raises(InputError, match="cbrnn.analysis_levels"):
            check_cbrnn_levels(config, "my.yaml")
    else:
        check_cbrnn_levels(config, "my.yaml")


def test_the_old_rnn_section_is_refused_with_where_it_went(default_config):
    default_config["rnn"] = {"seeds": [0]}
    with pytest.raises(InputError, match="unknown key 'rnn'"):
        validate_config(default_config)


def _schema_enum(*path):
    """The enum of a schema property (of its items for an array), by key path."""
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    return node["items"]["enum"] if node.get("type") == "array" else node["enum"]


@pytest.mark.parametrize("path, vocabulary", [
    (("gradreg", "variants"), gradreg.VARIANTS),
    (("cbrnn", "core", "variant"), gradreg.VARIANTS),
    (("gradreg", "task"), gradreg.TASKS),
    (("cbrnn", "task"), cbrnn.TASKS),
    (("microns", "tasks"), microns.TASKS),
    (("microns", "variants"), microns.VARIANTS + microns.CONTROLS),
    (("microns", "match_reference"), microns.VARIANTS + microns.CONTROLS),
    (("microns", "modes"), microns.MODES),
    (("microns", "penalty_diagonal"), microns.PENALTY_DIAGONAL),
    (("microns", "source"), microns.SOURCES),
    (("timescales", "method"), METHODS),
    (("gradients", "orientation", "method"), ORIENTATION_METHODS),
    (("fmri", "regions", "atlas"), (*atlases.ATLASES, None)),
    (("fmri", "bids", "motion_model"), MOTION_MODELS),
    (("group_stats", "covariates"), group_stats.COVARIATES),
    (("group_stats", "measures"), group_stats.MEASURES),
    (("gradreg", "training", "optimiser"), OPTIMISERS),
    (("microns", "training", "optimiser"), OPTIMISERS),
    (("cbrnn", "curriculum", "optimiser"), OPTIMISERS),
    (("jedi", "fits"), jedi.FITS),
    (("jedi", "few_shot", "fits"), jedi.EMBEDDED_FITS),
    (("jedi", "teachers", "memory", "task"), jedi.MEMORY_TASKS),
    (("jedi", "observation", "model"), jedi.OBSERVATIONS),
    (("jedi", "model", "embedding"), jedi.EMBEDDINGS),
    (("jedi", "training", "optimiser"), OPTIMISERS),
    (("jedi", "teachers", "training", "optimiser"), OPTIMISERS),
    (("device",), DEVICES),
    (("cbrnn", "freeze"), list(cbrnn.FREEZE_MODES)),
    (("cbrnn", "level_one"), list(cbrnn.LEVEL_ONE_MODES)),
    (("lowrank", "tasks"), lowrank.TASKS),
    (("lowrank", "modes"), lowrank.MODES),
    (("lowrank", "configurations"), lowrank.CONFIGURATIONS),
    (("lowrank", "regularisation", "effective_rank"), lowrank.RANK_DEFINITIONS),
    *[(("lowrank", "choices", "agents", task), models) for task, models in lowrank.COGNITIVE_MODELS.items()],
])
def test_schema_enums_are_the_library_vocabularies(path, vocabulary):
    assert sorted(_schema_enum(*path), key=str) == sorted(vocabulary, key=str)


def test_every_task_a_family_trains_is_in_the_catalogue_with_an_analysis_epoch():
    for names in (gradreg.TASKS, cbrnn.TASKS, microns.TASKS, lowrank.TASKS, jedi.MEMORY_TASKS, ("sine",)):
        for name in names:
            assert CATALOGUE[name].analysis_epoch


@pytest.mark.parametrize("options, path", [
    (TrainingOptions, "gradreg.training"), (TrainingOptions, "microns.training"),
    (CurriculumOptions, "cbrnn.curriculum"), (CBConfig, "cbrnn"), (FreezeOptions, "cbrnn"),
    (FixedPointOptions, "fixed_points"),
    (GradientOptions, "gradients"), (CleaningOptions, "fmri.clean"), (OrientationOptions, "gradients.orientation"),
    (MotionOptions, "fmri.bids"), (group_stats.GroupTestOptions, "group_stats"),
    (Development, "lowrank.developmental.premature"), (Development, "lowrank.developmental.mature"),
    (Regularisation, "lowrank.regularisation"), (FitOptions, "lowrank.fit"), (ActOptions, "lowrank.act"),
        (StudentOptions, "jedi.model"),
    (TrainingOptions, "jedi.training"), (TrainingOptions, "jedi.teachers.training"),
])
def test_option_classes_take_every_default_from_the_schema(options, path):
    """No competing defaults: the dataclasses declare none, and every field is a key of their section."""
    fields = dataclasses.fields(options)
    assert all(field.default is dataclasses.MISSING for field in fields), options.__name__
    settings = DEFAULTS
    for key in path.split("."):
        settings = settings[key]
    assert {field.name for field in fields} - {"seed"} <= set(settings), options.__name__


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


@pytest.mark.parametrize("overrides, field", [
    ({"fits": ["full_rank", "shared"]}, "jedi.fits"),
    ({"few_shot": {"fits": ["full_rank"]}, "fits": ["jedi", "shared"]}, "jedi.few_shot.fits"),
    ({"trials": {"few_shot": 5}, "few_shot": {"ks": [1, 10]}}, "jedi.trials.few_shot"),
    ({"networks": ["gradreg/gradreg/sub-101309/seed-7"]}, "jedi.networks"),
    ({"networks": ["gradreg/gradreg/sub-999999/seed-0"]}, "jedi.networks"),
])
def test_jedi_settings_that_cannot_run_are_refused_before_any_job(default_config, overrides, field):
    from brainrnn.config import check_jedi

    merge_config(default_config, {"jedi": overrides})
    config = validate_config(default_config)
    with pytest.raises(InputError, match=field.replace(".", r"\.")):
        check_jedi(config, load_subjects(ROOT / "config" / "subjects.tsv"))


def test_jedi_networks_of_a_family_that_is_off_are_refused(default_config):
    from brainrnn.config import check_jedi

    merge_config(default_config, {"gradreg": {"enabled": False}})
    config = validate_config(default_config)
    with pytest.raises(InputError, match="gradreg family, which is off"):
        check_jedi(config, load_subjects(ROOT / "config" / "subjects.tsv"))


def test_orientation_is_checked_while_parsing(default_config, tmp_path):
    """The demo orients G1 by the shipped AAL2 template; an anchor that is no region, or a generic-header
    table without template or labels, stops before any job with the field and the fix."""
    from brainrnn.config import check_orientation

    config = validate_config(copy.deepcopy(default_config))
    demo = pd.DataFrame({"subject": ["101309"], "group": ["control"]}).set_index("subject", drop=False)
    check_orientation(config, demo, None)
    config["gradients"]["orientation"].update(method="order", anchor_region="Precuneus")
    with pytest.raises(InputError, match="anchor_region"):
        check_orientation(config, demo, None)
    table = tmp_path / "s01.tsv"
    pd.DataFrame(np.zeros((3, 4)), columns=["r0", "r1", "r2", "r3"]).to_csv(table, sep="\t", index=False)
    config["fmri"]["source"] = "timeseries"
    config["gradients"]["orientation"].update(method="template", anchor_region=None)
    sheet = demo.assign(timeseries=str(table))
    with pytest.raises(InputError, match="gradients.orientation.template") as caught:
        check_orientation(config, sheet, None)
    assert "fmri.regions.table" in str(caught.value)
    labels = tmp_path / "labels.tsv"
    pd.DataFrame({"name": ["V1", "A1", "PFC", "PCC"], "template": [-1, -0.5, 1, 0.8]}).to_csv(labels, sep="\t",
                                                                                            index=False)
    config["fmri"]["regions"]["table"] = str(labels)
    check_orientation(config, sheet, None)


def test_every_agent_has_parameters_in_the_schema_and_every_cognitive_model_is_an_agent():
    from brainrnn.lowrank.agents import AGENT_CLASSES

    assert sorted(AGENT_CLASSES) == sorted(lowrank.AGENTS)
    for name, cls in AGENT_CLASSES.items():
        assert sorted(DEFAULTS["lowrank"]["agent_parameters"][name]) == sorted(cls.parameter_names), name
    assert {model for models in lowrank.COGNITIVE_MODELS.values() for model in models} == set(lowrank.AGENTS)


def test_an_unusable_choice_table_stops_the_workflow_before_any_job(tmp_path):
    from brainrnn.lowrank.choices import check_choice_tables

    bad = tmp_path / "choices.tsv"
    bad.write_text("session\ttrial\taction\treward\n1\t0\t5\t1\n")
    settings = copy.deepcopy(DEFAULTS["lowrank"])
    settings["choices"]["tables"]["reversal"] = str(bad)
    with pytest.raises(InputError, match="action 5 is outside 0..1"):
        check_choice_tables(settings)
    settings["modes"] = ["act"]  # a table that is never fitted is not read
    check_choice_tables(settings)
