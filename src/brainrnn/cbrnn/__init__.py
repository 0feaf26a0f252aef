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
"""``cbrnn`` and ``rnn`` (parameter-matched) learn end to end. ``reservoir`` and ``interleaved`` start
as the CB-RNN (same seeds, same data), learn level 1 as ``level_one`` says, then freeze the core as
``freeze`` says: for good (reservoir), or with the core open for one level every
``interleave_every`` levels (interleaved). Every group trains for the same epoch budget on one axis."""
TRAINED_GROUPS = GROUPS[:2]
FROZEN_GROUPS = GROUPS[2:]
FREEZE_MODES = {"recurrent_only": ("recurrent",), "whole_core": ("input", "recurrent", "bias")}
"""Core parameter groups the freeze stages hold after level 1: the source freezes the recurrent
weights only; ``whole_core`` also holds the input weights and the bias."""
LEVEL_ONE_MODES = {"core_readout": ("input", "recurrent", "bias", "readout"),
                   "everything": ("input", "recurrent", "bias", "readout", "hook")}
"""Parameter groups that learn in the freeze groups' level-1 phase: the source trains core + readout
(the cerebellum does not learn before the freeze); ``everything`` repeats the CB-RNN's own level 1."""
PHASES = ("end_to_end", "level_one", "frozen", "core_open")
"""What learned in an epoch (history column ``phase``): everything (cbrnn, rnn); the level-1 phase
of a freeze group; its frozen phase; an interleaved level with the core open."""
TASKS = task_names("binary_sequence")
ABLATION_CONDITIONS = {"intact": "intact", "no_cerebellum": "cerebellar bias removed",
                       "reinitialised_cerebellum": "cerebellum re-initialised"}
"""Conditions of a trained CB-RNN in the ablation."""
PLAIN_RNN = "plain_rnn"
"""The ablation table's comparator: the parameter-matched RNN of the same seed index, at the same N."""
MODULES = ("core", "granule", "purkinje")
RUN_MEASURES = ("max_level", "final_level", "mean_level", "auc", "epochs_to_half_max", "level_one_epoch")
"""Per-run curriculum measures (on the common epoch axis), summarised with 95% CIs per group."""
DIMENSIONALITY_MEASURES = ("participation_ratio", "timescale_steps")
