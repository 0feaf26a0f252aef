"""DAG scale: dry-run time and peak memory of Snakemake for synthetic studies of growing size.

Each study uses the ``timeseries`` source with one tiny stand-in table per subject (a dry run
only checks that inputs exist) and every model stage on. Run:

    .venv/bin/python benchmarks/dag_scale.py [--subjects 10 100 1000]

and read the table: jobs planned, wall time of ``snakemake --dry-run`` and the peak resident memory
of the Snakemake process (from ``resource.getrusage`` of the child).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


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
    (folder / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def dry_run(folder: Path) -> tuple[float, float, int]:
    command = [str(Path(sys.executable).with_name("snakemake")), "--snakefile", str(ROOT / "Snakefile"),
               "--directory", str(folder), "--dry-run", "--quiet", "rules", "--cores", "2"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    peak_mb = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    total = next((int(line.split()[-1]) for line in result.stdout.splitlines() if line.startswith("total")), 0)
    return elapsed, peak_mb, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, nargs="+", default=[10, 100, 1000])
    args = parser.parse_args()
    print(f"{'subjects':>9} {'jobs':>8} {'dry-run s':>10} {'s / 1000 jobs':>14} {'peak RSS MB':>12}")
    for n_subjects in args.subjects:
        with tempfile.TemporaryDirectory() as scratch:
            make_study(Path(scratch), n_subjects)
            elapsed, peak_mb, jobs = dry_run(Path(scratch))
        print(f"{n_subjects:>9} {jobs:>8} {elapsed:>10.1f} {1000 * elapsed / max(jobs, 1):>14.2f} {peak_mb:>12.0f}")
    print("peak RSS is the largest child so far (it never decreases from one row to the next)")


if __name__ == "__main__":
    main()
