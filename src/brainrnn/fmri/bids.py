"""Parcellate fMRIPrep derivatives with a label atlas (nilearn ``NiftiLabelsMasker``).

Each run is cleaned on its own (confounds, detrending, filtering, standardisation) and the runs
are concatenated in file-name order. Head motion: framewise displacement (Power et al. 2012) from
fMRIPrep's six realignment parameters, optional scrubbing of high-motion volumes, 6- or
24-parameter motion regressors and anatomical CompCor components; the mean FD and the retained
volumes of each subject are reported for quality control. The atlas must sit on the BOLD grid: a silent resampling of
a mismatched atlas is a common source of wrong regions, so we refuse it unless asked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import nibabel as nib
import numpy as np
import pandas as pd

from brainrnn.errors import InputError
from brainrnn.fmri.timeseries import CleaningOptions

AFFINE_TOLERANCE_MM = 1e-3
MOTION_PARAMETERS = ("trans_x", "trans_y", "trans_z", "rot_x", "rot_y", "rot_z")
"""fMRIPrep's realignment parameters (translations in mm, rotations in radians)."""
MOTION_MODELS = ("none", "6", "24")
"""Motion regressors: none, the six parameters, or those with derivatives and squares (Friston 24)."""


@dataclass(frozen=True)
class MotionOptions:
    """Motion regressors, aCompCor and scrubbing (``fmri.bids`` holds the defaults)."""

    motion_model: str
    acompcor: int
    scrub_fd_mm: float | None
    head_radius_mm: float

    @classmethod
    def from_config(cls, bids: dict) -> MotionOptions:
        return cls(motion_model=bids["motion_model"], acompcor=bids["acompcor"], scrub_fd_mm=bids["scrub_fd_mm"],
                   head_radius_mm=bids["head_radius_mm"])

    def regressors(self) -> list[str]:
        """Confound columns implied by the motion model and aCompCor, in fMRIPrep's names."""
        columns = [] if self.motion_model == "none" else list(MOTION_PARAMETERS)
        if self.motion_model == "24":
            columns += [f"{name}{suffix}" for name in MOTION_PARAMETERS
                        for suffix in ("_derivative1", "_power2", "_derivative1_power2")]
        return columns + [f"a_comp_cor_{index:02d}" for index in range(self.acompcor)]


def framewise_displacement(table: pd.DataFrame, head_radius_mm: float) -> np.ndarray:
    """Power's FD per volume: summed absolute backward differences of the six parameters, rotations
    as arc length on a sphere of ``head_radius_mm``; 0 for the first volume."""
    params = table[list(MOTION_PARAMETERS)].to_numpy(dtype=float).copy()
    params[:, 3:] *= head_radius_mm
    steps = np.abs(np.diff(params, axis=0)).sum(axis=1)
    return np.concatenate([[0.0], steps])


def find_runs(derivatives: str | Path, subject: str, task: str, space: str | None) -> list[Path]:
    """Preprocessed BOLD runs of one subject (any session), sorted by name."""
    root = Path(derivatives) / f"sub-{subject}"
    space_part = f"*space-{space}_" if space else ""
    pattern = f"sub-{subject}_*task-{task}_{space_part}*desc-preproc_bold.nii*"
    runs = sorted(path for path in root.rglob(pattern) if path.parent.name == "func")
    if not runs:
        raise InputError(f"no preprocessed BOLD run matches '{pattern}' under {root}.", file=root, subject=subject,
                         field="fmri.bids", fix="check fmri.bids.derivatives, task and space, or remove the "
                         "subject from the sheet.")
    spaces = {match.group(1) for run in runs if (match := re.search(r"_space-([A-Za-z0-9]+)_", run.name))}
    if len(spaces) > 1:
        raise InputError(f"runs in several spaces ({', '.join(sorted(spaces))}).", file=root, subject=subject,
                         field="fmri.bids.space", fix="set fmri.bids.space to one of them.")
    return runs


def confounds_path(run: Path) -> Path:
    """fMRIPrep's confounds table of a run: entities up to the space, then desc-confounds."""
    stem = re.split(r"_space-|_res-|_desc-preproc", run.name)[0]
    for suffix in ("_desc-confounds_timeseries.tsv", "_desc-confounds_regressors.tsv"):
        candidate = run.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return run.with_name(stem + "_desc-confounds_timeseries.tsv")


