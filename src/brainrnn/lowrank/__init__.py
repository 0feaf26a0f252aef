"""Developmental low-rank RNNs and tiny GRUs on reward-learning tasks (the low-rank framework of seed 002;
tiny RNNs after Ji-An, Benna & Mattar, Nature 2025).

Leaky tanh networks with recurrent weights W = m nᵀ + M Nᵀ (rank 1 + r) in a ``premature`` (r 8,
slow spectral decay) and a ``mature`` configuration (r 5, fast decay), beside tiny GRUs (1–4 units)
and fitted cognitive models, on reversal learning, a two-stage task and a drifting bandit, in two
modes: ``fit`` (predict a generating agent's or a subject's next choice) and ``act`` (choose and
learn from reward). Modules: ``agents`` (generating agents and cognitive models, scipy maximum
likelihood; no torch), ``choices`` (choice tables: split, read, check), ``behaviour`` (stay
probabilities, model-based indices, adaptation after reversals; no torch), ``model`` (networks and
regularisers), ``train`` (schedules of the one trainer, torch), ``analysis`` (spectra, heterogeneity,
closed-loop play), ``bridge`` (linear dynamics of fMRI time series), ``summary`` and ``figures`` (no
torch). This module holds the family's vocabulary and imports nothing heavy.
"""

from brainrnn.spectra import RANK_DEFINITIONS
from brainrnn.tasks.catalogue import task_names

TITLE = "Low-rank developmental RNNs"
"""The report category of the family's figures."""
FIGURES = ("spectra", "rank", "adaptation", "two_stage", "nll")
"""Stage figures ``lowrank_<name>``, drawn by ``brainrnn.lowrank.figures.<name>_figure``."""
TASKS = task_names("reward")
MODES = ("fit", "act")
"""``fit``: the network predicts the next choice of a generating agent (or of a subject), loss = NLL,
early stopping on held-out sessions; ``act``: the network chooses and learns from reward (policy
gradient with a learned baseline)."""
DEVELOPMENTAL = ("premature", "mature")
"""The two low-rank configurations (rank, spectral decay and regulariser weights in config)."""
CONFIGURATIONS = (*DEVELOPMENTAL, "gru")
"""Network configurations; ``gru`` = tiny GRUs of every size in ``lowrank.gru.units``."""
AGENTS = ("q_learning", "model_based", "hybrid", "bayesian")
"""Generating agents and cognitive models: model-free Q-learning with perseveration, model-based and
hybrid (weight w) for the two-stage task, Bayesian latent-state inference for reversal learning."""
COGNITIVE_MODELS = {"reversal": ("q_learning", "bayesian"), "two_stage": ("q_learning", "model_based", "hybrid"),
                    "bandit": ("q_learning",)}
"""The cognitive models that apply to each task (fitted by maximum likelihood on the same folds)."""
SPLITS = ("train", "validation", "test")
STAY_CONDITIONS = ("common_rewarded", "rare_rewarded", "common_unrewarded", "rare_unrewarded")
"""Two-stage conditions of the previous trial: transition (common / rare) × outcome (rewarded / not)."""
__all__ = ["AGENTS", "COGNITIVE_MODELS", "CONFIGURATIONS", "DEVELOPMENTAL", "FIGURES", "MODES", "RANK_DEFINITIONS",
           "SPLITS", "STAY_CONDITIONS", "TASKS", "TITLE"]


def gru_name(units: int) -> str:
    """The configuration folder of a tiny GRU of ``units`` units (``gru-2``)."""
    return f"gru-{units}"
