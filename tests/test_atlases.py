"""Region tables: the shipped AAL2 tables, Schaefer tables from BrainSpace, labels and template maps."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from brainrnn.errors import InputError
from brainrnn.fmri import atlases
from brainrnn.fmri.timeseries import aal2_cortical_names


@pytest.mark.parametrize("regions", [80, 94])
def test_shipped_aal2_tables_are_what_the_derivation_gives(regions):
    name = "aal2_cortical80" if regions == 80 else "aal2_94"
    shipped = pd.read_csv(atlases.RESOURCES / f"{name}.tsv", sep="\t")
    derived = atlases.derive_aal2_table(regions)
    pd.testing.assert_frame_equal(shipped, derived, check_exact=False, atol=1e-3)


def test_aal2_template_runs_sensory_to_association_and_centroids_are_in_mni_millimetres():
    table = atlases.atlas_table("aal2_cortical80").set_index("name")
    assert table.index.tolist() == aal2_cortical_names()
    for sensory in ("Precentral_L", "Calcarine_R", "Heschl_L"):
        for association in ("Angular_L", "Precuneus_R", "Frontal_Sup_Medial_L"):
            assert table.loc[sensory, "template"] < table.loc[association, "template"]
    assert table.loc["Precentral_L", "x"] < -20 < 20 < table.loc["Precentral_R", "x"]  # left is negative x
    assert table.loc["Calcarine_L", "y"] < -70 and table.loc["Frontal_Sup_2_L", "y"] > 10


def test_schaefer_table_from_brainspace():
    table = atlases.schaefer_table(100)
    assert len(table) == 100 and table["template"].notna().all()
    assert (table["x"][:50] < 0).all() and (table["x"][50:] > 0).all()  # left hemisphere first, medial wall dropped
    with pytest.raises(InputError, match="schaefer_100"):
        atlases.schaefer_table(150)


def test_labels_replace_generic_headers_by_position_and_match_names_by_name(tmp_path):
    path = tmp_path / "labels.tsv"
    pd.DataFrame({"name": ["V1", "M1", "PFC"], "template": [-1.0, -0.5, 1.0]}).to_csv(path, sep="\t", index=False)
    table = atlases.read_region_table(path)
    assert atlases.label_regions(table, ["r00", "r01", "r02"]) == ["V1", "M1", "PFC"]
    assert atlases.label_regions(table, ["PFC", "V1", "M1"]) == ["PFC", "V1", "M1"]
    frame = atlases.regions_frame(table, ["PFC", "V1", "M1"])
    assert frame.loc["PFC", "template"] == 1.0 and frame.loc["V1", "template"] == -1.0
    with pytest.raises(InputError, match="3 rows but the series has 2") as caught:
        atlases.label_regions(table, ["a", "b"], file="s.npy", subject="01")
    assert "Fix:" in str(caught.value)


def test_template_file_and_centroids_from_an_atlas_image(tmp_path):
    path = tmp_path / "template.tsv"
    pd.DataFrame({"region": ["r00", "r01"], "value": [0.5, -0.5]}).to_csv(path, sep="\t", index=False)
    assert atlases.template_map(None, ["r01", "r00"], path).loc["r01"] == -0.5
    labels = np.zeros((10, 10, 10), dtype=np.int16)
    labels[0:2, 0:2, 0:2] = 3
    labels[6:10, 8:10, 4:6] = 7
    image = tmp_path / "atlas.nii.gz"
    nib.save(nib.Nifti1Image(labels, np.diag([2.0, 2.0, 2.0, 1.0]) + np.array([[0, 0, 0, -10]] * 3 + [[0] * 4])),
             image)
    centroids = atlases.atlas_centroids(image, [7, 3])
    assert np.allclose(centroids, [[2 * 7.5 - 10, 2 * 8.5 - 10, 2 * 4.5 - 10], [1 - 10, 1 - 10, 1 - 10]])
