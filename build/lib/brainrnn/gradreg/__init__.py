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
VARIANTS = ("gradreg", "unregularised", "l1", "shuffled", "groupavg")
"""``gradreg`` own gradient distances; ``unregularised`` no penalty; ``l1`` every distance = the
subject's mean distance (a penalty of matched strength without geometry); ``shuffled`` the
subject's coordinates with regions permuted; ``groupavg`` the group reference gradient's distances."""
TASKS = task_names("working_memory")
LEARNING_MEASURES = ("steps_to_criterion", "plateau_loss", "final_accuracy", "alignment", "epoch_energy",
                     "n_fixed_points", "n_stable", "max_abs_eigenvalue", "mean_leading_abs_eigenvalue")
"""Per-network measures correlated with gradient spread across subjects."""
SPREAD_MEASURES = ("dispersion", "g1_range")
