"""Provenance carried by every model result: config hash, seed, package versions, git revision."""

from __future__ import annotations

import hashlib
import json
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("brainrnn", "torch", "numpy", "scipy", "pandas", "brainspace", "nilearn", "snakemake")


def config_hash(settings: Any) -> str:
    """Short SHA-256 of a JSON-serialisable settings object (key order does not matter)."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


PACKAGE_DIR = Path(__file__).resolve().parent


def git_revision(folder: str | Path = PACKAGE_DIR) -> str:
    """The checked-out commit of the workflow, or 'unknown' outside a git work tree."""
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
                                timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip()


def provenance(settings: Any, seed: int) -> dict[str, Any]:
    return {"config_hash": config_hash(settings), "seed": seed, "packages": package_versions(),
            "git_revision": git_revision()}


def checksum_manifest(results: Path, *, skip: tuple[str, ...] = ("checkpoints",), exclude: Path | None = None) -> str:
    """``sha256  path`` for every file under ``results`` (sorted; ``sha256sum -c`` reads it).

    Two runs are identical exactly when their manifests are; floats are compared through the
    exact bytes of the tables. Top-level folders in ``skip`` (transient training state), hidden
    files (temporary names of writes in progress) and ``exclude`` (the manifest itself) are left out.
    """
    lines = []
    for path in sorted(results.rglob("*")):
        relative = path.relative_to(results)
        if (not path.is_file() or relative.parts[0] in skip or path.name.startswith(".")
                or (exclude is not None and path.resolve() == exclude.resolve())):
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        lines.append(f"{digest.hexdigest()}  {results.name}/{relative.as_posix()}")
    return "\n".join(lines) + "\n"
