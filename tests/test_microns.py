"""MICrONS fields: connectome order, geometry, STTC, grid; the synthetic field; the workflow stage."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest
import torch

from brainrnn.errors import InputError
from brainrnn.microns import field as mf
from brainrnn.models.regularisers import communicability
from conftest import ROOT, make_workdir, run_snakemake

SHARED = ROOT.parent / "shared" / "data" / "microns"
FIELDS = ["5_3_4", "6_6_2", "6_6_8"]
needs_shared = pytest.mark.skipif(not (SHARED / "info").is_dir(),
                                  reason=f"the real MICrONS fields are not present at {SHARED}")


@needs_shared
@pytest.mark.parametrize("name", FIELDS)
def test_connectome_order_matches_the_derived_permutation(name):
    root_ids = np.load(SHARED / "info" / name / f"root_ids_{name}.npy")
    expected = np.load(SHARED / "derived" / f"connectome_row_to_functional_index_{name}.npy")
    assert np.array_equal(mf.connectome_row_order(root_ids), expected)


@needs_shared
@pytest.mark.parametrize("name", FIELDS)
def test_real_fields_load_in_functional_order_with_real_geometry(name):
    field = mf.load_field(SHARED / "info", name, ROOT / "resources" / "microns" / "INF.md")
    quality = field.quality()
    # after reordering, connected neurons lie far closer than random pairs (91-137 µm against ~320 µm)
    assert quality["mean_distance_connected_um"] < 0.5 * quality["mean_distance_all_um"]
    as_shipped = pd.read_csv(SHARED / "info" / name / f"connectome_{name}.csv", index_col=0).to_numpy()
    naive = mf.Field(name, field.positions_um, as_shipped, field.corr, field.sttc, field.precision, field.grid)
    assert naive.quality()["mean_distance_connected_um"] > 0.8 * quality["mean_distance_all_um"]
    # positions in µm: a cortical column spans hundreds of µm, not voxels
    extent = field.positions_um.max(axis=0) - field.positions_um.min(axis=0)
    assert (extent > 10).all() and (extent < 2000).all()
    assert np.allclose(field.sttc, field.sttc.T) and np.allclose(np.diag(field.sttc), 1.0)
    assert np.prod(field.grid) == field.n_neurons
    assert field.connectome.sum() == as_shipped.sum()


def test_functional_order_moves_rows_and_columns_together():
    matrix = np.arange(9).reshape(3, 3)
    ordered = mf.to_functional_order(matrix, np.array([2, 0, 1]))
    assert ordered[2, 0] == matrix[0, 1] and ordered[1, 2] == matrix[2, 0]


def test_grid_parsing_and_unknown_fields():
    inf = ROOT / "resources" / "microns" / "INF.md"
    assert mf.parse_grid(inf, "6_6_2") == (12, 13, 2)
    with pytest.raises(InputError, match="not listed"):
        mf.parse_grid(inf, "99_9_9")
    with pytest.raises(InputError, match="not a field name"):
        mf.load_field(ROOT, "../etc", inf)


def test_synthetic_field_is_column_like_and_deterministic(tmp_path):
    field = mf.synthetic_field(100, seed=3)
    again = mf.synthetic_field(100, seed=3)
    assert np.array_equal(field.connectome, again.connectome) and np.allclose(field.corr, again.corr)
    quality = field.quality()
    assert quality["mean_distance_connected_um"] < 0.75 * quality["mean_distance_all_um"]
    assert np.allclose(field.corr, field.corr.T) and np.allclose(field.sttc, field.sttc.T)
    assert np.all(np.linalg.eigvalsh(field.precision) > 0) and np.prod(field.grid) == 100
    field.save(tmp_path / "f.npz")
    loaded = mf.Field.load(tmp_path / "f.npz")
    assert np.array_equal(loaded.connectome, field.connectome) and loaded.grid == field.grid


def test_grid_factorisation_is_near_cubic():
    assert mf.grid_factorisation(120) == (6, 5, 4)
    assert mf.grid_factorisation(13) == (13, 1, 1)


def test_zero_strength_neurons_do_not_blow_up_communicability():
    weight = torch.tensor([[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.5, 0.0]]])  # neuron 1 sends nothing
    value = communicability(weight)
    assert torch.isfinite(value).all() and value.max() < 10  # the 1e-10 trick gives entries ~1e5


@needs_shared
def test_workflow_prepares_a_real_field_from_a_folder(tmp_path):
    workdir = make_workdir(tmp_path, {"microns": {"source": "folder", "fields": ["5_3_4"],
                                                  "folder": str(SHARED / "info")}})
    result = run_snakemake(workdir, "results/microns/5_3_4/quality.json")
    assert result.returncode == 0, result.stdout[-3000:]
    quality = json.loads((workdir / "results/microns/5_3_4/quality.json").read_text())
    assert quality["grid"] == [7, 5, 2] and quality["n_neurons"] == 70
    assert quality["mean_distance_connected_um"] < 0.5 * quality["mean_distance_all_um"]


@needs_shared
def test_workflow_downloads_a_field_with_checksums(tmp_path):
    from test_download import Server

    server = Server()
    try:
        manifest = (ROOT / "resources" / "microns_manifest.tsv").read_text().splitlines()
        rewritten = [line if line.startswith(("#", "field")) else _local(line, server) for line in manifest]
        workdir = make_workdir(tmp_path, {"microns": {"source": "download", "fields": ["5_3_4"],
                                                      "manifest": "config/microns.tsv"}})
        (workdir / "config" / "microns.tsv").write_text("\n".join(rewritten) + "\n")
        result = run_snakemake(workdir, "results/microns/5_3_4/quality.json")
        assert result.returncode == 0, result.stdout[-3000:]
        assert len(list((workdir / "results/downloads/microns/5_3_4").iterdir())) == 6
    finally:
        server.close()


def _local(line: str, server) -> str:
    field, name, _, digest = line.split("\t")
    return "\t".join([field, name, server.url(f"/shared/{field}/{name}"), digest])