def load_image(path: Path, subject: str, field: str) -> nib.Nifti1Image:
    """Load a NIfTI header and data, turning any failure into an error that names the file."""
    try:
        image = cast(nib.Nifti1Image, nib.load(path))  # nibabel types load() as any FileBasedImage
        image.get_fdata(dtype=np.float32)
    except Exception as error:  # nibabel raises several unrelated types for corrupt files
        raise InputError(f"unreadable NIfTI ({type(error).__name__}: {error}).", file=path, subject=subject,
                         field=field, fix="re-run the preprocessing or re-copy the file; check it opens "
                         "with nibabel.load().get_fdata().") from error
    return image


def repetition_time(run: Path, image: nib.Nifti1Image, subject: str) -> float:
    """TR in seconds from the JSON sidecar, else from the NIfTI header; must be positive."""
    sidecar = Path(re.sub(r"\.nii(\.gz)?$", ".json", str(run)))
    tr: float | None = None
    if sidecar.is_file():
        tr = json.loads(sidecar.read_text()).get("RepetitionTime")
    if tr is None and len(image.header.get_zooms()) > 3:
        zoom = float(image.header.get_zooms()[3])
        unit = image.header.get_xyzt_units()[1]
        tr = zoom / 1000.0 if unit == "msec" else zoom
    if tr is None or not np.isfinite(tr) or float(tr) <= 0:
        raise InputError(f"missing or non-positive repetition time ({tr!r}).", file=sidecar if sidecar.is_file()
                         else run, subject=subject, field="RepetitionTime",
                         fix="write RepetitionTime (seconds) in the run's JSON sidecar or the NIfTI pixdim[4].")
    return float(tr)


def read_labels(labels_file: str | Path | None, label_values: np.ndarray) -> list[str]:
    """Region names for the atlas values, from a TSV with columns index and name."""
    if labels_file is None:
        return [f"region-{int(value)}" for value in label_values]
    table = pd.read_csv(labels_file, sep="\t")
    if not {"index", "name"} <= set(table.columns):
        raise InputError("the atlas label table needs columns 'index' and 'name'.", file=labels_file,
                         field="fmri.bids.atlas_labels", fix="write a TSV with a header 'index<TAB>name'.")
    names = dict(zip(table["index"].astype(int), table["name"].astype(str), strict=True))
    missing = [int(value) for value in label_values if int(value) not in names]
    if missing:
        raise InputError(f"atlas values without a name: {missing[:10]}.", file=labels_file,
                         field="fmri.bids.atlas_labels", fix="add a row for each label value in the atlas.")
    return [names[int(value)] for value in label_values]


def read_confounds(path: Path, columns: list[str], subject: str, n_volumes: int,
                   need_motion: bool = False) -> tuple[np.ndarray | None, pd.DataFrame | None]:
    """Selected confound columns (fMRIPrep's leading n/a, in derivative terms, become 0) and the whole table.

    With ``need_motion`` the table must exist and hold the six realignment parameters (for FD).
    """
    if not columns and not need_motion and not path.is_file():
        return None, None
    if not path.is_file():
        raise InputError("the confounds table of this run is missing.", file=path, subject=subject,
                         field="fmri.bids.confounds", fix="copy fMRIPrep's *_desc-confounds_timeseries.tsv "
                         "beside the run, or set fmri.bids.confounds to [].")
    table = pd.read_csv(path, sep="\t")
    absent = [column for column in columns + (list(MOTION_PARAMETERS) if need_motion else [])
              if column not in table.columns]
    if absent:
        raise InputError(f"confound columns not in the table: {', '.join(absent)}.", file=path, subject=subject,
                         field="fmri.bids.confounds", fix="use column names from the table's header.")
    if len(table) != n_volumes:
        raise InputError(f"{len(table)} confound rows for {n_volumes} volumes.", file=path, subject=subject,
                         field="fmri.bids.confounds", fix="use the confounds table written with this run.")
    return (table[columns].fillna(0.0).to_numpy(dtype=float) if columns else None), table


