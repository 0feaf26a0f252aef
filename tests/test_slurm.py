"""The workflow on a real single-node SLURM, through `sbatch` and the project's `profiles/slurm`.

The session fixture starts SLURM with tests/slurm/setup.sh (installing Debian's slurm-wlm and munge
where needed, which takes root). One SLURM run of a reduced demo (3 subjects, one model per family,
the small model budget of test_workflow.py, a subset of the final outputs that covers every stage)
is compared with a local run of the same targets. During that run a training job is cancelled with
`scancel` once its script is running: Snakemake must resubmit it (attempt 2, asking for the
attempt-scaled memory and run time) and the workflow must still finish, with results equal to the
local run's.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import ROOT, SNAKEMAKE, make_workdir, merge_config, run_snakemake
from test_workflow import SMALL_MODELS

pytestmark = [pytest.mark.workflow, pytest.mark.slurm]

SETUP = ROOT / "tests" / "slurm" / "setup.sh"
SUBJECTS = "subject\tgroup\n101309\tcontrol\n102311\tpatient\n102816\tcontrol\n"
# one model per family keeps the run short; every family, the fMRI stages and the summaries are there
MODELS = copy.deepcopy(SMALL_MODELS)
merge_config(MODELS, {"gradreg": {"variants": ["gradreg"]}, "cbrnn": {"seeds": [0]},
                      "microns": {"variants": ["W*D*C"]},
                      "lowrank": {"tasks": ["reversal"], "modes": ["fit"], "configurations": ["premature"]}})
# final outputs of every stage: fMRI (gradients, spread, timescales), gradient-regularised networks with
# their fixed points and summaries, MICrONS (field, nulls, training, fixed points, summary) and the
# cortico-cerebellar networks (CB-RNN and the matched RNN trained, the frozen-core stage, fixed points),
# the low-rank family (choice data, cognitive models, one configuration's networks, fixed points, summary)
TARGETS = ["results/fmri/timescale_gradient.tsv", "results/summary/gradreg.tsv", "results/summary/microns.tsv",
           "results/microns/synthetic/quality.json", "results/rnn/cbrnn/reservoir/seed-0/fixed_points.tsv",
           "results/rnn/cbrnn/rnn/seed-0/metrics.json", "results/summary/lowrank.tsv"]
# the slurm profile alone (no workflow profile), plus what this test machine needs: no
# accounting database (so squeue, not sacct, and no account), one node with 2 CPUs (so bundled jobs
# ask for 2), status checks every few seconds instead of every 40 s
SLURM_ARGS = ["--profile", str(ROOT / "profiles" / "slurm"), "--workflow-profile", "none",
              "--jobs", "4", "--cores", "2", "--slurm-status-command", "squeue", "--slurm-no-account",
              "--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "10"]
CANCELLED_RULE = "train_gradreg"
RUN_TIMEOUT_S = 900


@pytest.fixture(scope="session")
def slurm_cluster() -> str:
    """A running single-node SLURM, started (and installed) by tests/slurm/setup.sh; its `sinfo`."""
    result = subprocess.run(["bash", str(SETUP)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            timeout=900)
    if result.returncode == 2:
        pytest.skip("SLURM test needs root and apt-get to install slurm-wlm/munge: "
                    + result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0, f"tests/slurm/setup.sh failed (exit {result.returncode}):\n{result.stdout}"
    return result.stdout


def _squeue(workdir: Path) -> list[dict[str, str]]:
    """Every job SLURM still knows of (finished ones for MinJobAge) that was submitted from ``workdir``."""
    fields = {"id": "%i", "state": "%T", "comment": "%k", "memory": "%m", "time_limit": "%l", "workdir": "%Z"}
    out = subprocess.run(["squeue", "--noheader", "--states=all", "--format=" + "|".join(fields.values())],
                         capture_output=True, text=True, check=True).stdout
    rows = [dict(zip(fields, line.split("|"), strict=True)) for line in out.splitlines() if line]
    return [row for row in rows if Path(row["workdir"]) == workdir]


def _cancel_first_running(workdir: Path, rule: str, process: subprocess.Popen, timeout: float) -> dict[str, str]:
    """Wait until a ``rule`` job from ``workdir`` runs its script (its log says so), then `scancel` it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        for job in _squeue(workdir):
            if job["state"] != "RUNNING" or not job["comment"].startswith(f"rule_{rule}_wildcards_"):
                continue
            variant, subject = job["comment"].removeprefix(f"rule_{rule}_wildcards_").rsplit("_", 1)
            log = workdir / f"logs/{rule}/{variant}/sub-{subject}.log"
            if log.exists() and f"start {rule}" in log.read_text():
                cancel = subprocess.run(["scancel", job["id"]], capture_output=True, text=True)
                assert cancel.returncode == 0, cancel.stderr
                return job
        time.sleep(0.2)
    raise AssertionError(f"no {rule} job was seen running within {timeout:.0f} s")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    """The reduced demo run locally, the reference for the SLURM run."""
    workdir = make_workdir(tmp_path_factory.mktemp("local"), MODELS, subjects=SUBJECTS)
    result = run_snakemake(workdir, *TARGETS)
    assert result.returncode == 0, result.stdout[-4000:]
    return workdir


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory) -> dict:
    """The same targets through sbatch; one training job is cancelled with scancel while it runs."""
    workdir = make_workdir(tmp_path_factory.mktemp("slurm"), MODELS, subjects=SUBJECTS)
    command = [str(SNAKEMAKE), "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir), *SLURM_ARGS,
               *TARGETS]
    log_path = workdir / "snakemake.out"
    started = time.monotonic()
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                                   env={**os.environ, "PYTHONHASHSEED": "0"}, start_new_session=True)
        try:
            cancelled = _cancel_first_running(workdir, CANCELLED_RULE, process, timeout=RUN_TIMEOUT_S / 2)
            returncode = process.wait(timeout=RUN_TIMEOUT_S - (time.monotonic() - started))
        except (AssertionError, subprocess.TimeoutExpired) as error:
            os.killpg(process.pid, signal.SIGINT)  # Snakemake cancels its SLURM jobs on interrupt
            process.wait(timeout=60)
            pytest.fail(f"{error}\n{log_path.read_text()[-6000:]}")
        finally:
            leftover = [job["id"] for job in _squeue(workdir) if job["state"] in ("PENDING", "RUNNING")]
            if leftover:
                subprocess.run(["scancel", *leftover], check=False)
    output = log_path.read_text()
    assert returncode == 0, output[-6000:]
    return {"workdir": workdir, "output": output, "cancelled": cancelled, "jobs": _squeue(workdir)}


