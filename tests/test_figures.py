"""Family figures, the overview page, the shared style and the report's configuration page, on
synthetic tables shaped like the workflow's (fast; the demo-run tests cover the real outputs)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from brainrnn import cbrnn, fmri, gradreg, microns
from brainrnn.microns.figures import (
    MODE_MARKER,
    TASK_MARKERS,
    MicronsResults,
    accuracy_figure,
    draw_microns_measure,
    draw_ours_vs_reported,
)
from brainrnn.overview import OVERVIEW_TITLES, draw_figure, figures_module, load_families, overview_figure
from brainrnn.plotting import apply_style, palette, save_figure, vector_colorbar
from brainrnn.report_page import config_page

FAMILIES = ["fmri", "gradreg", "cbrnn", "microns"]
SUBJECTS = ["01", "02", "03", "04"]
GROUPS = ["control", "control", "patient", "patient"]
VARIANTS = ["gradreg", "unregularised", "l1"]
CB_GROUPS = ["cbrnn", "rnn", "reservoir", "interleaved"]
MICRONS_VARIANTS = ["W*D*C", "W!D*C", "W"]
TASKS = ["go_nogo", "perceptual_dm"]


def _tsv(frame: pd.DataFrame, path: Path, *, index: bool = False) -> str:
    frame.to_csv(path, sep="\t", index=index)
    return str(path)


def write_synthetic_results(folder: Path) -> tuple[dict[str, object], dict[str, dict[str, object]]]:
    """Tables of every family in the workflow's formats; returns the inputs ('<family>__<table>')
    and loader parameters that the figure rules pass to load_families."""
    rng = np.random.default_rng(7)
    folder.mkdir(parents=True, exist_ok=True)
    regions = [f"region{i}" for i in range(24)]
    inputs: dict[str, object] = {}
    reference = pd.DataFrame(rng.normal(0, 0.1, (24, 3)), index=pd.Index(regions, name="region"),
                             columns=["G1", "G2", "G3"])
    inputs["fmri__reference"] = _tsv(reference, folder / "reference.tsv", index=True)
    gradients, timescales = [], []
    for subject in SUBJECTS:
        own = reference + rng.normal(0, 0.01, reference.shape)
        tau = pd.DataFrame({"tau_s": 1.0 + 20 * np.abs(own["G1"] - own["G1"].median()) + rng.uniform(0, 0.5, 24)},
                           index=own.index)
        gradients.append(_tsv(own, folder / f"gradients_{subject}.tsv", index=True))
        timescales.append(_tsv(tau, folder / f"timescales_{subject}.tsv", index=True))
    inputs["fmri__gradients"], inputs["fmri__timescales"] = gradients, timescales
    inputs["fmri__spread"] = _tsv(pd.DataFrame({"subject": SUBJECTS, "group": GROUPS,
                                                "g1_range": rng.uniform(0.2, 0.3, 4),
                                                "dispersion": rng.uniform(0.09, 0.12, 4),
                                                "explained_G1": rng.uniform(0.2, 0.3, 4)}), folder / "spread.tsv")
    inputs["fmri__relation"] = _tsv(pd.DataFrame({"subject": SUBJECTS, "group": GROUPS,
                                                  "rho_tau_extremity": rng.uniform(0.3, 0.7, 4)}),
                                    folder / "relation.tsv")
    inputs["fmri__statistics"] = _tsv(pd.DataFrame({
        "test": ["group_difference", "extremity_interaction"], "measure": ["g1_range", "tau_s"],
        "contrast": ["patient - control"] * 2, "effect_size": [-0.8, 0.3], "effect_ci_low": [-1.5, -0.1],
        "effect_ci_high": [-0.1, 0.7], "q_fdr": [0.04, 0.2], "status": ["tested"] * 2}), folder / "statistics.tsv")

    keys = [{"variant": v, "subject": s, "seed": seed} for v in VARIANTS for s in SUBJECTS for seed in (0, 1)]
    histories = []
    for index in range(len(keys)):
        steps = np.arange(25, 201, 25)
        history = pd.DataFrame({"step": steps, "eval_loss": np.exp(-steps / 80) + rng.uniform(0, 0.02, steps.size),
                                "eval_accuracy": np.minimum(1.0, 0.5 + steps / 300)})
        histories.append(_tsv(history, folder / f"history_{index}.tsv"))
    inputs["gradreg__histories"] = histories
    points = []
    for index in range(len(keys)):
        eigenvalues = rng.normal(0, 0.5, (2, 24)) + 1j * rng.normal(0, 0.3, (2, 24))
        with open(folder / f"points_{index}.npz", "wb") as stream:
            np.savez(stream, eigenvalues=eigenvalues, kind=np.array([0, 1], dtype=np.int8))
        points.append(str(folder / f"points_{index}.npz"))
    inputs["gradreg__points"] = points
    summary = pd.DataFrame([{**key, "group": GROUPS[SUBJECTS.index(key["subject"])],
                             "dispersion": 0.1 + 0.01 * SUBJECTS.index(key["subject"]),
                             "alignment": (0.3 if key["variant"] == "gradreg" else 0.0) + rng.normal(0, 0.02),
                             "plateau_loss": rng.uniform(0.01, 0.02), "steps_to_criterion": rng.integers(50, 150),
                             "final_accuracy": 1.0, "epoch_energy": rng.uniform(0.2, 0.3),
                             "max_abs_eigenvalue": rng.uniform(0.85, 1.1)} for key in keys])
    inputs["gradreg__summary"] = _tsv(summary, folder / "gradreg.tsv")
    measures = ["steps_to_criterion", "plateau_loss", "final_accuracy", "alignment", "epoch_energy",
                "max_abs_eigenvalue"]
    correlations = pd.DataFrame([{"variant": v, "spread_measure": "dispersion", "measure": m,
                                  "rho": np.nan if m == "final_accuracy" else rng.uniform(-1, 1),
                                  "p_permutation": rng.uniform(0, 1), "n_subjects": 4}
                                 for v in VARIANTS for m in measures])
    inputs["gradreg__correlations"] = _tsv(correlations, folder / "gradreg_vs_spread.tsv")

    cb_keys = [{"group": g, "seed": seed} for g in CB_GROUPS for seed in (0, 1)]
    cb_histories = []
    for index in range(len(cb_keys)):
        epochs = np.arange(1, 11)
        cb_histories.append(_tsv(pd.DataFrame({"epoch": epochs, "level": 2 + epochs // (3 + index % 3),
                                               "test_accuracy": rng.uniform(0.5, 1.0, 10)}),
                                 folder / f"cb_history_{index}.tsv"))
    inputs["cbrnn__histories"] = cb_histories
    inputs["cbrnn__ablation"] = _tsv(pd.DataFrame(
        [{"condition": c, "level": n, "accuracy_mean": rng.uniform(0.5, 0.9), "accuracy_sem": 0.02, "n_seeds": 2,
          "drop_from_intact": 0.0 if c == "intact" else rng.uniform(0, 0.2)}
         for c in ("intact", "no_cerebellum", "reinitialised_cerebellum") for n in (2, 3, 4)]), folder / "ablation.tsv")
    inputs["cbrnn__dimensionality"] = _tsv(pd.DataFrame(
        [{"group": g, "module": m, "participation_ratio": rng.uniform(2, 4)} for g in CB_GROUPS
         for m in (["core"] if g == "rnn" else ["core", "granule", "purkinje"])]), folder / "dimensionality.tsv")
    inputs["cbrnn__runs"] = _tsv(pd.DataFrame([{**key, "mean_level": rng.uniform(3, 4)} for key in cb_keys]),
                                 folder / "cbrnn_runs.tsv")

    runs = pd.DataFrame([{"mode": "corrected", "field": "synthetic", "variant": v, "task": t, "seed": seed,
                          "final_accuracy": rng.uniform(0.5, 0.95), "modularity": rng.uniform(0.2, 0.6),
                          "small_worldness": rng.uniform(0.9, 6), "weight_entropy_bits": rng.uniform(-8, -6),
                          "max_abs_eigenvalue": rng.uniform(0, 1)}
                         for v in MICRONS_VARIANTS for t in TASKS for seed in (0, 1)])
    microns_summary = runs.groupby(["mode", "field", "variant", "task"], as_index=False)["final_accuracy"].mean()
    microns_summary = microns_summary.rename(columns={"final_accuracy": "final_accuracy_mean"})
    microns_summary["reported_accuracy"] = rng.uniform(0.5, 0.95, len(microns_summary))
    inputs["microns__summary"] = _tsv(microns_summary, folder / "microns.tsv")
    inputs["microns__runs"] = _tsv(runs, folder / "microns_runs.tsv")
    inputs["microns__reported"] = _tsv(pd.DataFrame({"task": TASKS, **{v: [0.9, 0.6] for v in MICRONS_VARIANTS}}),
                                       folder / "reported.tsv")

    params = {"fmri": {"subjects": SUBJECTS}, "gradreg": {"keys": keys, "variants": VARIANTS},
              "cbrnn": {"keys": cb_keys}, "microns": {"variants": MICRONS_VARIANTS, "tasks": TASKS}}
    return inputs, params


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return write_synthetic_results(tmp_path_factory.mktemp("tables"))


def _inputs_of(inputs: dict[str, object], families: list[str]) -> dict[str, object]:
    return {name: value for name, value in inputs.items() if name.split("__")[0] in families}


def _save(figure, folder: Path, name: str) -> tuple[bytes, bytes]:
    save_figure(figure, folder / f"{name}.png", folder / f"{name}.pdf", dpi=100)
    return (folder / f"{name}.pdf").read_bytes(), (folder / f"{name}.png").read_bytes()


STAGE_FIGURES = {"fmri": fmri.FIGURES, "gradreg": gradreg.FIGURES, "cbrnn": cbrnn.FIGURES,
                 "microns": microns.FIGURES}
EVERY_FIGURE = [(f"{family}_{stem}", [family]) for family, stems in STAGE_FIGURES.items() for stem in stems] + [
    (f"family_{family}", [family]) for family in FAMILIES] + [("overview", FAMILIES)]


@pytest.mark.parametrize("name, families", EVERY_FIGURE, ids=[name for name, _ in EVERY_FIGURE])
def test_every_figure_is_a_vector_pdf_with_embedded_truetype_and_no_metadata(synthetic, tmp_path, name, families):
    inputs, params = synthetic
    apply_style(8)
    pdf, png = _save(draw_figure(name, _inputs_of(inputs, families), params, families), tmp_path, "figure")
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf and b"/Subtype /Type3" not in pdf
    assert b"/Subtype /Image" not in pdf, "a bitmap was embedded (rasterised artist or colour bar)"
    for stamp in (b"/CreationDate", b"/ModDate", b"/Producer", b"/Creator"):
        assert stamp not in pdf
    assert png.startswith(b"\x89PNG") and b"Software" not in png and b"tIME" not in png


def test_the_microns_accuracy_heat_map_is_vector_with_the_first_task_on_top(tmp_path):
    apply_style(8)
    rows = [{"mode": mode, "variant": variant, "task": task, "final_accuracy_mean": 0.5 + 0.1 * index}
            for mode in ("faithful", "corrected") for index, variant in enumerate(MICRONS_VARIANTS) for task in TASKS]
    reported = pd.DataFrame({"task": TASKS, **{variant: [0.9, 0.6] for variant in MICRONS_VARIANTS}})
    figure = accuracy_figure(MicronsResults(summary=pd.DataFrame(rows), runs=pd.DataFrame(), reported=reported,
                                            variants=MICRONS_VARIANTS, tasks=TASKS))
    top_panel = figure.axes[0]
    assert top_panel.yaxis_inverted() and [label.get_text() for label in top_panel.get_yticklabels()] == TASKS
    assert sorted(text.get_text() for text in top_panel.texts) == sorted(["0.50", "0.60", "0.70"] * len(TASKS))
    pdf, _ = _save(figure, tmp_path, "accuracy")
    assert b"/Subtype /Image" not in pdf

def test_the_image_check_would_catch_a_rasterised_colour_bar(tmp_path):
    apply_style(8)
    for vector, expected in [(False, True), (True, False)]:
        figure, axis = plt.subplots()
        mesh = axis.pcolormesh(np.arange(9.0).reshape(3, 3))
        if vector:
            vector_colorbar(figure, mesh)
        else:
            figure.colorbar(mesh)
        pdf, _ = _save(figure, tmp_path, f"bar_{vector}")
        assert (b"/Subtype /Image" in pdf) == expected


RENDER = """
import json
import sys
from brainrnn.overview import draw_figure
from brainrnn.plotting import apply_style, save_figure
spec = json.loads(sys.argv[1])
apply_style(8)
figure = draw_figure("overview", spec["inputs"], spec["params"], spec["families"])
save_figure(figure, sys.argv[2] + "/overview.png", sys.argv[2] + "/overview.pdf", dpi=120)
"""


def test_rendering_is_byte_identical_across_processes_and_hash_seeds(synthetic, tmp_path):
    inputs, params = synthetic
    spec = json.dumps({"inputs": inputs, "params": params, "families": FAMILIES})
    digests = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        out.mkdir()
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run([sys.executable, "-c", RENDER, spec, str(out)], capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr[-3000:]
        digests.append({ext: hashlib.sha256((out / f"overview.{ext}").read_bytes()).hexdigest()
                        for ext in ("pdf", "png")})
    assert digests[0] == digests[1]


@pytest.mark.parametrize("family, letters", [("fmri", "ABCDEFG"), ("gradreg", "ABCDEF"), ("cbrnn", "ABCDEF"),
                                             ("microns", "ABCDEF")])
def test_family_figures_letter_their_panels_in_reading_order(synthetic, family, letters):
    inputs, params = synthetic
    apply_style(8)
    figure = figures_module(family).family_figure(load_families(_inputs_of(inputs, [family]), params,
                                                                [family])[family])
    found = [text.get_text() for axis in figure.axes for text in axis.texts
             if len(text.get_text()) == 1 and text.get_text().isupper() and text.get_fontweight() == "bold"]
    plt.close(figure)
    assert "".join(found) == letters


def test_the_overview_shows_only_the_families_it_is_given(synthetic):
    inputs, params = synthetic
    apply_style(8)
    results = load_families(_inputs_of(inputs, ["fmri", "cbrnn"]), params, ["fmri", "cbrnn"])
    figure = overview_figure(results)
    titles = [axis.get_title(loc="left") for axis in figure.axes if axis.get_visible() and axis.get_title(loc="left")]
    plt.close(figure)
    assert titles == [OVERVIEW_TITLES["fmri"], OVERVIEW_TITLES["cbrnn"]]
    with pytest.raises(ValueError, match="at least one family"):
        overview_figure({})


def test_an_unknown_family_is_refused_by_name(synthetic):
    inputs, params = synthetic
    with pytest.raises(ValueError, match="unknown model family 'retina'"):
        load_families(inputs, params, ["retina"])


def test_palette_keeps_a_category_colour_and_stays_distinct_for_many():
    assert palette(["gradreg", "l1"])["gradreg"] == palette(["gradreg", "l1", "shuffled"])["gradreg"]
    many = palette([f"variant{i}" for i in range(13)])
    assert len(set(many.values())) == 13


def test_config_page_holds_the_validated_config_escaped_and_the_subjects():
    config = {"subjects": "config/subjects.tsv", "figures": {"dpi": 150, "font_size": 8},
              "gradients": {"sensory_regions": ["<Calcarine>"]}}
    subjects = pd.DataFrame({"subject": ["101309", "102311"], "group": ["control", "patient"]})
    page = config_page(config, ["config/config.yaml", "extra.yaml"], subjects)
    assert "font_size: 8" in page and "dpi: 150" in page
    assert "&lt;Calcarine&gt;" in page and "<Calcarine>" not in page
    assert "config/config.yaml" in page and "extra.yaml" in page
    assert "Subjects (2)" in page and "102311" in page and "patient" in page
    assert "<script" not in page and "http" not in page


def test_microns_panels_show_one_mode_and_mark_every_mode_against_the_paper():
    modes = {"faithful": 0.1, "corrected": 0.6, "matched": 0.9}
    runs = pd.DataFrame([{"mode": mode, "variant": "W*D*C", "task": "go_nogo", "seed": seed, "modularity": value}
                         for mode, value in modes.items() for seed in (0, 1)])
    summary = pd.DataFrame([{"mode": mode, "variant": "W*D*C", "task": "go_nogo", "final_accuracy_mean": value,
                             "reported_accuracy": 0.948} for mode, value in modes.items()])
    microns = MicronsResults(summary=summary, runs=runs, reported=pd.DataFrame(), variants=["W*D*C"],
                             tasks=["go_nogo"])
    assert microns.primary_mode == "corrected"
    apply_style()
    figure, (left, right) = plt.subplots(1, 2)
    draw_microns_measure(left, microns, "modularity", "Q")
    from matplotlib.collections import PathCollection

    shown = np.concatenate([points.get_offsets()[:, 1] for points in left.collections
                            if isinstance(points, PathCollection)])
    assert np.allclose(shown, 0.6)
    draw_ours_vs_reported(right, microns, legend=True)
    fills = {line.get_fillstyle() for line in right.lines if np.size(line.get_xdata()) == 1}
    assert fills == {"none", "full", "left"}
    legend = {text.get_text(): handle for text, handle in zip(right.get_legend().get_texts(),
                                                              right.get_legend().legend_handles, strict=True)}
    # the modes' legend entries use a shape that no task uses, so "corrected" is not read as a task
    assert MODE_MARKER not in TASK_MARKERS
    assert {legend[f"mode: {mode}"].get_marker() for mode in modes} == {MODE_MARKER}
    assert legend["go nogo"].get_marker() != MODE_MARKER
    plt.close(figure)
