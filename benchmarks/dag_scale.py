"""DAG scale: Snakemake's planning cost for the project beside a do-nothing workflow with the same jobs.

For each study size it builds a synthetic study (``timeseries`` source, one tiny stand-in table per
subject, every model stage on: a dry run only checks that inputs exist), then

  project   ``snakemake --dry-run`` of the real Snakefile (config validation, input functions, params);
  trivial   a generated Snakefile with one rule per project rule and exactly the project's jobs and
            edges (read from ``snakemake --dag``): each job touches one file, inputs come from a
            table, nothing else; what Snakemake itself costs for that many jobs.

and prints jobs, jobs per subject, the CPU seconds (user + system, from ``os.wait4``: on a shared
machine far steadier than wall time), the wall seconds and the peak resident memory of each dry run,
and the ratios project / trivial. ``--by-rule`` adds the jobs per subject of each rule at the largest
size (which splits multiply the job count).

Run:  .venv/bin/python benchmarks/dag_scale.py [--subjects 10 100 1000] [--by-rule]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
NODE = re.compile(r'^\s*(\d+)\[label = "([^"\\]*)')
EDGE = re.compile(r"^\s*(\d+) -> (\d+)")


@dataclass
class Plan:
    jobs: int
    cpu_s: float
    wall_s: float
    peak_mb: float


def make_study(folder: Path, n_subjects: int) -> None:
    (folder / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "config", folder / "config")
    (folder / "resources").symlink_to(ROOT / "resources")
    rows = ["subject\tgroup\ttimeseries"]
    for index in range(n_subjects):
        table = folder / "data" / f"s{index}.tsv"
        table.write_text("a\tb\n0\t1\n")
        rows.append(f"s{index}\t{'patient' if index % 2 else 'control'}\t{table}")
    (folder / "config" / "subjects.tsv").write_text("\n".join(rows) + "\n")
    config = yaml.safe_load((folder / "config" / "config.yaml").read_text())
    config["fmri"] = {**config["fmri"], "source": "timeseries", "tr": 0.72}
    # generic headers: G1 signed by the first region; JEDI's demo network names a demo subject, not one of these
    config["gradients"] = {**config.get("gradients", {}), "orientation": {"method": "order", "anchor_region": "a"}}
    config["jedi"] = {**config["jedi"], "networks": []}
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def run(command: list[str]) -> tuple[str, Plan]:
    """Run a Snakemake command; its stdout and its own CPU time, wall time and peak memory."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{text[-3000:]}")
    jobs = next((int(line.split()[-1]) for line in text.splitlines() if line.startswith("total")), 0)
    return text, Plan(jobs, usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024)


def dry_run(snakefile: Path, folder: Path) -> Plan:
    return run([SNAKEMAKE, "--snakefile", str(snakefile), "--directory", str(folder), "--dry-run", "--quiet",
                "rules", "--cores", "2"])[1]


def job_graph(folder: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Rule of every job and the jobs each job needs, from ``snakemake --dag``."""
    text, _ = run([SNAKEMAKE, "--snakefile", str(ROOT / "Snakefile"), "--directory", str(folder), "--dag",
                   "--cores", "2"])
    rules: dict[str, str] = {}
    needs: dict[str, list[str]] = {}
    for line in text.splitlines():
        if node := NODE.match(line):
            rules[node.group(1)] = node.group(2)
            needs.setdefault(node.group(1), [])
        elif edge := EDGE.match(line):
            needs.setdefault(edge.group(2), []).append(edge.group(1))
    return rules, needs


TRIVIAL = '''import json

GRAPH = json.load(open("graph.json"))


def needs(job):
    return [f"o/{{GRAPH['rules'][other]}}/{{other}}" for other in GRAPH["needs"][job]]


rule {target}:
    default_target: True
    input: needs("{root}")
{rules}
'''
TRIVIAL_RULE = '''
rule {name}:
    output: "o/{name}/{{job}}"
    input: lambda wildcards: needs(wildcards.job)
    wildcard_constraints: job="[0-9]+"
    shell: "touch {{output}}"
'''


def trivial_workflow(folder: Path, rules: dict[str, str], needs: dict[str, list[str]]) -> Path:
    """A do-nothing Snakefile with the same jobs and edges; returns its path."""
    needed = {other for others in needs.values() for other in others}
    (root,) = [job for job in rules if job not in needed]
    folder.mkdir(parents=True)
    (folder / "graph.json").write_text(json.dumps({"rules": rules, "needs": needs}))
    names = sorted(set(rules.values()) - {rules[root]})
    text = TRIVIAL.format(target=rules[root], root=root,
                          rules="".join(TRIVIAL_RULE.format(name=name) for name in names))
    (folder / "Snakefile").write_text(text)
    return folder / "Snakefile"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--by-rule", action="store_true", help="jobs per subject of each rule at the largest size")
    args = parser.parse_args()
    print(f"{'subjects':>8} {'jobs':>7} {'jobs/subj':>9} {'project CPU s':>13} {'trivial CPU s':>13} {'ratio':>6} "
          f"{'project wall s':>14} {'trivial wall s':>14} {'project MB':>10} {'trivial MB':>10} {'ratio':>6}",
          flush=True)
    counts: Counter[str] = Counter()
    for n_subjects in args.subjects:
        with tempfile.TemporaryDirectory() as scratch:
            study = Path(scratch) / "study"
            make_study(study, n_subjects)
            project = dry_run(ROOT / "Snakefile", study)
            rules, needs = job_graph(study)
            trivial = dry_run(trivial_workflow(Path(scratch) / "trivial", rules, needs), Path(scratch) / "trivial")
        if trivial.jobs != project.jobs:
            raise RuntimeError(f"the trivial workflow plans {trivial.jobs} jobs, the project {project.jobs}")
        counts = Counter(rules.values())
        print(f"{n_subjects:>8} {project.jobs:>7} {project.jobs / n_subjects:>9.1f} {project.cpu_s:>13.1f} "
              f"{trivial.cpu_s:>13.1f} {project.cpu_s / trivial.cpu_s:>6.2f} {project.wall_s:>14.1f} "
              f"{trivial.wall_s:>14.1f} {project.peak_mb:>10.0f} {trivial.peak_mb:>10.0f} "
              f"{project.peak_mb / trivial.peak_mb:>6.2f}", flush=True)
    if args.by_rule:
        largest = args.subjects[-1]
        print(f"\njobs per subject by rule at {largest} subjects (rules with at least one job per subject):")
        for name, count in counts.most_common():
            if count >= largest:
                print(f"  {name:<24} {count / largest:>5.1f}")


if __name__ == "__main__":
    main()
