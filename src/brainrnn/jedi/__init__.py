"""JEDI: one hypernetwork maps a per-trial embedding to the weights of an RNN (Jamkhandi, Korojy, Codol,
Lajoie & Perich, arXiv:2603.10489), checked against networks whose weights and dynamics we know.

Modules: ``simulate`` (teachers' trials observed through noise, torch), ``model`` (the hypernetwork and
the RNN it generates, on the shared engine), ``train`` (teachers, JEDI, its ablations and baselines,
few-shot inference; torch), ``analysis`` (R², fixed points of teachers and decoded networks, torch),
``nwb`` (binned spikes from an NWB file), ``summary`` and ``figures`` (no torch). This module holds the
family's vocabulary and imports nothing heavy.
"""

TITLE = "JEDI: embeddings of RNN weights"
"""The report category of the family's figures."""
FIGURES = ("embedding", "reconstruction", "few_shot", "spectra", "frequency")
"""Stage figures ``jedi_<name>``, drawn by ``brainrnn.jedi.figures.<name>_figure``."""
TEACHERS = ("sine", "memory")
"""The teacher family: a low-rank RNN generating sines at the frequency its static input gives, and one
holding a memory (a task of the registry's working-memory suite)."""
MEMORY_TASKS = ("dms", "parametric")
"""Registry tasks the memory teacher can be trained on."""
FITS = ("jedi", "full_rank", "shared", "per_context")
"""``jedi`` the hypernetwork with the low-rank head; ``full_rank`` the same with a full-rank head (the
ablation); ``shared`` one RNN for every context (the hypernetwork with its embeddings held at 0);
``per_context`` one data-constrained RNN per training context."""
EMBEDDED_FITS = ("jedi", "full_rank")
"""Fits with an embedding per trial: their embeddings are classified and they infer new contexts."""
OBSERVATIONS = ("gaussian", "poisson")
"""``gaussian`` unit activity plus Gaussian noise, read out linearly; ``poisson`` spike counts per bin
with rates from the units' activity, read out through a softplus."""
EMBEDDINGS = ("trial", "context")
"""One embedding per training trial, or one per training context."""
SUMMARY_COLUMNS = ("context", "network", "task", "role", "frequency_hz", "r2_heldout", "r2_heldout_rates",
                   "classification_accuracy", "fixed_point_match", "n_fixed_teacher", "n_fixed_decoded",
                   "n_stable_teacher", "n_stable_decoded", "eigenvalue_distance")
"""The leading columns of ``results/summary/jedi.tsv`` (few-shot and baseline R² columns follow)."""


def few_shot_column(k: int) -> str:
    """The summary column of the held-out R² after inferring a context from ``k`` trials."""
    return f"r2_few_shot_k{k}"


def baseline_column(fit: str) -> str:
    """The summary column of a baseline's (or the ablation's) held-out R²."""
    return f"r2_heldout_{fit}"
