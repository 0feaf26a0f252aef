"""Time-series sources (demo, tables) and their validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.io

from brainrnn.errors import InputError
from brainrnn.fmri import timeseries as ts

from conftest import section


def test_demo_has_seven_hcp_subjects_of_80_regions_and_1200_volumes():
    subjects = ts.demo_subjects()
    assert len(subjects) == 7
    frame = ts.load_demo_subject(subjects[0])
    assert frame.shape == (1200, 80)
    assert frame.columns[0] == "Precentral_L" and frame.columns.is_unique
    assert np.isfinite(frame.to_numpy()).all() and (frame.std() > 0).all()


def test_shipped_region_names_match_neurolibs_atlas():
    from neurolib.utils.atlases import AutomatedAnatomicalParcellation2

    names = AutomatedAnatomicalParcellation2().node_names[:94]
    cortical = [name for index, name in enumerate(names) if index not in ts.AAL2_SUBCORTICAL_ROWS]
    assert ts.aal2_cortical_names() == cortical


def test_unknown_demo_subject_is_named():
    with pytest.raises(InputError, match="no subject '999'"):
        ts.load_demo_subject("999")


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".npy", ".mat"])
def test_tables_in_every_format_read_as_volumes_by_regions(tmp_path, suffix):
    data = np.random.default_rng(0).standard_normal((150, 4))
    path = tmp_path / f"series{suffix}"
    if suffix in (".tsv", ".csv"):
        pd.DataFrame(data, columns=list("abcd")).to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    elif suffix == ".npy":
        np.save(path, data.T)  # regions x volumes is transposed automatically
    else:
        scipy.io.savemat(path, {"tc": data})
    frame = ts.read_table(path, "01", key="tc")
    assert frame.shape == (150, 4)
    assert np.allclose(frame.to_numpy(), data)


def test_missing_table_names_the_subject(tmp_path):
    with pytest.raises(InputError, match="subject 07"):
        ts.read_table(tmp_path / "absent.tsv", "07")


def _frame(n_volumes=200, n_regions=3, seed=0):
    return pd.DataFrame(np.random.default_rng(seed).standard_normal((n_volumes, n_regions)), columns=["A", "B", "C"])


def test_nan_is_refused_with_region_and_volume():
    frame = _frame()
    frame.iloc[17, 1] = np.nan
    with pytest.raises(InputError, match=r"region\(s\): B \(first at volume 17\)") as caught:
        ts.validate_timeseries(frame, subject="01", file="x.tsv", min_volumes=100)
    assert "x.tsv" in str(caught.value) and "Fix:" in str(caught.value)


def test_constant_region_is_refused():
    frame = _frame()
    frame["C"] = 3.0
    with pytest.raises(InputError, match="zero-variance region.*C"):
        ts.validate_timeseries(frame, subject="01", file="x.tsv", min_volumes=100)


def test_too_few_volumes_are_refused():
    with pytest.raises(InputError, match="only 50 volumes; at least 100"):
        ts.validate_timeseries(_frame(n_volumes=50), subject="01", file="x.tsv", min_volumes=100)


def test_cleaning_detrends_and_standardises():
    frame = _frame()
    frame["A"] += np.linspace(0, 50, len(frame))
    cleaned = ts.clean_timeseries(frame, 0.72, ts.CleaningOptions.from_config(section("fmri.clean")))
    assert np.allclose(cleaned.mean(), 0, atol=1e-10) and np.allclose(cleaned.std(), 1, atol=1e-2)
    assert abs(np.corrcoef(cleaned["A"], np.arange(len(frame)))[0, 1]) < 1e-6
