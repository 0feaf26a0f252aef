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
FIGURES = ("accuracy", "graph", "contrasts")
"""Stage figures ``microns_<name>``, drawn by ``brainrnn.microns.figures.<name>_figure``."""
VARIANTS = ("W*D*C", "WD*C", "WDC", "WD*", "WD", "W", "W*D*C*", "WD*C*", "W*DC*", "W!D*C", "W!D*C*")
"""The source's eleven variants: init ``W*`` bio / ``W!`` permuted bio / ``W`` orthogonal; distance
``D*`` soma / ``D`` grid / none (plain L1); ``C`` communicability penalty / ``C*`` its distribution."""
BIO_INITS = ("W*", "W!")
"""The source's bio-initialised inits: the variants whose advantage the controls test."""
DIAGONAL_INITS = {
    "W0": "0.95 × identity: a self-excitatory diagonal at the bio-init's spectral radius, no connectome",
    "W*off": "W* with its diagonal zeroed: the off-diagonal (connectome-derived) structure alone",
    "W*shuf": "W* with its off-diagonal entries shuffled among off-diagonal positions, the diagonal kept",
    "W*diag": "diag(W*) alone: W*'s own self-connections, every off-diagonal entry zero",
}
"""Our controls of the bio-initialisation (on field 6_6_2, 99% of W*'s squared norm is on its diagonal).
None is rescaled: each keeps exactly the entries of W* it names, so its spectral radius is what those
entries give (recorded per run as ``init_spectral_radius``)."""
CONTROLS = ("W0D*C", "W0D*C*", "W*offD*C", "W*shufD*C", "W*diagD*C", "W*offD*C*", "W*shufD*C*", "W*diagD*C*")
"""Each diagonal control with the penalty of the source's best bio-initialised variants (D*C and D*C*)."""
MODES = ("faithful", "corrected", "matched")
TASKS = task_names("cortical")
PENALTY_DIAGONAL = ("as_source", "free")
"""How every penalty treats the self-connections: ``as_source`` as the notebook does (the plain L1 "W"
penalty charges |W_ii|, every distance penalty leaves them free since d_ii = 0); ``free`` none charges
them, so the variants differ only off the diagonal."""


@dataclass(frozen=True)
class Protocol:
    """How a mode trains and scores its networks.

    ``loss_steps``: ``last`` scores (loss and accuracy) the final time step only, as the notebook's
    Keras RNN with ``return_sequences=False``; ``response`` scores the whole response epoch (ours).
    ``fixed_dataset``: train on one fixed set of ``training.train_trials`` trials per member, iterated
    in the same order every epoch (the notebook's unshuffled ``tf.data`` batches), instead of fresh
    trials every step. In every mode the input noise is drawn at training only (the notebook's
    ``GaussianNoise`` layer is inactive at evaluation), fresh at every step.
    """

    loss_steps: str
    fixed_dataset: bool


PROTOCOLS = {"faithful": Protocol("last", True), "corrected": Protocol("response", False),
             "matched": Protocol("response", False)}
"""Corrected and matched modes keep our protocol: the response-epoch loss (a denser signal than one
step) and fresh trials (no finite training set to overfit, so the held-out accuracy measures the task)."""
FIELD_FILES = ("connectome_{field}.csv", "positions_{field}.npy", "root_ids_{field}.npy", "corr_matrix.npy",
               "sttc_matrix.npy", "precision_matrix.npy")
"""The files of one field in the ``info/<field>/`` layout of the CorticalBlueprintRNN repository."""
SOURCES = ("synthetic", "shipped", "folder", "download")
"""Where fields come from (``microns.source``); ``shipped`` reads ``resources/microns/<field>/``."""
SLUG_PARTS = {"W*off": "Wbiooff", "W*shuf": "Wbioshuf", "W*diag": "Wbiodiag", "W*": "Wbio", "W!": "Wperm",
              "W0": "Wdiag", "W": "Worth", "D*": "Dsoma", "D": "Dgrid", "C*": "Cemd", "C": "Ccomm"}
NAME = re.compile(r"^(W\*off|W\*shuf|W\*diag|W\*|W!|W0|W)(D\*|D)?(C\*|C)?$")


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
    def penalty(self) -> str:
        """The penalty part of the name ('' for the plain L1 penalty): variants with equal parts differ only
        in their initialisation."""
        return (self.distance or "") + (self.communicability or "")

    @property
    def slug(self) -> str:
        """A file-system-safe name: W*D*C → Wbio-Dsoma-Ccomm."""
        return "-".join(SLUG_PARTS[part] for part in (self.init, self.distance, self.communicability) if part)


def slug(name: str) -> str:
    """The file-system-safe name of a variant (the ``{variant}`` wildcard of its files)."""
    return Variant.parse(name).slug


def chance_level(task: str, one_choice_distractor: str) -> float:
    """Accuracy of a network that ignores the cue: 0.5 on the two-way tasks; on one-choice 1/2 when the
    distractor is always another location, 1/4 + 3/4 × 1/2 = 0.625 when it may be the goal itself."""
    if task == "one_choice" and one_choice_distractor == "any":
        return 0.625
    return 0.5
