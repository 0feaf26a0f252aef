"""MICrONS-constrained RNNs (Shakiba et al., arXiv:2606.14975) on cortical-column fields.

Modules: ``field`` (loading a field with the reference notebook's defects fixed, and a synthetic
stand-in), ``model`` (initialisations, distances and penalties of the variants), ``train``
(torch), ``analysis`` (graph measures), ``summary`` and ``figures`` (no torch). This module holds
the family's vocabulary and imports nothing heavy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from brainrnn.errors import InputError
from brainrnn.tasks.catalogue import task_names

TITLE = "MICrONS-constrained RNNs"
"""The report category of the family's figures."""
FIGURES = ("accuracy", "graph")
"""Stage figures ``microns_<name>``, drawn by ``brainrnn.microns.figures.<name>_figure``."""
VARIANTS = ("W*D*C", "WD*C", "WDC", "WD*", "WD", "W", "W*D*C*", "WD*C*", "W*DC*", "W!D*C", "W!D*C*")
"""The source's eleven variants: init ``W*`` bio / ``W!`` permuted bio / ``W`` orthogonal; distance
``D*`` soma / ``D`` grid / none (plain L1); ``C`` communicability penalty / ``C*`` its distribution."""
CONTROLS = ("W0D*C", "W0D*C*")
"""Ours: ``W0`` = 0.95 × identity, the near-diagonal radius-0.95 structure without the connectome."""
MODES = ("faithful", "corrected", "matched")
TASKS = task_names("cortical")
FIELD_FILES = ("connectome_{field}.csv", "positions_{field}.npy", "root_ids_{field}.npy", "corr_matrix.npy",
               "sttc_matrix.npy", "precision_matrix.npy")
"""The files of one field in the ``info/<field>/`` layout of the CorticalBlueprintRNN repository."""
SLUG_PARTS = {"W*": "Wbio", "W!": "Wperm", "W0": "Wdiag", "W": "Worth", "D*": "Dsoma", "D": "Dgrid",
              "C*": "Cemd", "C": "Ccomm"}
NAME = re.compile(r"^(W\*|W!|W0|W)(D\*|D)?(C\*|C)?$")


@dataclass(frozen=True)
class Variant:
    """A variant name split into its initialisation, distance and communicability parts."""

    init: str
    distance: str | None
    communicability: str | None

    @classmethod
    def parse(cls, name: str) -> Variant:
        match = NAME.match(name)
        if not match or name not in VARIANTS + CONTROLS:
            raise InputError(f"unknown MICrONS variant '{name}'.", field="microns.variants",
                             fix=f"use any of: {', '.join(VARIANTS + CONTROLS)}.")
        return cls(*match.groups())

    @property
    def name(self) -> str:
        return self.init + (self.distance or "") + (self.communicability or "")

    @property
    def slug(self) -> str:
        """A file-system-safe name: W*D*C → Wbio-Dsoma-Ccomm."""
        return "-".join(SLUG_PARTS[part] for part in (self.init, self.distance, self.communicability) if part)


def slug(name: str) -> str:
    """The file-system-safe name of a variant (the ``{variant}`` wildcard of its files)."""
    return Variant.parse(name).slug
