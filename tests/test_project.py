"""Project conventions: complete rules, environments that hold what each rule imports, light modules stay light."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, make_workdir

SRC = ROOT / "src"
RUNTIME_PROVIDED = {"snakemake"}
"""Import roots every script gets from Snakemake itself (its preamble puts snakemake on the path)."""


@pytest.fixture(scope="module")
def rules(tmp_path_factory):
    """Name, script, conda env, log, threads, resources and locality of every rule of the default workflow."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    workdir = make_workdir(tmp_path_factory.mktemp("parse"))
    with SnakemakeApi(OutputSettings()) as api:
        workflow = api.workflow(resource_settings=ResourceSettings(cores=1), config_settings=ConfigSettings(),
                                snakefile=ROOT / "Snakefile", workdir=workdir)._workflow
        found = []
        for rule in workflow.rules:
            folder = Path(rule.snakefile).parent
            found.append({"name": rule.name, "script": folder / rule.script if rule.script else None,
                          "conda": folder / rule.conda_env if rule.conda_env else None, "log": list(rule.log),
                          "resources": dict(rule.resources),
                          "local": rule.name in workflow._localrules, "inputs": len(rule.input)})
    return found


TARGET_RULES = {"all", "fmri", "gradreg", "cbrnn", "microns", "lowrank", "jedi", "figures"}


def test_every_rule_has_a_script_env_log_and_resources(rules):
    names = {rule["name"] for rule in rules}
    assert names >= TARGET_RULES and len(names) >= 40
    for rule in rules:
        if rule["name"] in TARGET_RULES:
            assert rule["local"] and rule["script"] is None, rule["name"]
            continue
        assert rule["script"] is not None and rule["script"].is_file(), rule["name"]
        assert rule["conda"] is not None and rule["conda"].is_file(), rule["name"]
        assert rule["log"], f"{rule['name']} writes no log"
        assert {"mem_mb", "runtime"} <= set(rule["resources"]), rule["name"]


def test_light_steps_run_on_the_submitting_node_and_training_does_not(rules):
    local = {rule["name"] for rule in rules if rule["local"]}
    assert {"summarise_gradreg", "summarise_cbrnn", "summarise_microns", "summarise_lowrank", "lowrank_bridge",
            "summarise_jedi", "report_config", "checksum_manifest", "figure_overview", "figure_family_fmri",
            "figure_gradreg_learning", "figure_family_lowrank"} <= local
    assert not local & {"train_gradreg", "train_cbrnn", "freeze_cbrnn", "train_microns", "fixed_points_gradreg",
                        "fixed_points_lowrank", "timeseries", "train_lowrank", "train_lowrank_gru",
                        "fit_cognitive_lowrank", "simulate_lowrank", "train_jedi_teacher", "fit_jedi",
                        "fixed_points_jedi"}


# ----------------------------------------------------------------------------- environments


def _module_file(name: str) -> Path | None:
    """The source file of a brainrnn module (None for a name that is not one)."""
    path = SRC.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").is_file() else None


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at module level or inside functions (a call can reach either)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names
                         if _module_file(f"{node.module}.{alias.name}") is not None)
    return names


def third_party_roots(script: Path) -> set[str]:
    """Top-level non-standard-library modules a script needs, following brainrnn imports transitively
    (importing a.b.c runs a/__init__ and a/b/__init__ too)."""
    roots: set[str] = set()
    seen: set[Path] = set()
    pending = [script]
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            root = name.split(".")[0]
            if root == "brainrnn":
                parts = name.split(".")
                for depth in range(1, len(parts) + 1):
                    if (module := _module_file(".".join(parts[:depth]))) is not None:
                        pending.append(module)
            elif root not in sys.stdlib_module_names and root != "__future__":
                roots.add(root)
    return roots


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@cache
def _requirements(distribution: str) -> frozenset[str]:
    """A distribution and everything it requires (without extras), as installed here."""
    try:
        requires = metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return frozenset({_canonical(distribution)})
    closure = {_canonical(distribution)}
    for requirement in requires:
        if "extra ==" in requirement:
            continue
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
        closure |= _requirements(name)
    return frozenset(closure)


def env_provides(env_file: Path) -> set[str]:
    """Distributions an environment file installs, with their requirements."""
    provided: set[str] = set()
    for entry in yaml.safe_load(env_file.read_text())["dependencies"]:
        for spec in entry["pip"] if isinstance(entry, dict) else [entry]:
            name = re.match(r"[A-Za-z0-9_.-]+", spec).group(0)
            provided |= _requirements(name)
    return provided


