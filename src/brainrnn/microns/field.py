"""One MICrONS field: soma positions, the synapse connectome and functional similarity matrices.

Files follow the layout of the CorticalBlueprintRNN repository (``info/<session>_<scan>_<field>/``,
see ``../shared/data/microns/README.md``). Three defects of the reference notebook are fixed here:

* the connectome's rows and columns are in the order of ``list(set(root_ids))`` (CPython set
  iteration), not of ``root_ids``; we recompute that order and put the connectome in functional
  order, the order of every other file;
* positions are an object array of (x, y, z) voxel triples; we stack them into (N, 3) (the
  notebook's ``reshape(3, -1)`` scrambles them) and convert voxels of (4, 4, 40) nm to µm;
* the STTC file holds only the lower triangle; we mirror it.

Neurons without any in-field synapse (zero strength) are kept; regularisers that normalise by
strength treat their normalisation as 0 instead of the notebook's 1e-10 (which creates entries of
about 1e5 that dominate the communicability).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from brainrnn.errors import InputError
from brainrnn.io import atomic_path

VOXEL_NM = np.array([4.0, 4.0, 40.0])
FIELD_PATTERN = re.compile(r"^\d+_\d+_\d+$")


@dataclass
class Field:
    """A field in functional order: N neurons, positions in µm, directed synapse counts (row = pre)."""

    name: str
    positions_um: np.ndarray
    connectome: np.ndarray
    corr: np.ndarray
    sttc: np.ndarray
    precision: np.ndarray
    grid: tuple[int, int, int]

    @property
    def n_neurons(self) -> int:
        return int(self.positions_um.shape[0])

    def save(self, path: str | Path) -> None:
        with atomic_path(path) as tmp, open(tmp, "wb") as stream:
            np.savez(stream, name=self.name, positions_um=self.positions_um, connectome=self.connectome,
                     corr=self.corr, sttc=self.sttc, precision=self.precision, grid=np.array(self.grid))

    @classmethod
    def load(cls, path: str | Path) -> Field:
        with np.load(path, allow_pickle=False) as saved:
            first, second, third = (int(v) for v in saved["grid"])
            return cls(str(saved["name"]), saved["positions_um"], saved["connectome"], saved["corr"], saved["sttc"],
                       saved["precision"], (first, second, third))

    def quality(self) -> dict[str, float | int]:
        """Checks that the geometry and wiring agree: connected pairs should lie closer than random pairs."""
        distances = np.linalg.norm(self.positions_um[:, None] - self.positions_um[None], axis=-1)
        connected = (self.connectome + self.connectome.T) > 0
        off_diagonal = ~np.eye(self.n_neurons, dtype=bool)
        strength = self.connectome.sum(axis=1)
        return {"n_neurons": self.n_neurons, "n_synapse_pairs": int((self.connectome > 0).sum()),
                "mean_distance_connected_um": float(distances[connected & off_diagonal].mean())
                if (connected & off_diagonal).any() else float("nan"),
                "mean_distance_all_um": float(distances[off_diagonal].mean()),
                "n_zero_out_strength": int((strength == 0).sum()),
                "sttc_symmetric": bool(np.allclose(self.sttc, self.sttc.T))}


def connectome_row_order(root_ids: np.ndarray) -> np.ndarray:
    """``perm[k]`` = functional index of connectome row k, the row order being ``list(set(root_ids))``."""
    ids = [int(value) for value in root_ids]
    if len(set(ids)) != len(ids):
        raise InputError("duplicate root IDs; the connectome order cannot be recovered.", field="root_ids",
                         fix="use the field's root_ids file as shipped.")
    position = {value: index for index, value in enumerate(ids)}
    return np.array([position[value] for value in list(set(ids))], dtype=np.int64)


def to_functional_order(connectome: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """Reorder rows and columns: A_func[perm[i], perm[j]] = A[i, j]."""
    ordered = np.zeros_like(connectome)
    ordered[np.ix_(permutation, permutation)] = connectome
    return ordered


def parse_grid(inf_md: str | Path, field: str) -> tuple[int, int, int]:
    """The grid factorisation of a field's neuron count from ``INF.md``."""
    session, scan, number = field.split("_")
    for line in Path(inf_md).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[:3] == [session, scan, number] and len(cells) >= 5:
            sizes = [int(value) for value in re.findall(r"\d+", cells[4])]
            if len(sizes) != 3:
                raise InputError(f"the grid of field {field} reads '{cells[4]}', not three sizes.", file=inf_md,
                                 field="grid", fix="write the field's grid as three sizes, e.g. (11, 4, 2).")
            return sizes[0], sizes[1], sizes[2]
    raise InputError(f"field {field} is not listed.", file=inf_md, field="microns.fields",
                     fix="choose a field listed in INF.md (session_scan_field).")


def verify_checksums(folder: str | Path, field: str, checksums: Mapping[str, str], *, manifest: str) -> None:
    """Refuse a field whose files differ from their manifest SHA-256 (a shipped field edited or damaged)."""
    for name, expected in checksums.items():
        path = Path(folder) / field / name
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != expected.lower():
            raise InputError(f"checksum mismatch: expected {expected.lower()}, got {digest}.", file=path,
                             field="microns.source", fix=f"restore the file as listed in {manifest} "
                             "(git checkout resources/microns), or use microns.source: download.")


