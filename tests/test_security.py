"""Security: no target can make a rule write outside results/, and model files never unpickle code."""

from __future__ import annotations

import ast

import pytest

from conftest import ROOT, make_workdir, run_snakemake


@pytest.mark.workflow
@pytest.mark.parametrize("target", [
    "results/rnn/gradreg/../../../../tmp/escape/fixed_points.npz",
    "results/rnn/microns/corrected/../../../../../etc/fixed_points.tsv",
    "results/fmri/sub-..%2F..%2Fetc/fc.npy",
    "results/fmri/sub-101309/../../../outside/timescales.tsv",
    "results/downloads/microns/5_3_4/..",
])
def test_no_target_outside_results_matches_a_rule(tmp_path, target):
    result = run_snakemake(make_workdir(tmp_path), "--dry-run", target)
    assert result.returncode != 0
    assert "MissingRuleException" in result.stdout or "No rule to produce" in result.stdout, result.stdout[-2000:]


def _torch_load_calls(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "torch"):
            yield node


def test_every_torch_load_in_the_pipeline_refuses_pickled_code():
    sources = [*ROOT.glob("src/brainrnn/**/*.py"), *ROOT.glob("workflow_scripts/*.py"), *ROOT.glob("benchmarks/*.py")]
    calls = [(path, node) for path in sources for node in _torch_load_calls(path)]
    assert calls, "expected at least one torch.load"
    for path, node in calls:
        keywords = {keyword.arg: keyword.value for keyword in node.keywords}
        assert isinstance(keywords.get("weights_only"), ast.Constant) and keywords["weights_only"].value is True, (
            f"{path}:{node.lineno} calls torch.load without weights_only=True")