def test_non_local_jobs_run_as_sbatch_jobs_and_light_steps_stay_local(slurm_run):
    output, jobs = slurm_run["output"], slurm_run["jobs"]
    # the plugin's job comment is rule_<rule or group>[_<wildcards or rules of the group>]
    comments = [job["comment"] for job in jobs]
    # every stage went through SLURM, the short fMRI steps and the fixed points bundled as group jobs
    for step in ["train_gradreg", "train_cbrnn", "freeze_cbrnn", "train_microns", "microns_field", "microns_nulls",
                 "fmri_subject", "fmri_group", "fmri_gradients", "fixed_points"]:
        assert any(comment.startswith(f"rule_{step}_") for comment in comments), (step, comments)
    # the summaries are localrules: they never reach sbatch (timescale_gradient, with its surrogate maps, does)
    assert not [comment for comment in comments if comment.startswith(("rule_summarise", "rule_gradient_spread"))]
    assert "localrule summarise_gradreg:" in output and "localrule gradient_spread:" in output
    assert output.count("has been submitted with SLURM jobid") == len(jobs)
    states = [job["state"] for job in jobs]
    assert states.count("CANCELLED") == 1 and set(states) == {"COMPLETED", "CANCELLED"}, jobs
    # every job asked for its rule's memory and a run time limit
    assert all(job["memory"].endswith("M") and job["time_limit"] not in ("", "UNLIMITED") for job in jobs), jobs


def test_a_training_job_cancelled_with_scancel_is_retried_with_more_memory(slurm_run):
    cancelled, output, workdir = slurm_run["cancelled"], slurm_run["output"], slurm_run["workdir"]
    assert f"SLURM-job '{cancelled['id']}' failed, SLURM status is: 'CANCELLED'" in output
    assert "Trying to restart job" in output
    # attempt 1 asked for 2000 MB and 60 min; the resubmitted attempt 2 for twice as much
    assert (cancelled["memory"], cancelled["time_limit"]) == ("2000M", "1:00:00")
    retried = [job for job in slurm_run["jobs"] if job["comment"] == cancelled["comment"]
               and job["id"] != cancelled["id"]]
    assert [(job["state"], job["memory"], job["time_limit"]) for job in retried] == [("COMPLETED", "4000M", "2:00:00")]
    variant, subject = cancelled["comment"].removeprefix(f"rule_{CANCELLED_RULE}_wildcards_").rsplit("_", 1)
    run = workdir / f"results/rnn/gradreg/{variant}/sub-{subject}/seed-0"
    assert json.loads((run / "metrics.json").read_text())["steps_run"] == SMALL_MODELS["gradreg"]["training"]["steps"]
    assert f"step {SMALL_MODELS['gradreg']['training']['steps']}/" in (
        workdir / f"logs/{CANCELLED_RULE}/{variant}/sub-{subject}.log").read_text()


def _results(workdir: Path) -> dict[str, object]:
    """Every result table, array and record under results/, keyed by path: bytes' digest or parsed JSON.

    The one field left out is the provenance's git revision, which differs when a commit lands between
    the two runs; config hash, seeds and package versions are compared with everything else.
    """
    found: dict[str, object] = {}
    for path in sorted((workdir / "results").rglob("*")):
        key = str(path.relative_to(workdir))
        if path.suffix in (".tsv", ".npy", ".npz"):
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.suffix == ".json":
            record = json.loads(path.read_text())
            record.get("provenance", {}).pop("git_revision", None)
            found[key] = record
    return found


def test_slurm_results_equal_a_local_run(slurm_run, local_run):
    on_slurm, local = _results(slurm_run["workdir"]), _results(local_run)
    assert sorted(on_slurm) == sorted(local)
    subjects = [line.split("\t")[0] for line in SUBJECTS.splitlines()[1:]]
    expected = {*TARGETS, "results/fmri/group/fc.npy", "results/microns/synthetic/field.npz",
                *(f"results/fmri/sub-{s}/{name}" for s in subjects
                  for name in ["timeseries.tsv", "fc.npy", "gradients.tsv", "timescales.tsv"]),
                *(f"results/rnn/gradreg/gradreg/sub-{s}/seed-0/{name}" for s in subjects
                  for name in ["history.tsv", "metrics.json", "fixed_points.npz"])}
    assert expected <= set(local), expected - set(local)
    differing = [key for key in local if on_slurm[key] != local[key]]
    assert not differing, differing
    for model in sorted(local_run.glob("results/rnn/**/model.pt")):
        ours = torch.load(slurm_run["workdir"] / model.relative_to(local_run), weights_only=True)["state"]
        reference = torch.load(model, weights_only=True)["state"]
        assert ours.keys() == reference.keys()
        assert all(np.array_equal(ours[name].numpy(), reference[name].numpy()) for name in reference), model
