"""Incremental recomputation: adding a subject to a study plans only that subject's jobs and the group stages."""

from __future__ import annotations

import pytest

from conftest import ROOT, make_workdir, planned_jobs, run_snakemake
from test_workflow import SMALL_MODELS

pytestmark = pytest.mark.workflow

FMRI_AND_GRADREG = {**SMALL_MODELS, "cbrnn": {"enabled": False}, "microns": {"enabled": False},
                    "lowrank": {"enabled": False}}
# Stages that pool subjects: they must rerun when the study grows.
GROUP_RULES = {"gradient_spread", "timescale_gradient", "group_statistics", "summarise_gradreg", "report_config",
               "checksum_manifest", "all"}


def _sheet(subjects: list[str]) -> str:
    return "subject\tgroup\n" + "".join(f"{subject}\tcontrol\n" for subject in subjects)


@pytest.fixture(scope="module")
def grown_study(tmp_path_factory):
    """A study of two demo subjects run to completion, with a third subject then added to its sheet."""
    subjects = [line.split("\t")[0] for line in (ROOT / "config/subjects.tsv").read_text().splitlines()[1:]]
    first, new = subjects[:2], subjects[2]
    workdir = make_workdir(tmp_path_factory.mktemp("grow"), {**FMRI_AND_GRADREG,
                                                             "gradients": {"reference_subjects": first}},
                           subjects=_sheet(first))
    result = run_snakemake(workdir)
    assert result.returncode == 0, result.stdout[-4000:]
    (workdir / "config/subjects.tsv").write_text(_sheet(first + [new]))
    return workdir, new


def test_a_new_subject_plans_only_its_own_jobs_and_the_group_stages(grown_study):
    workdir, new = grown_study
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode == 0, result.stdout[-4000:]
    jobs = planned_jobs(result.stdout)
    per_subject = {rule for rule, wildcards in jobs if "subject" in wildcards or new in wildcards.get("run", "")}
    assert {"timeseries", "gradients", "timescales", "train_gradreg", "fixed_points_gradreg"} <= per_subject
    for rule, wildcards in jobs:
        if "subject" in wildcards:
            assert wildcards["subject"] == new, (rule, wildcards)
        elif rule == "fixed_points_gradreg":
            assert f"sub-{new}" in wildcards["run"], wildcards
        else:
            assert rule in GROUP_RULES or rule.startswith("figure_"), rule
    assert not {"reference_gradients", "group_connectivity"} & {rule for rule, _ in jobs}


def test_fixing_the_reference_to_the_current_subjects_reruns_nothing(tmp_path):
    subjects = "subject\tgroup\n101309\tcontrol\n102311\tcontrol\n"
    workdir = make_workdir(tmp_path, {**FMRI_AND_GRADREG,
                                            "gradreg": {**FMRI_AND_GRADREG["gradreg"], "training": {"steps": 20}}},
                           subjects=subjects)
    assert run_snakemake(workdir, "results/fmri/gradient_spread.tsv").returncode == 0
    (workdir / "config/fixed.yaml").write_text('gradients:\n  reference_subjects: ["101309", "102311"]\n')
    result = run_snakemake(workdir, "results/fmri/gradient_spread.tsv", "--dry-run", "--configfiles",
                           "config/config.yaml", "config/fixed.yaml")
    assert result.returncode == 0 and "Nothing to be done" in result.stdout, result.stdout[-3000:]


def test_without_a_fixed_reference_the_new_subject_realigns_everyone(grown_study):
    workdir, new = grown_study
    (workdir / "config/all_subjects.yaml").write_text("gradients:\n  reference_subjects: null\n")
    result = run_snakemake(workdir, "--dry-run", "--configfiles", "config/config.yaml", "config/all_subjects.yaml")
    assert result.returncode == 0, result.stdout[-4000:]
    jobs = planned_jobs(result.stdout)
    realigned = {wildcards["subject"] for rule, wildcards in jobs if rule == "gradients"}
    assert len(realigned) == 3 and "reference_gradients" in {rule for rule, _ in jobs}


def test_a_reference_subject_missing_from_the_sheet_is_refused(tmp_path):
    workdir = make_workdir(tmp_path, {"gradients": {"reference_subjects": ["101309", "999999"]}})
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    assert "gradients.reference_subjects" in result.stdout and "999999" in result.stdout
