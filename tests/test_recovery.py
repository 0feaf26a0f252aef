"""Fault recovery at the workflow level: Ctrl-C mid-run, kill -9 of a training job, an unwritable or full disk."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
from test_incremental import FMRI_AND_GRADREG

from conftest import ROOT, SNAKEMAKE, make_workdir, run_snakemake
from test_workflow import _result_digests

pytestmark = pytest.mark.workflow

THREE_SUBJECTS = "subject\tgroup\n101309\tcontrol\n102311\tcontrol\n102816\tcontrol\n"


def start_snakemake(workdir: Path, *targets: str) -> subprocess.Popen:
    """Snakemake in its own process group, as a terminal would run it, so Ctrl-C reaches every job.

    SIGINT is reset to its default in the child: a test run started in the background (`make test &`)
    inherits an ignored SIGINT, and Python then never turns Ctrl-C into KeyboardInterrupt.
    """
    command = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--profile", str(ROOT / "profiles" / "local"), "--cores", "2", *targets]
    return subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, "PYTHONHASHSEED": "0"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(condition, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.time() + timeout
    while not condition():
        assert process.poll() is None, "the workflow ended before the fault could be injected"
        assert time.time() < deadline, "timed out waiting to inject the fault"
        time.sleep(0.05)


def job_pids(script_name: str) -> list[int]:
    """PIDs of running Python processes whose command line runs ``script_name``."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and script_name in (entry / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    workdir = make_workdir(tmp_path_factory.mktemp("uninterrupted"), FMRI_AND_GRADREG, subjects=THREE_SUBJECTS)
    result = run_snakemake(workdir)
    assert result.returncode == 0, result.stdout[-4000:]
    return workdir


def test_ctrl_c_mid_run_then_rerun_completes_with_identical_results(uninterrupted, tmp_path):
    workdir = make_workdir(tmp_path, FMRI_AND_GRADREG, subjects=THREE_SUBJECTS)
    process = start_snakemake(workdir)
    wait_for(lambda: (workdir / "logs/train_gradreg").exists(), timeout=600, process=process)
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=300)
    assert process.returncode != 0, output[-3000:]
    assert not (workdir / "results/summary/gradreg.tsv").exists()
    rerun = run_snakemake(workdir, "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    assert not list((workdir / "results").rglob("*.part"))
    assert _result_digests(workdir) == _result_digests(uninterrupted)


def test_a_training_job_killed_with_sigkill_resumes_from_its_checkpoint(tmp_path):
    budget = {"gradreg": {**FMRI_AND_GRADREG["gradreg"],
                          "training": {"steps": 400, "eval_every": 25, "checkpoint_every": 20}}}
    workdir = make_workdir(tmp_path, {**FMRI_AND_GRADREG, **budget}, subjects=THREE_SUBJECTS)
    run = "results/rnn/gradreg/gradreg/sub-101309/seed-0"
    process = start_snakemake(workdir, f"{run}/model.pt")
    checkpoints = workdir / "results/checkpoints/gradreg/gradreg/sub-101309"
    wait_for(lambda: any(checkpoints.glob("*.pt")), timeout=600, process=process)
    for pid in job_pids("train_gradreg"):
        os.kill(pid, signal.SIGKILL)
    output, _ = process.communicate(timeout=300)
    assert process.returncode != 0 and not (workdir / run / "model.pt").exists(), output[-3000:]

    resumed = run_snakemake(workdir, f"{run}/model.pt")
    assert resumed.returncode == 0, resumed.stdout[-4000:]
    assert "resumed from" in (workdir / "logs/train_gradreg/gradreg/sub-101309.log").read_text()
    after_resume = torch.load(workdir / run / "model.pt", weights_only=True)["state"]

    fresh = run_snakemake(workdir, f"{run}/model.pt", "--forcerun", "train_gradreg")
    assert fresh.returncode == 0, fresh.stdout[-4000:]
    assert "resumed from" not in (workdir / "logs/train_gradreg/gradreg/sub-101309.log").read_text()
    uninterrupted_state = torch.load(workdir / run / "model.pt", weights_only=True)["state"]
    assert after_resume.keys() == uninterrupted_state.keys()
    for name, tensor in uninterrupted_state.items():
        assert torch.equal(after_resume[name], tensor), name


def test_an_unwritable_results_folder_fails_before_any_job(tmp_path):
    workdir = make_workdir(tmp_path)
    results = workdir / "results"
    results.mkdir()
    if subprocess.run(["chattr", "+i", str(results)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a folder immutable here (chattr +i needs root on a supporting file system)")
    try:
        result = run_snakemake(workdir, "--dry-run")
    finally:
        subprocess.run(["chattr", "-i", str(results)], check=True)
    assert result.returncode != 0
    assert f"{results} is not writable" in result.stdout and "Fix:" in result.stdout
    assert not list(results.iterdir())


@pytest.fixture
def small_disk(tmp_path):
    """A workdir whose results/ is a 3 MB tmpfs (needs root with mount rights; skipped with a reason otherwise)."""
    workdir = make_workdir(tmp_path)
    (workdir / "results").mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(workdir / "results")],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to simulate a full disk: {mount.stderr.strip()}")
    yield workdir
    subprocess.run(["umount", str(workdir / "results")], check=True)


def test_a_nearly_full_disk_is_refused_before_any_job(small_disk):
    result = run_snakemake(small_disk, "--dry-run")
    assert result.returncode != 0
    assert "MB free on the disk of" in result.stdout and "min_free_disk_mb" in result.stdout


def test_a_disk_that_fills_mid_run_fails_clearly_and_keeps_no_partial_output(small_disk):
    (small_disk / "config/no_check.yaml").write_text("min_free_disk_mb: 0\n")
    subjects = pd.read_csv(ROOT / "config/subjects.tsv", sep="\t", dtype=str)["subject"]
    result = run_snakemake(small_disk, *[f"results/fmri/sub-{subject}/timeseries.tsv" for subject in subjects],
                           "--configfiles", "config/config.yaml", "config/no_check.yaml")
    assert result.returncode != 0
    assert "the disk is full" in result.stdout and "Fix:" in result.stdout, result.stdout[-3000:]
    assert not list((small_disk / "results").rglob("*.part"))
    for table in (small_disk / "results").rglob("timeseries.tsv"):
        assert pd.read_csv(table, sep="\t").shape == (1200, 80), table