def missing_from_env(script: Path, env_file: Path) -> set[str]:
    """Import roots of ``script`` that no distribution of ``env_file`` provides."""
    distributions = metadata.packages_distributions()
    provided = env_provides(env_file)
    missing = set()
    for root in third_party_roots(script) - RUNTIME_PROVIDED:
        candidates = {_canonical(name) for name in distributions.get(root, [root])}
        if not candidates & provided:
            missing.add(root)
    return missing


def test_every_rule_s_environment_provides_what_its_script_imports(rules):
    problems = {}
    for rule in rules:
        if rule["script"] is not None:
            missing = missing_from_env(rule["script"], rule["conda"])
            if missing:
                problems[rule["name"]] = (rule["conda"].name, sorted(missing))
    assert not problems, problems


def test_the_environment_check_finds_a_missing_package(tmp_path):
    """The check itself: a script importing torch through the library is refused in the torch-free env."""
    script = tmp_path / "rule.py"
    script.write_text("from brainrnn.training import train_ensemble\n")
    assert "torch" in missing_from_env(script, ROOT / "envs" / "fmri.yaml")
    assert not missing_from_env(script, ROOT / "envs" / "torch.yaml")


def test_scripts_find_the_library_without_an_installation():
    """Snakemake puts a script's folder on its path; the library is linked there for environments
    (conda) where brainrnn is not installed. ``-S`` leaves out site-packages, and with it the install."""
    probe = "import sys; sys.path.append('workflow_scripts'); import brainrnn.errors as e; print(e.__file__)"
    result = subprocess.run([sys.executable, "-S", "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert Path(result.stdout.strip()).resolve() == (SRC / "brainrnn" / "errors.py").resolve()


# ----------------------------------------------------------------------------- what stays light

BLOCK_TORCH = """
import sys
class NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError(f"{name} is blocked: this code must not import torch")
sys.meta_path.insert(0, NoTorch())
"""


@pytest.mark.parametrize("module", [f"brainrnn.{family}.{part}"
                                    for family in ("gradreg", "cbrnn", "microns", "lowrank", "jedi")
                                    for part in ("summary", "figures")]
                         + ["brainrnn.fmri.figures", "brainrnn.overview", "brainrnn.tasks", "brainrnn.config",
                            "brainrnn.lowrank.agents", "brainrnn.lowrank.bridge", "brainrnn.lowrank.choices",
                            "brainrnn.spectra"])
def test_summaries_figures_and_vocabularies_import_without_torch(module):
    result = subprocess.run([sys.executable, "-c", BLOCK_TORCH + f"import {module}"], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_planning_the_workflow_imports_no_torch(tmp_path):
    """Parsing and planning every job of the demo must not pay for a torch import."""
    workdir = make_workdir(tmp_path)
    code = BLOCK_TORCH + (
        "from snakemake.cli import main\n"
        f"main(['--snakefile', {str(ROOT / 'Snakefile')!r}, '--directory', {str(workdir)!r}, '--dry-run',"
        " '--quiet', '--cores', '1'])\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


# ----------------------------------------------------------------------------- pins


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


# ----------------------------------------------------------------------------- layering

FAMILIES = ("gradreg", "cbrnn", "microns", "lowrank", "jedi")


def _library_imports(root: Path = SRC) -> dict[str, set[str]]:
    """The brainrnn modules every library module imports, at module level or inside a function."""
    graph: dict[str, set[str]] = {}
    for path in (root / "brainrnn").rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("brainrnn"):
                modules = [f"{node.module}.{alias.name}" if _module_file(f"{node.module}.{alias.name}") else node.module
                           for alias in node.names]
            imported |= {module for module in modules if module.startswith("brainrnn") and module != name}
        graph[name] = imported
    return graph


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph, or None."""
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> list[str] | None:
        if state.get(module) == "done" or module not in graph:
            return None
        if state.get(module) == "open":
            return [*path, module]
        state[module] = "open"
        for imported in graph[module]:
            # a submodule importing its own package is no cycle
            if not module.startswith(imported + ".") and (cycle := visit(imported, [*path, module])) is not None:
                return cycle
        state[module] = "done"
        return None

    for module in graph:
        if (cycle := visit(module, [])) is not None:
            return cycle
    return None


def test_the_library_has_no_import_cycle():
    assert import_cycle(_library_imports()) is None


def test_shared_parts_never_import_a_model_family():
    for module, imported in _library_imports().items():
        family = module.split(".")[1] if module.count(".") else ""
        if family in FAMILIES or module == "brainrnn.overview":
            continue  # a family's own modules, and the overview that composes every family's panels
        reaching = {name for name in imported if name.split(".")[1] in FAMILIES}
        assert not reaching, f"{module} imports {sorted(reaching)}"
