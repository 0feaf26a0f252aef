"""The workflow itself: dry-run of the default config, a real demo run, and refusals of bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from conftest import make_workdir, run_snakemake

pytestmark = pytest.mark.workflow

DEMO_SUBJECTS = 7


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One real run of the default (demo) workflow in a scratch folder."""
    workdir = make_workdir(tmp_path_factory.mktemp("demo"))
    result = run_snakemake(workdir)
    assert result.returncode == 0, result.stdout[-4000:]
    return workdir


def test_dry_run_of_the_default_config_plans_every_stage(tmp_path):
    result = run_snakemake(make_workdir(tmp_path), "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stdout
    for rule, count in [("timeseries", 7), ("connectivity", 7), ("gradients", 7), ("timescales", 7),
                        ("reference_gradients", 1), ("gradient_spread", 1), ("timescale_gradient", 1)]:
        assert any(line.split()[:2] == [rule, str(count)] for line in result.stdout.splitlines()), result.stdout


def test_demo_outputs_for_every_subject(demo_run):
    spread = pd.read_csv(demo_run / "results/fmri/gradient_spread.tsv", sep="\t", dtype={"subject": str})
    assert len(spread) == DEMO_SUBJECTS and set(spread["group"]) == {"control"}
    assert (spread["g1_range"] > 0).all() and (spread["dispersion"] > 0).all()
    for subject in spread["subject"]:
        folder = demo_run / f"results/fmri/sub-{subject}"
        series = pd.read_csv(folder / "timeseries.tsv", sep="\t")
        assert series.shape == (1200, 80)
        fc = np.load(folder / "fc.npy")
        assert fc.shape == (80, 80) and np.allclose(fc, fc.T)
        gradients = pd.read_csv(folder / "gradients.tsv", sep="\t", index_col="region")
        assert list(gradients.columns) == ["G1", "G2", "G3", "G4", "G5"]
        # G1 runs sensory (visual cortex) -> association (prefrontal)
        assert gradients.loc["Calcarine_L", "G1"] < 0 < gradients.loc["Frontal_Mid_2_L", "G1"]
        tau = pd.read_csv(folder / "timescales.tsv", sep="\t", index_col="region")["tau_s"]
        assert (tau > 0).all() and 1.0 < tau.median() < 10.0
    for name in ["fmri_gradient_space", "fmri_spread_by_group", "fmri_timescale_extremity"]:
        for ext in ("png", "pdf"):
            assert (demo_run / f"results/figures/{name}.{ext}").stat().st_size > 5000
    assert (demo_run / "logs/timescales/sub-101309.log").read_text().count("median tau") == 1


def test_demo_reproduces_the_timescale_extremity_relation(demo_run):
    """Source study: timescales are longer at the gradient extremes (positive ρ in every demo subject)."""
    relation = pd.read_csv(demo_run / "results/fmri/timescale_gradient.tsv", sep="\t")
    assert len(relation) == DEMO_SUBJECTS
    assert (relation["rho_tau_extremity"] > 0).all() and relation["rho_tau_extremity"].mean() > 0.3


def test_rerun_does_nothing_and_figures_are_byte_identical(demo_run):
    pdf = demo_run / "results/figures/fmri_spread_by_group.pdf"
    before = hashlib.sha256(pdf.read_bytes()).hexdigest()
    nothing = run_snakemake(demo_run, "--dry-run")
    assert "Nothing to be done" in nothing.stdout
    again = run_snakemake(demo_run, "--forcerun", "figure_spread_by_group", "figure_gradient_space")
    assert again.returncode == 0, again.stdout[-3000:]
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == before


def _timeseries_workdir(tmp_path, subjects_rows, tables):
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in tables.items():
        frame.to_csv(data / name, sep="\t", index=False)
    sheet = "subject\tgroup\ttimeseries\n" + "".join(f"{s}\t{g}\t{data / t}\n" for s, g, t in subjects_rows)
    return make_workdir(tmp_path / "work", {"fmri": {"source": "timeseries", "tr": 2.0}}, subjects=sheet)


def test_unknown_config_key_fails_before_any_job(tmp_path):
    workdir = make_workdir(tmp_path, {"timescales": {"methd": "ar1"}})
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    assert "timescales.methd" in result.stdout and "did you mean 'method'" in result.stdout
    assert not (workdir / "results").exists()


def test_duplicate_subject_ids_fail_before_any_job(tmp_path):
    workdir = make_workdir(tmp_path, subjects="subject\tgroup\n101309\tcontrol\n101309\tpatient\n")
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0 and "duplicate subject IDs: 101309" in result.stdout


def test_subject_without_data_fails_before_any_job(tmp_path):
    rng = np.random.default_rng(0)
    good = pd.DataFrame(rng.standard_normal((200, 12)), columns=[f"r{i}" for i in range(12)])
    workdir = _timeseries_workdir(tmp_path, [("01", "a", "s01.tsv"), ("02", "b", "missing.tsv")],
                                  {"s01.tsv": good})
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    assert "subject 02" in result.stdout and "missing.tsv" in result.stdout


def test_nan_in_a_series_fails_the_job_and_leaves_no_output(tmp_path):
    rng = np.random.default_rng(0)
    bad = pd.DataFrame(rng.standard_normal((200, 12)), columns=[f"r{i}" for i in range(12)])
    bad.iloc[5, 3] = np.nan
    workdir = _timeseries_workdir(tmp_path, [("01", "a", "s01.tsv")], {"s01.tsv": bad})
    result = run_snakemake(workdir, "results/fmri/sub-01/timeseries.tsv")
    assert result.returncode != 0
    log = (workdir / "logs/timeseries/sub-01.log").read_text()
    assert "non-finite values" in log and "r3" in log and "s01.tsv" in log
    folder = workdir / "results/fmri/sub-01"
    assert not folder.exists() or not any(folder.iterdir())