def load_field(folder: str | Path, field: str, inf_md: str | Path) -> Field:
    """Load ``<folder>/<field>/`` (the repository's ``info/`` layout) in functional order."""
    if not FIELD_PATTERN.match(field):
        raise InputError(f"'{field}' is not a field name.", field="microns.fields",
                         fix="name fields session_scan_field, e.g. 6_6_2.")
    root = Path(folder) / field
    files = {"connectome": root / f"connectome_{field}.csv", "positions": root / f"positions_{field}.npy",
             "root_ids": root / f"root_ids_{field}.npy", "corr": root / "corr_matrix.npy",
             "sttc": root / "sttc_matrix.npy", "precision": root / "precision_matrix.npy"}
    for key, path in files.items():
        if not path.is_file():
            raise InputError(f"missing {key} file.", file=path, field="microns",
                             fix="download the field (fmri-like manifest in resources/) or fix microns.folder.")
    connectome = pd.read_csv(files["connectome"], index_col=0).to_numpy()
    # positions are an object array of int triples: pickle is needed, the file is checksum-verified first
    positions = np.asarray(np.load(files["positions"], allow_pickle=True).tolist(), dtype=float)
    root_ids = np.load(files["root_ids"])
    n_neurons = len(root_ids)
    if connectome.shape != (n_neurons, n_neurons) or positions.shape != (n_neurons, 3):
        raise InputError(f"sizes disagree: {n_neurons} root IDs, connectome {connectome.shape}, positions "
                         f"{positions.shape}.", file=root, field="microns", fix="re-download the field.")
    sttc = np.load(files["sttc"])
    lower = np.tril(sttc, -1)
    return Field(name=field, positions_um=positions * VOXEL_NM / 1000.0,
                 connectome=to_functional_order(connectome, connectome_row_order(root_ids)),
                 corr=np.load(files["corr"]), sttc=lower + lower.T + np.eye(n_neurons),
                 precision=np.load(files["precision"]), grid=parse_grid(inf_md, field))


def synthetic_field(n_neurons: int = 120, *, seed: int = 0, n_factors: int = 5, length_um: float = 80.0,
                    n_samples: int = 4000) -> Field:
    """A column-like field made offline: the demo stand-in for a MICrONS field.

    Somata fill a cylinder (radius 200 µm, depth 600 µm); synapse counts fall off with distance,
    p = 0.3 exp(−d / length_um); activity comes from ``n_factors`` latent signals whose loadings
    vary smoothly in space plus the synaptic drive, giving correlation, an STTC-like co-activation
    score (correlation of thresholded activity) and a precision matrix (inverse shrunk covariance).
    """
    rng = np.random.default_rng(seed)
    radius = 200.0 * np.sqrt(rng.random(n_neurons))
    angle = 2 * np.pi * rng.random(n_neurons)
    positions = np.stack([radius * np.cos(angle), radius * np.sin(angle), 600.0 * rng.random(n_neurons)], axis=1)
    distances = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
    probability = 0.3 * np.exp(-distances / length_um)
    np.fill_diagonal(probability, 0.0)
    connectome = (rng.random((n_neurons, n_neurons)) < probability) * rng.integers(1, 5, (n_neurons, n_neurons))
    centres = positions[rng.integers(0, n_neurons, n_factors)]
    loadings = np.exp(-np.linalg.norm(positions[:, None] - centres[None], axis=-1) ** 2 / (2 * 150.0**2))
    latent = rng.standard_normal((n_samples, n_factors))
    activity = latent @ loadings.T + rng.standard_normal((n_samples, n_neurons))
    activity = activity + 0.1 * activity @ (connectome > 0).astype(float)
    corr = np.corrcoef(activity, rowvar=False)
    active = (activity > np.quantile(activity, 0.9, axis=0)).astype(float)
    sttc = np.corrcoef(active, rowvar=False)
    covariance = np.cov(activity, rowvar=False)
    shrunk = 0.9 * covariance + 0.1 * np.trace(covariance) / n_neurons * np.eye(n_neurons)
    return Field(name="synthetic", positions_um=positions, connectome=connectome.astype(np.int64), corr=corr,
                 sttc=sttc, precision=np.linalg.inv(shrunk), grid=grid_factorisation(n_neurons))


def grid_factorisation(n_neurons: int) -> tuple[int, int, int]:
    """A near-cubic (a, b, c) with a·b·c = N, a ≥ b ≥ c (the integer grid of the 'D' control)."""
    best = (n_neurons, 1, 1)
    for c in range(1, int(round(n_neurons ** (1 / 3))) + 1):
        if n_neurons % c:
            continue
        rest = n_neurons // c
        for b in range(c, int(rest**0.5) + 1):
            if rest % b == 0 and max(rest // b, b, c) - min(rest // b, b, c) < max(best) - min(best):
                best = (rest // b, b, c)
    return best