def parcellate_subject(*, derivatives: str | Path, subject: str, task: str, space: str | None,
                       atlas: str | Path, atlas_labels: str | Path | None, confounds: list[str],
                       motion: MotionOptions, cleaning: CleaningOptions,
                       resample_atlas: bool) -> tuple[pd.DataFrame, float, dict]:
    """Regional mean time series of all of a subject's runs, concatenated; returns (series, TR, quality).

    ``quality``: mean and maximum FD (mm, NaN without realignment parameters), volumes in total and
    retained after scrubbing (volumes with FD above ``motion.scrub_fd_mm`` are dropped), atlas label values.
    """
    from nilearn.image import resample_to_img
    from nilearn.maskers import NiftiLabelsMasker

    atlas_path = Path(atlas)
    if not atlas_path.is_file():
        raise InputError("the atlas does not exist.", file=atlas_path, field="fmri.bids.atlas",
                         fix="point fmri.bids.atlas to a label NIfTI.")
    atlas_image = load_image(atlas_path, subject, "fmri.bids.atlas")
    blocks: list[np.ndarray] = []
    trs: set[float] = set()
    names: list[str] = []
    displacements: list[np.ndarray] = []
    n_total = 0
    columns = list(dict.fromkeys(motion.regressors() + list(confounds)))
    for run in find_runs(derivatives, subject, task, space):
        image = load_image(run, subject, "bold")
        if image.ndim != 4:
            raise InputError(f"expected a 4-D BOLD image, got shape {image.shape}.", file=run, subject=subject,
                             field="bold", fix="give the preprocessed 4-D run.")
        tr = repetition_time(run, image, subject)
        trs.add(round(tr, 6))
        labels_image = atlas_image
        if atlas_image.shape[:3] != image.shape[:3] or not np.allclose(
                atlas_image.affine, image.affine, atol=AFFINE_TOLERANCE_MM):
            if not resample_atlas:
                raise InputError(
                    f"atlas grid (shape {atlas_image.shape[:3]}) differs from the BOLD grid (shape "
                    f"{image.shape[:3]}) or their affines differ.", file=atlas_path, subject=subject,
                    field="fmri.bids.atlas", fix=f"resample the atlas to {run.name} with nearest-neighbour "
                    "interpolation, or set fmri.bids.resample_atlas: true.")
            labels_image = resample_to_img(atlas_image, image, interpolation="nearest",
                                           force_resample=True, copy_header=True)
        label_values = np.unique(np.asarray(labels_image.dataobj)).astype(int)
        label_values = label_values[label_values != 0]
        masker = NiftiLabelsMasker(labels_img=labels_image, standardize=cleaning.nilearn_standardize(),
                                   detrend=cleaning.detrend, low_pass=cleaning.low_pass,
                                   high_pass=cleaning.high_pass, t_r=tr, resampling_target=None,
                                   keep_masked_labels=False)
        regressors, table = read_confounds(confounds_path(run), columns, subject, image.shape[3],
                                           need_motion=motion.scrub_fd_mm is not None)
        n_total += image.shape[3]
        keep = None
        if table is not None and set(MOTION_PARAMETERS) <= set(table.columns):
            displacement = framewise_displacement(table, motion.head_radius_mm)
            displacements.append(displacement)
            if motion.scrub_fd_mm is not None:
                keep = np.flatnonzero(displacement <= motion.scrub_fd_mm)
                if keep.size < 10:
                    raise InputError(f"scrubbing at FD > {motion.scrub_fd_mm} mm leaves {keep.size} volumes.",
                                     file=run, subject=subject, field="fmri.bids.scrub_fd_mm",
                                     fix="raise the threshold or exclude the subject from the sheet.")
        series = masker.fit_transform(image, confounds=regressors, sample_mask=keep)
        if series.shape[1] != len(label_values):
            raise InputError(f"{len(label_values)} atlas labels but {series.shape[1]} regions extracted.",
                             file=atlas_path, subject=subject, field="fmri.bids.atlas",
                             fix="some labels fall outside the image; remove them from the atlas.")
        names = read_labels(atlas_labels, label_values)
        blocks.append(series)
    if len(trs) != 1:
        raise InputError(f"runs have different TRs: {sorted(trs)}.", file=Path(derivatives) / f"sub-{subject}",
                         subject=subject, field="RepetitionTime", fix="restrict fmri.bids.task/space to runs "
                         "with one TR.")
    fd = np.concatenate(displacements) if displacements else np.array([np.nan])
    frame = pd.DataFrame(np.concatenate(blocks, axis=0), columns=names)
    quality = {"mean_fd_mm": float(np.mean(fd)), "max_fd_mm": float(np.max(fd)), "n_volumes_total": n_total,
               "n_volumes_retained": len(frame), "label_values": [int(value) for value in label_values]}
    return frame, trs.pop(), quality
