"""What every task is, without building it: name, suite, the epoch analyses look at, named inputs, source.

Importable without torch (the workflow reads it while it parses; the summaries and figures run in
environments without torch). The trial generators in the sibling modules take their metadata from
here, so a task's name and analysis epoch are written once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskInfo:
    """Metadata of one task (as neurogym attaches to its environments).

    ``suite`` groups the tasks one model family trains on; ``analysis_epoch`` is the epoch whose
    states and held input the fixed-point stage analyses by default (the memory-holding epoch);
    ``inputs`` names the input channels (``{k}`` expands to one channel per stimulus or location);
    ``source`` says where the task comes from and what is ours.
    """

    name: str
    suite: str
    analysis_epoch: str
    inputs: tuple[str, ...]
    source: str


CATALOGUE: dict[str, TaskInfo] = {info.name: info for info in (
    TaskInfo("dms", "working_memory", "delay", ("fixation", "stimulus {k}"),
             "delayed match-to-sample; timing and coding ours (the gradient study names no task)"),
    TaskInfo("parametric", "working_memory", "delay", ("fixation", "amplitude"),
             "parametric delayed response of a remembered value; ours"),
    TaskInfo("ndms", "binary_sequence", "sequence", ("bit",),
             "N-delayed match-to-sample on ±1 sequences (Voce, Giannakakis & Clopath, arXiv:2605.10356)"),
    TaskInfo("parity", "binary_sequence", "sequence", ("bit",),
             "N-parity on ±1 sequences (Voce, Giannakakis & Clopath, arXiv:2605.10356)"),
    TaskInfo("one_choice", "cortical", "delay", ("goal {k}", "choice {k}"),
             "one-choice inference, sizes from Shakiba et al. (arXiv:2606.14975); trial logic ours"),
    TaskInfo("go_nogo", "cortical", "delay", ("fixation", "go", "no-go"),
             "Go/NoGo, sizes from Shakiba et al. (arXiv:2606.14975); trial logic ours"),
    TaskInfo("perceptual_dm", "cortical", "stimulus", ("fixation", "evidence 1", "evidence 2"),
             "perceptual decision-making, sizes and coherences from Shakiba et al. (arXiv:2606.14975)"),
    TaskInfo("reversal", "reward", "trials", ("action {k}", "reward"),
             "two-armed reversal learning (Ji-An, Benna & Mattar, Nature 2025): 0.8/0.2, blocks of 20-40 trials"),
    TaskInfo("two_stage", "reward", "trials", ("action {k}", "reward", "state {k}"),
             "two-stage task without a second-stage choice (Ji-An et al. 2025; Miller et al. 2017): common "
             "transition 0.8, reward probabilities as reflected Gaussian walks (sd 0.025 in [0.25, 0.75])"),
    TaskInfo("bandit", "reward", "trials", ("action {k}", "reward"),
             "drifting four-armed bandit (Ji-An et al. 2025): reward probabilities as reflected Gaussian walks, "
             "sudden jumps in the volatile variant; step size and jump rate ours"),
    TaskInfo("sine", "generation", "generation", ("frequency",),
             "sine-wave generation at 1-10 Hz with the frequency as a static input, the teacher task of JEDI's "
             "simulated benchmark (Jamkhandi et al., arXiv:2603.10489, as public reviews describe it); input "
             "coding, timing and scoring ours"),
)}


def task_names(suite: str) -> tuple[str, ...]:
    """The names of the tasks of one suite, in catalogue order."""
    names = tuple(name for name, info in CATALOGUE.items() if info.suite == suite)
    if not names:
        raise ValueError(f"no task suite '{suite}'")
    return names
