"""Cortico-cerebellar RNNs (Voce, Giannakakis & Clopath, arXiv:2605.10356).

A leaky core whose pre-activation receives the additive bias of a cerebellar module, against a
parameter-matched plain RNN, trained through a curriculum of binary-sequence tasks, then frozen,
ablated and measured. Modules: ``model`` (parameter matching, networks), ``train`` (the
curriculum, torch), ``analysis`` (ablation, dimensionality), ``summary`` and ``figures`` (no
torch). This module holds the family's vocabulary and imports nothing heavy.
"""

from brainrnn.tasks.catalogue import task_names

TITLE = "Cortico-cerebellar RNNs"
"""The report category of the family's figures."""
FIGURES = ("levels", "ablation")
"""Stage figures ``cbrnn_<name>``, drawn by ``brainrnn.cbrnn.figures.<name>_figure``."""
GROUPS = ("cbrnn", "rnn", "reservoir", "interleaved")
"""``cbrnn`` and ``rnn`` (parameter-matched) train from scratch; ``reservoir`` and ``interleaved``
start from each CB-RNN's state at the end of level 1 with the core frozen (interleaved: the core
learns again for one level every ``interleave_every`` levels)."""
TRAINED_GROUPS = GROUPS[:2]
FROZEN_GROUPS = GROUPS[2:]
CORE_GROUPS = ("input", "recurrent", "bias")
"""Parameter groups of the recurrent core (frozen in the reservoir stages)."""
TASKS = task_names("binary_sequence")
ABLATION_CONDITIONS = {"intact": "intact", "no_cerebellum": "cerebellar bias removed",
                       "reinitialised_cerebellum": "cerebellum re-initialised"}
MODULES = ("core", "granule", "purkinje")
RUN_MEASURES = ("max_level", "final_level", "mean_level", "auc", "epochs_to_half_max")
