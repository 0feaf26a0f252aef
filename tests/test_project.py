"""Project conventions: every rule is complete, and conda envs agree with the pip pins."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml

RULE_DIRECTIVES = ("log:", "conda:", "threads:", "resources:")


def _rules(root):
    for smk in sorted((root / "rules").glob("*.smk")):
        for block in re.split(r"^(?=rule )", smk.read_text(), flags=re.M)[1:]:
            name = re.match(r"rule (\w+):", block).group(1)
            yield smk.name, name, block


def test_every_rule_has_log_conda_threads_resources_and_a_script(root):
    rules = list(_rules(root))
    assert len(rules) >= 10
    for smk, name, block in rules:
        for directive in RULE_DIRECTIVES:
            assert f"\n    {directive}" in block, f"{smk}: rule {name} lacks {directive}"
        script = re.search(r'script:\s*\n\s*"\.\./(workflow_scripts/\w+\.py)"', block)
        assert script and (root / script.group(1)).is_file(), f"rule {name} has no workflow script"


def _pins(root):
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    pins = {}
    for requirement in pyproject["project"]["dependencies"]:
        name, version = requirement.split("==")
        pins[name.lower()] = version
    return pins


@pytest.mark.parametrize("env_file", ["fmri.yaml", "figures.yaml", "torch.yaml"])
def test_conda_env_versions_agree_with_pip_pins(root, env_file):
    pins = _pins(root)
    env = yaml.safe_load((root / "envs" / env_file).read_text())
    checked = 0
    for entry in env["dependencies"]:
        specs = entry["pip"] if isinstance(entry, dict) else [entry]
        for spec in specs:
            match = re.fullmatch(r"([A-Za-z0-9_.-]+)(==|=)([0-9.]+)", spec)
            if not match or match.group(1) == "python":
                continue
            name, version = match.group(1).lower(), match.group(3)
            assert pins.get(name) == version, f"{env_file}: {name} {version} vs pyproject {pins.get(name)}"
            checked += 1
    assert checked >= 4


def test_lock_file_pins_the_direct_dependencies(root):
    lock = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[name.lower().replace("_", "-")] = version
    for name, version in _pins(root).items():
        assert lock.get(name.replace("_", "-")) == version, name
