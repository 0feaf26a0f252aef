"""Parcellation of fMRIPrep-style derivatives: signal recovery, run handling and input errors.

Every test builds a tiny synthetic derivatives folder (8x8x8 voxels) in ``tmp_path`` in which a
known, distinct random signal is planted in each atlas region, so the extracted series can be
checked against the truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from brainrnn.errors import InputError
from brainrnn.fmri.bids import (
    MOTION_PARAMETERS,
    MotionOptions,
    confounds_path,
    find_runs,
    framewise_displacement,
    parcellate_subject,
)
from brainrnn.fmri.quality import exclusion_reason
from brainrnn.fmri.timeseries import CleaningOptions

SUBJECT = "01"
TASK = "rest"
SPACE = "MNI152NLin2009cAsym"
SHAPE = (8, 8, 8)
N_VOLUMES = 200
TR = 2.0
AFFINE = np.diag([2.0, 2.0, 2.0, 1.0])
CLEANING = CleaningOptions(detrend=True, standardize="zscore_sample", high_pass=None, low_pass=None)
NO_MOTION = MotionOptions(motion_model="none", acompcor=0, scrub_fd_mm=None, head_radius_mm=50.0)

# Label values on purpose not 1..n, and the label table on purpose not in value order:
# the output columns must follow the label values, not the table's row order.
LABELS = {1: "visual", 3: "motor", 4: "parietal", 7: "frontal"}
LABEL_ORDER = [LABELS[value] for value in sorted(LABELS)]


def _region_masks() -> dict[int, np.ndarray]:
    """Four 4x4x6 blocks (x/y quadrants, z 0..5); the top two z slices stay background."""
    masks = {}
    for value, (xs, ys) in zip(sorted(LABELS), [(slice(0, 4), slice(0, 4)), (slice(4, 8), slice(0, 4)),
                                                 (slice(0, 4), slice(4, 8)), (slice(4, 8), slice(4, 8))], strict=True):
        mask = np.zeros(SHAPE, dtype=bool)
        mask[xs, ys, 0:6] = True
        masks[value] = mask
    return masks


@dataclass
class Derivatives:
    root: Path
    atlas: Path
    labels: Path
    runs: list[Path] = field(default_factory=list)
    signals: list[np.ndarray] = field(default_factory=list)  # per run: volumes x regions (label order)

    def parcellate(self, **overrides):
        """(series, TR) of the subject."""
        series, tr, _ = self.parcellate_with_quality(**overrides)
        return series, tr

    def parcellate_with_quality(self, **overrides):
        arguments = {"derivatives": self.root, "subject": SUBJECT, "task": TASK, "space": SPACE, "atlas": self.atlas,
                     "atlas_labels": self.labels, "confounds": [], "motion": NO_MOTION, "cleaning": CLEANING,
                     "resample_atlas": False}
        arguments.update(overrides)
        return parcellate_subject(**arguments)


def write_atlas(path: Path, *, shape=SHAPE, affine=AFFINE) -> Path:
    full = np.zeros(SHAPE, dtype=np.int16)
    for value, mask in _region_masks().items():
        full[mask] = value
    data = full[tuple(slice(0, n) for n in shape)]  # a smaller grid is a crop of the full atlas
    nib.save(nib.Nifti1Image(np.ascontiguousarray(data), affine), path)
    return path


def write_labels(path: Path) -> Path:
    rows = sorted(LABELS.items(), key=lambda item: item[1])  # alphabetical, not by value
    pd.DataFrame(rows, columns=["index", "name"]).to_csv(path, sep="\t", index=False)
    return path


def write_run(func: Path, rng: np.random.Generator, *, run: str | None, sidecar_tr: float | None = TR,
              header_tr: float = TR, n_volumes: int = N_VOLUMES) -> tuple[Path, np.ndarray]:
    """One preprocessed run with a planted signal per region, its sidecar and its confounds table."""
    entities = f"sub-{SUBJECT}_task-{TASK}" + (f"_run-{run}" if run else "")
    bold = func / f"{entities}_space-{SPACE}_desc-preproc_bold.nii.gz"
    signals = rng.standard_normal((n_volumes, len(LABELS)))
    data = 100.0 + rng.standard_normal(SHAPE + (n_volumes,))  # independent voxel noise everywhere
    for column, mask in enumerate(_region_masks()[value] for value in sorted(LABELS)):
        data[mask] += 3.0 * signals[:, column]
    data += np.linspace(0.0, 5.0, n_volumes)  # a linear drift that detrending must remove
    image = nib.Nifti1Image(data.astype(np.float32), AFFINE)
    image.header.set_zooms((2.0, 2.0, 2.0, header_tr))
    nib.save(image, bold)
    if sidecar_tr is not None:
        bold.with_name(bold.name.replace(".nii.gz", ".json")).write_text(json.dumps({"RepetitionTime": sidecar_tr}))
    confounds = pd.DataFrame({
        "trans_x": rng.standard_normal(n_volumes),
        "csf": rng.standard_normal(n_volumes),
        "trans_x_derivative1": rng.standard_normal(n_volumes),
    })
    table = confounds.astype(object)
    table.loc[0, "trans_x_derivative1"] = "n/a"  # fMRIPrep writes n/a in the first row of derivatives
    table.to_csv(func / f"{entities}_desc-confounds_timeseries.tsv", sep="\t", index=False)
    return bold, signals


def make_derivatives(tmp_path: Path, *, runs=(None,), seed: int = 0, **run_options) -> Derivatives:
    root = tmp_path / "derivatives"
    func = root / f"sub-{SUBJECT}" / "func"
    func.mkdir(parents=True)
    made = Derivatives(root=root, atlas=write_atlas(tmp_path / "atlas.nii.gz"),
                       labels=write_labels(tmp_path / "atlas_labels.tsv"))
    rng = np.random.default_rng(seed)
    for run in runs:
        bold, signals = write_run(func, rng, run=run, **run_options)
        made.runs.append(bold)
        made.signals.append(signals)
    return made


@pytest.fixture
def derivatives(tmp_path: Path) -> Derivatives:
    return make_derivatives(tmp_path)


def correlations(series: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.array([np.corrcoef(series[:, i], truth[:, i])[0, 1] for i in range(truth.shape[1])])


def assert_input_error(error: pytest.ExceptionInfo, file: Path) -> str:
    message = str(error.value)
    assert file.name in message, message
    assert "Fix:" in message, message
    return message


# --- recovery -------------------------------------------------------------------------------------

def test_planted_signals_are_recovered(derivatives: Derivatives) -> None:
    series, tr = derivatives.parcellate()
    assert tr == TR
    assert series.shape == (N_VOLUMES, len(LABELS))
    assert list(series.columns) == LABEL_ORDER
    r = correlations(series.to_numpy(), derivatives.signals[0])
    assert np.all(r > 0.9), r
    # Each region matches its own signal, not another region's.
    cross = np.corrcoef(series.to_numpy().T, derivatives.signals[0].T)[:len(LABELS), len(LABELS):]
    assert np.all(np.argmax(np.abs(cross), axis=1) == np.arange(len(LABELS)))
    # zscore_sample: zero mean, unit sample standard deviation per region.
    np.testing.assert_allclose(series.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(series.std(axis=0, ddof=1), 1.0, rtol=1e-4)


def test_noise_confounds_keep_the_signal(derivatives: Derivatives) -> None:
    """Regressing out unrelated confounds (with fMRIPrep's leading n/a) leaves the regional signal."""
    series, tr = derivatives.parcellate(confounds=["trans_x", "csf", "trans_x_derivative1"])
    assert tr == TR
    assert series.shape == (N_VOLUMES, len(LABELS))
    assert np.isfinite(series.to_numpy()).all()
    r = correlations(series.to_numpy(), derivatives.signals[0])
    assert np.all(r > 0.9), r


def test_confounds_are_regressed_out(tmp_path: Path) -> None:
    """A confound equal to one region's planted signal removes that region's signal."""
    made = make_derivatives(tmp_path)
    table_path = made.runs[0].parent / f"sub-{SUBJECT}_task-{TASK}_desc-confounds_timeseries.tsv"
    table = pd.read_csv(table_path, sep="\t")
    table["csf"] = made.signals[0][:, 0]
    table.to_csv(table_path, sep="\t", index=False)
    series, _ = made.parcellate(confounds=["csf"])
    r = correlations(series.to_numpy(), made.signals[0])
    assert abs(r[0]) < 0.3, r
    assert np.all(r[1:] > 0.9), r


def test_without_label_table_columns_are_named_by_value(derivatives: Derivatives) -> None:
    series, _ = derivatives.parcellate(atlas_labels=None)
    assert list(series.columns) == [f"region-{value}" for value in sorted(LABELS)]


def test_two_runs_are_concatenated_in_order(tmp_path: Path) -> None:
    made = make_derivatives(tmp_path, runs=("1", "2"))
    series, tr = made.parcellate()
    assert tr == TR
    assert series.shape == (2 * N_VOLUMES, len(LABELS))
    assert list(series.columns) == LABEL_ORDER
    values = series.to_numpy()
    assert np.all(correlations(values[:N_VOLUMES], made.signals[0]) > 0.9)
    assert np.all(correlations(values[N_VOLUMES:], made.signals[1]) > 0.9)
    # Each run is standardised on its own.
    np.testing.assert_allclose(values[N_VOLUMES:].mean(axis=0), 0.0, atol=1e-6)


def test_find_runs_with_and_without_run_entity(tmp_path: Path) -> None:
    single = make_derivatives(tmp_path / "a")
    assert find_runs(single.root, SUBJECT, TASK, SPACE) == single.runs
    assert find_runs(single.root, SUBJECT, TASK, None) == single.runs
    double = make_derivatives(tmp_path / "b", runs=("1", "2"))
    assert find_runs(double.root, SUBJECT, TASK, SPACE) == double.runs
    with pytest.raises(InputError):
        find_runs(single.root, SUBJECT, TASK, "MNI152NLin6Asym")
    with pytest.raises(InputError):
        find_runs(single.root, SUBJECT, "motor", SPACE)


def test_header_tr_is_used_without_sidecar(tmp_path: Path) -> None:
    made = make_derivatives(tmp_path, sidecar_tr=None, header_tr=1.5)
    _, tr = made.parcellate()
    assert tr == 1.5


# --- bad input ------------------------------------------------------------------------------------

def test_unreadable_nifti(derivatives: Derivatives) -> None:
    bold = derivatives.runs[0]
    bold.write_bytes(b"this is not a NIfTI file\x00\x01\x02" * 50)
    with pytest.raises(InputError) as error:
        derivatives.parcellate()
    assert "unreadable" in assert_input_error(error, bold)


def test_atlas_with_other_shape(derivatives: Derivatives, tmp_path: Path) -> None:
    atlas = write_atlas(tmp_path / "atlas_small.nii.gz", shape=(6, 6, 6))
    with pytest.raises(InputError) as error:
        derivatives.parcellate(atlas=atlas)
    assert "(6, 6, 6)" in assert_input_error(error, atlas)


def test_atlas_with_shifted_affine(derivatives: Derivatives, tmp_path: Path) -> None:
    shifted = AFFINE.copy()
    shifted[0, 3] = 2.0  # one voxel along x
    atlas = write_atlas(tmp_path / "atlas_shifted.nii.gz", affine=shifted)
    with pytest.raises(InputError) as error:
        derivatives.parcellate(atlas=atlas)
    assert "resample_atlas" in assert_input_error(error, atlas)

    series, tr = derivatives.parcellate(atlas=atlas, resample_atlas=True)
    assert tr == TR
    assert series.shape == (N_VOLUMES, len(LABELS))
    assert list(series.columns) == LABEL_ORDER
    # Shifted by one voxel, each region still mostly holds its own signal.
    r = correlations(series.to_numpy(), derivatives.signals[0])
    assert np.all(r > 0.8), r


def test_missing_repetition_time(tmp_path: Path) -> None:
    made = make_derivatives(tmp_path, sidecar_tr=None, header_tr=0.0)
    with pytest.raises(InputError) as error:
        made.parcellate()
    assert "repetition time" in assert_input_error(error, made.runs[0])


@pytest.mark.parametrize("bad_tr", [0.0, -1.0])
def test_non_positive_repetition_time(tmp_path: Path, bad_tr: float) -> None:
    made = make_derivatives(tmp_path, sidecar_tr=bad_tr)
    sidecar = made.runs[0].with_name(made.runs[0].name.replace(".nii.gz", ".json"))
    with pytest.raises(InputError) as error:
        made.parcellate()
    assert "non-positive" in assert_input_error(error, sidecar)


def test_runs_with_different_trs(tmp_path: Path) -> None:
    made = make_derivatives(tmp_path, runs=("1", "2"))
    made.runs[1].with_name(made.runs[1].name.replace(".nii.gz", ".json")).write_text(
        json.dumps({"RepetitionTime": 1.0}))
    with pytest.raises(InputError, match="different TRs"):
        made.parcellate()


def test_subject_without_runs(derivatives: Derivatives) -> None:
    (derivatives.root / "sub-02" / "func").mkdir(parents=True)
    with pytest.raises(InputError) as error:
        derivatives.parcellate(subject="02")
    assert_input_error(error, derivatives.root / "sub-02")


def test_confound_column_not_in_table(derivatives: Derivatives) -> None:
    table = derivatives.runs[0].parent / f"sub-{SUBJECT}_task-{TASK}_desc-confounds_timeseries.tsv"
    with pytest.raises(InputError) as error:
        derivatives.parcellate(confounds=["trans_x", "white_matter"])
    message = assert_input_error(error, table)
    assert "white_matter" in message and "trans_x," not in message


def test_missing_confounds_table(derivatives: Derivatives) -> None:
    table = derivatives.runs[0].parent / f"sub-{SUBJECT}_task-{TASK}_desc-confounds_timeseries.tsv"
    table.unlink()
    with pytest.raises(InputError) as error:
        derivatives.parcellate(confounds=["csf"])
    assert_input_error(error, table)
    series, _ = derivatives.parcellate(confounds=[])  # no confounds asked: the table is not needed
    assert series.shape == (N_VOLUMES, len(LABELS))


def test_label_table_missing_a_value(derivatives: Derivatives, tmp_path: Path) -> None:
    labels = tmp_path / "partial_labels.tsv"
    pd.DataFrame({"index": [1, 3, 4], "name": ["visual", "motor", "parietal"]}).to_csv(labels, sep="\t",
                                                                                      index=False)
    with pytest.raises(InputError) as error:
        derivatives.parcellate(atlas_labels=labels)
    assert "[7]" in assert_input_error(error, labels)


def test_runs_in_several_spaces_need_a_space(derivatives: Derivatives) -> None:
    other = derivatives.runs[0].with_name(derivatives.runs[0].name.replace(SPACE, "T1w"))
    other.write_bytes(derivatives.runs[0].read_bytes())
    with pytest.raises(InputError, match="several spaces") as error:
        find_runs(derivatives.root, SUBJECT, TASK, None)
    assert "Fix:" in str(error.value)
    assert find_runs(derivatives.root, SUBJECT, TASK, "T1w") == [other]
    series, _ = derivatives.parcellate(space=SPACE)
    assert series.shape == (N_VOLUMES, len(LABELS))


# --- head motion -----------------------------------------------------------------------------------

def write_motion(made: Derivatives, spikes: list[int], rng: np.random.Generator) -> np.ndarray:
    """Realignment parameters with small drifts and a 1 mm jump into each volume in ``spikes``; returns the FD."""
    table_path = made.runs[0].parent / f"sub-{SUBJECT}_task-{TASK}_desc-confounds_timeseries.tsv"
    table = pd.read_csv(table_path, sep="\t")
    motion = np.cumsum(rng.normal(0, 1, (N_VOLUMES, 6)) * np.repeat([0.01, 0.0002], 3), axis=0)  # mm, radians
    for volume in spikes:
        motion[volume:, 0] += 1.0
    for column, name in enumerate(MOTION_PARAMETERS):
        table[name] = motion[:, column]
        for suffix in ("_derivative1", "_power2", "_derivative1_power2"):
            table[name + suffix] = rng.standard_normal(N_VOLUMES)
    table["a_comp_cor_00"] = rng.standard_normal(N_VOLUMES)
    table.to_csv(table_path, sep="\t", index=False)
    steps = np.abs(np.diff(motion, axis=0))
    return np.concatenate([[0.0], steps[:, :3].sum(axis=1) + 50.0 * steps[:, 3:].sum(axis=1)])


def test_framewise_displacement_is_powers_formula():
    table = pd.DataFrame(np.zeros((3, 6)), columns=list(MOTION_PARAMETERS))
    table.loc[1, "trans_x"], table.loc[2, "rot_z"] = 0.3, 0.01  # 0.3 mm, then 0.01 rad = 0.5 mm at 50 mm, back 0.3
    assert np.allclose(framewise_displacement(table, 50.0), [0.0, 0.3, 0.8])


def test_scrubbing_drops_the_high_motion_volumes_and_reports_motion(tmp_path: Path) -> None:
    made = make_derivatives(tmp_path)
    expected_fd = write_motion(made, spikes=[40, 90, 150], rng=np.random.default_rng(3))
    motion = MotionOptions(motion_model="24", acompcor=1, scrub_fd_mm=0.5, head_radius_mm=50.0)
    series, _, quality = made.parcellate_with_quality(confounds=["csf"], motion=motion)
    assert quality["n_volumes_total"] == N_VOLUMES and quality["n_volumes_retained"] == N_VOLUMES - 3
    assert len(series) == N_VOLUMES - 3
    assert np.isclose(quality["mean_fd_mm"], expected_fd.mean()) and quality["max_fd_mm"] > 1.0
    kept = np.setdiff1d(np.arange(N_VOLUMES), [40, 90, 150])
    assert np.all(correlations(series.to_numpy(), made.signals[0][kept]) > 0.85)
    unscrubbed, _, quality = made.parcellate_with_quality(motion=NO_MOTION)
    assert len(unscrubbed) == N_VOLUMES and np.isclose(quality["mean_fd_mm"], expected_fd.mean())


def write_planted_motion(confounds: Path, steps: dict[int, tuple[str, float]], offset_mm: float = 0.0) -> np.ndarray:
    """Realignment parameters that stay still except a step of ``(parameter, size)`` into each given volume,
    all translations shifted by ``offset_mm``; returns Power's FD computed by hand at a 50 mm head radius."""
    table = pd.read_csv(confounds, sep="\t")
    motion = pd.DataFrame(0.0, index=range(len(table)), columns=list(MOTION_PARAMETERS))
    motion[["trans_x", "trans_y", "trans_z"]] += offset_mm
    expected = np.zeros(len(table))
    for volume, (name, size) in steps.items():
        motion.loc[volume:, name] += size
        expected[volume] = abs(size) * (50.0 if name.startswith("rot") else 1.0)
    for name in MOTION_PARAMETERS:
        table[name] = motion[name]
    table.to_csv(confounds, sep="\t", index=False)
    return expected


def plant_artefact(bold: Path, volumes: list[int], size: float = 200.0) -> None:
    """Add a large signal jump to every voxel in the given volumes (what scrubbing must remove)."""
    image = nib.load(bold)
    data = np.asarray(image.dataobj, dtype=np.float32).copy()
    data[..., volumes] += size
    nib.save(nib.Nifti1Image(data, image.affine, image.header), bold)


def test_framewise_displacement_matches_power_on_a_planted_trace(tmp_path: Path) -> None:
    """Translations count in mm, rotations as arc length at the head radius, signs do not cancel, the
    first volume of every run is 0 (no step across runs) and the reported mean and maximum are over all volumes."""
    made = make_derivatives(tmp_path, runs=("1", "2"))
    expected = np.concatenate([
        write_planted_motion(confounds_path(made.runs[0]), {10: ("trans_x", 0.3), 20: ("rot_y", -0.004),
                                                           30: ("trans_z", -0.7)}),
        write_planted_motion(confounds_path(made.runs[1]), {5: ("rot_x", 0.02)}, offset_mm=5.0)])
    table = pd.read_csv(confounds_path(made.runs[0]), sep="\t")
    assert np.allclose(framewise_displacement(table, 50.0)[[10, 20, 30]], [0.3, 0.2, 0.7])
    assert np.allclose(framewise_displacement(table, 80.0)[20], 0.32)  # arc length scales with the radius
    _, _, quality = made.parcellate_with_quality()
    assert np.isclose(quality["mean_fd_mm"], expected.mean()) and np.isclose(quality["max_fd_mm"], 1.0)
    assert quality["n_volumes_total"] == quality["n_volumes_retained"] == 2 * N_VOLUMES


def test_scrubbing_drops_exactly_the_volumes_above_the_threshold(tmp_path: Path) -> None:
    """At 0.5 mm: a 1 mm translation step and a 0.6 mm rotation step are dropped; a step of exactly 0.5 mm
    and one of 0.4 mm are kept, and so are the neighbours of dropped volumes (no neighbour scrubbing is
    configured). A large artefact planted in the dropped volumes must leave no trace in the series."""
    made = make_derivatives(tmp_path)
    dropped = [40, 120]
    write_planted_motion(confounds_path(made.runs[0]), {40: ("trans_x", 1.0), 60: ("trans_y", 0.5),
                                                        80: ("trans_z", 0.4), 120: ("rot_y", 0.012)})
    plant_artefact(made.runs[0], dropped)
    motion = MotionOptions(motion_model="none", acompcor=0, scrub_fd_mm=0.5, head_radius_mm=50.0)
    series, _, quality = made.parcellate_with_quality(motion=motion)
    assert quality["n_volumes_retained"] == len(series) == N_VOLUMES - len(dropped)
    kept = np.setdiff1d(np.arange(N_VOLUMES), dropped)
    r = correlations(series.to_numpy(), made.signals[0][kept])
    assert np.all(r > 0.9), r
    # Two volumes went and no artefact is left (z-scored, a retained 200-unit jump would stand out by far),
    # so the dropped ones are exactly 40 and 120.
    assert np.abs(series.to_numpy()).max() < 5.0
    unscrubbed, _, _ = made.parcellate_with_quality()
    assert np.abs(unscrubbed.to_numpy()[dropped]).min() > 5.0  # without scrubbing the artefact is there


def test_motion_models_name_fmriprep_columns_and_a_missing_one_is_named(derivatives: Derivatives) -> None:
    assert len(MotionOptions("24", 2, None, 50.0).regressors()) == 26
    assert MotionOptions("none", 0, None, 50.0).regressors() == []
    with pytest.raises(InputError, match="rot_x") as caught:
        derivatives.parcellate(motion=MotionOptions("6", 0, None, 50.0))
    assert "Fix:" in str(caught.value)


def test_exclusion_by_mean_fd_or_retained_volumes():
    thresholds = {"max_mean_fd_mm": 0.3, "min_retained_fraction": 0.8}
    assert exclusion_reason(0.2, 0.9, thresholds) == ""
    assert exclusion_reason(0.5, 0.7, thresholds) == "mean FD 0.500 mm > 0.3 mm; 70.0% of volumes retained < 80.0%"
    assert exclusion_reason(float("nan"), 1.0, thresholds) == ""
