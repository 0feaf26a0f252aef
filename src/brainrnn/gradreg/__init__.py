"""Subject-specific gradient-regularised RNNs (our open version of Abulikemu et al., arXiv:2511.02722).

One recurrent unit per parcel, placed at its region's coordinates in the subject's gradient space
(G1..Gk); a wiring cost charges each connection for its length there. Modules: ``model`` (the
geometry, the variants' distances, the network), ``train`` (torch), ``analysis`` (measures of the
learned wiring), ``summary`` and ``figures`` (no torch). This module holds the family's
vocabulary and imports nothing heavy.
"""

from brainrnn.tasks.catalogue import task_names

TITLE = "Gradient-regularised RNNs"
"""The report category of the family's figures."""
FIGURES = ("learning", "vs_spread", "spectra")
"""Stage figures ``gradreg_<name>``, drawn by ``brainrnn.gradreg.figures.<name>_figure``."""
VARIANTS = ("gradreg", "normalised", "unregularised", "l1", "shuffled", "groupavg")
"""``gradreg`` own gradient distances (in gradient units: a wider gradient charges more);
``normalised`` own distances scaled to unit mean (geometry without strength); ``unregularised`` no
penalty; ``l1`` every distance = the subject's mean distance (a penalty of matched strength without
geometry); ``shuffled`` the subject's coordinates with regions permuted; ``groupavg`` the group
reference gradient's distances."""
CONTROLS = ("l1", "shuffled")
"""The within-subject contrasts of the primary analysis: each geometry variant against these."""
COMPRESSIBLE = ("gradreg", "normalised")
"""Variants the compression experiment runs: G1 rescaled about its centroid by each scale, with raw
(``gradreg``) or renormalised (``normalised``) distances; named ``<variant>-x<scale>``."""


def compression_variant(variant: str, scale: float) -> str:
    """The name of a compression run, e.g. gradreg-x0.75."""
    return f"{variant}-x{scale:g}"


def parse_variant(name: str) -> tuple[str, float | None]:
    """(variant, G1 scale) of a variant name; the scale is None outside the compression experiment."""
    base, _, scale = name.partition("-x")
    if base not in VARIANTS or (scale and base not in COMPRESSIBLE):
        raise ValueError(f"unknown gradient-regularised variant '{name}'")
    return base, float(scale) if scale else None
TASKS = task_names("working_memory")
LEARNING_MEASURES = ("steps_to_criterion", "plateau_loss", "final_accuracy", "alignment", "epoch_energy",
                     "n_fixed_points", "n_slow_points", "n_stable", "max_abs_eigenvalue",
                     "mean_leading_abs_eigenvalue", "attractor_abs_eigenvalue")
"""Per-network measures summarised per variant and correlated with gradient spread across subjects."""
PRIMARY_MEASURES = ("steps_to_criterion", "plateau_loss", "alignment", "epoch_energy", "attractor_abs_eigenvalue")
"""The declared measures of the primary analysis (the source's claims: learning speed, plateau,
alignment, energy and stability at the delay attractors); FDR runs over exactly these."""
SPREAD_MEASURES = ("dispersion", "g1_range")
