"""The JEDI model: a hypernetwork from an embedding to the weights of a rate RNN run on the shared engine.

For each trial, the embedding z (a free parameter with a N(0, I) prior) passes through an MLP whose
output is the RNN's input weights, bias and recurrent weights: with the low-rank head the factors
U, V of W = U Vᵀ / N (rank ≤ r), with the full-rank head (the ablation) all of W. A batch of trials
is one batched forward of :class:`brainrnn.models.rnn.LeakyRNN`: its ensemble axis is the batch, and
``torch.func.functional_call`` substitutes each trial's generated weights (and the readout of the
trial's recording) for the engine's parameters, so gradients flow into the hypernetwork and the
embeddings. The low-rank head's W = U Vᵀ / N is formed once per batch and given to the engine as its
full recurrent matrix (the engine's own low-rank path would form it again at every time step). The model
never sees observed activity: its only input is the task's input, and the rollout is free-running from rest.

Each recording (one simulated network, whose observed units are its own) has its own linear readout
to its observed units; the observation model's link (identity or softplus) is applied by the scorer
(:mod:`brainrnn.jedi.train`). The paper gives no sizes, activation, time step or readout: every choice
here is ours and configurable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from brainrnn.models.rnn import LeakyRNN, RNNShape


@dataclass(frozen=True)
class StudentOptions:
    """Sizes of the generated RNN and the hypernetwork (the ``jedi.model`` config section)."""

    n_hidden: int
    rank: int
    embedding_dim: int
    embedding: str
    hypernetwork_hidden: int
    activation: str
    dt_ms: float
    tau_ms: float
    init_gain: float
    hypernetwork_scale: float
    embedding_init_std: float
    prior_weight: float

    @classmethod
    def from_config(cls, section: Mapping[str, Any]) -> StudentOptions:
        return cls(n_hidden=section["n_hidden"], rank=section["rank"], embedding_dim=section["embedding_dim"],
                   embedding=section["embedding"], hypernetwork_hidden=section["hypernetwork_hidden"],
                   activation=section["activation"], dt_ms=section["dt_ms"], tau_ms=section["tau_ms"],
                   init_gain=section["init_gain"], hypernetwork_scale=section["hypernetwork_scale"],
                   embedding_init_std=section["embedding_init_std"], prior_weight=section["prior_weight"])


def engine_shape(options: StudentOptions, n_inputs: int, n_observed: int, *, low_rank: bool) -> RNNShape:
    """The shape of the generated RNN: the engine's shape with the low-rank or the full-rank recurrence."""
    return RNNShape(n_inputs=n_inputs, n_hidden=options.n_hidden, n_outputs=n_observed,
                    activation=options.activation, dt_ms=options.dt_ms, tau_ms=options.tau_ms,
                    rank=options.rank if low_rank else None, init_gain=options.init_gain)


class Hypernetwork(nn.Module):
    """MLP embedding → flat RNN parameters, split into the engine's parameter tensors per trial.

    The last layer's bias starts at one engine initialisation (so z = 0 is an ordinary random RNN of
    the engine) and its weight at ``scale`` × the default, so embeddings start by perturbing it.
    """

    def __init__(self, shape: RNNShape, embedding_dim: int, hidden: int, scale: float, seed: int) -> None:
        super().__init__()
        template = LeakyRNN(shape, [seed])
        self.names = ["input_weight", "bias"] + (["recurrent"] if shape.rank is None else ["left", "right"])
        self.sizes = {name: tuple(getattr(template, name).shape[1:]) for name in self.names}
        total = sum(int(torch.Size(size).numel()) for size in self.sizes.values())
        generator = torch.Generator().manual_seed(seed)
        self.hidden = nn.Linear(embedding_dim, hidden)
        self.output = nn.Linear(hidden, total)
        with torch.no_grad():
            for layer in (self.hidden, self.output):
                bound = 1.0 / max(layer.in_features, 1) ** 0.5
                layer.weight.uniform_(-bound, bound, generator=generator)
                layer.bias.uniform_(-bound, bound, generator=generator)
            self.output.weight.mul_(scale)
            self.output.bias.copy_(torch.cat([getattr(template, name)[0].flatten() for name in self.names]))

    def forward(self, embeddings: torch.Tensor) -> dict[str, torch.Tensor]:
        """Embeddings (B, d) → {parameter name: (B, *size)}."""
        flat = self.output(torch.tanh(self.hidden(embeddings)))
        parts = torch.split(flat, [int(torch.Size(size).numel()) for size in self.sizes.values()], dim=1)
        return {name: part.reshape(len(embeddings), *self.sizes[name]) for name, part in zip(self.names, parts,
                                                                                               strict=True)}


class JediModel(nn.Module):
    """Embeddings of the training items, the hypernetwork, and one readout per recording.

    ``item_recording`` (items,) gives each item's recording, ``item_row`` its row of the embedding table
    (the item itself, or its context with one embedding per context). ``members`` is 1: the trainer
    sees one model; a batch of items is the generated ensemble.
    """

    item_recording: torch.Tensor
    item_row: torch.Tensor

    def __init__(self, options: StudentOptions, *, n_inputs: int, n_observed: int, n_recordings: int,
                 item_recording: torch.Tensor, item_row: torch.Tensor, low_rank: bool, embedded: bool,
                 seed: int) -> None:
        super().__init__()
        self.options, self.low_rank, self.embedded = options, low_rank, embedded
        self.shape = engine_shape(options, n_inputs, n_observed, low_rank=False)
        self.engine = LeakyRNN(self.shape, [seed])
        self.engine.requires_grad_(False)
        self.hypernetwork = Hypernetwork(engine_shape(options, n_inputs, n_observed, low_rank=low_rank),
                                         options.embedding_dim, options.hypernetwork_hidden,
                                         options.hypernetwork_scale, seed)
        generator = torch.Generator().manual_seed(seed + 1)
        rows = int(item_row.max()) + 1 if len(item_row) else 0
        self.embeddings = nn.Parameter(options.embedding_init_std * torch.randn(rows, options.embedding_dim,
                                                                                 generator=generator)
                                       if embedded else torch.zeros(rows, options.embedding_dim),
                                       requires_grad=embedded)
        self.readout_weight = nn.Parameter(torch.randn(n_recordings, options.n_hidden, n_observed,
                                                       generator=generator) / options.n_hidden)
        self.readout_bias = nn.Parameter(torch.zeros(n_recordings, n_observed))
        self.register_buffer("item_recording", item_recording.long().clone())
        self.register_buffer("item_row", item_row.long().clone())

    @property
    def members(self) -> int:
        return 1

    def item_embeddings(self, items: torch.Tensor) -> torch.Tensor:
        return self.embeddings[self.item_row[items]]

    def weights(self, embeddings: torch.Tensor, recordings: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every engine parameter and the ``alpha`` buffer for a batch of embeddings (B, d): member b is trial b."""
        generated = self.hypernetwork(embeddings)
        if self.low_rank:
            left, right = generated.pop("left"), generated.pop("right")
            generated["recurrent"] = left @ right.transpose(1, 2) / self.shape.n_hidden
        batch = len(embeddings)
        return {**generated, "readout_weight": self.readout_weight[recordings],
                "readout_bias": self.readout_bias[recordings],
                "alpha": self.engine.alpha.expand(batch, -1)}

    def recurrent_weights(self, embeddings: torch.Tensor) -> torch.Tensor:
        """The effective recurrent matrices W (B, N, N) the hypernetwork generates for embeddings (B, d)."""
        return self.weights(embeddings, torch.zeros(len(embeddings), dtype=torch.long))["recurrent"]

    def forward(self, inputs: torch.Tensor, *, trials: torch.Tensor | None = None,
                embeddings: torch.Tensor | None = None, recordings: torch.Tensor | None = None,
                noise: torch.Tensor | None = None,
                running: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Free-running rollouts from the task inputs (T, 1, B, n_inputs) or (T, B, n_inputs).

        Each trial's weights come from its embedding: the embedding of training item ``trials[b]``, or
        ``embeddings[b]`` with ``recordings[b]`` (held-out trials, inferred contexts). Returns the
        readout (T, 1, B, n_observed) and the states (T, 1, B, N), as a one-member engine would.
        """
        if inputs.dim() == 4:
            inputs = inputs[:, 0]
        if embeddings is None:
            if trials is None:
                raise ValueError("give the training items (trials) or their embeddings")
            embeddings, recordings = self.item_embeddings(trials), self.item_recording[trials]
        if recordings is None:
            raise ValueError("embeddings need the recording each trial belongs to")
        members = inputs.unsqueeze(2)  # (T, B, 1, n_inputs): trial b is member b with a batch of one
        extra: dict[str, torch.Tensor] = {}
        if noise is not None:
            extra["noise"] = noise.reshape(noise.shape[0], -1, 1, noise.shape[-1])
        if running is not None:
            extra["running"] = running.reshape(running.shape[0], -1, 1)
        outputs, states = torch.func.functional_call(self.engine, self.weights(embeddings, recordings),
                                                     (members,), extra)
        return outputs.transpose(1, 2), states.transpose(1, 2)

    def decode(self, embedding: torch.Tensor, recording: int) -> LeakyRNN:
        """The one-member engine RNN the hypernetwork generates for one embedding (d,), with the recording's
        readout: what the fixed-point stage analyses."""
        network = LeakyRNN(self.shape, [0])
        with torch.no_grad():
            generated = self.weights(embedding.detach().reshape(1, -1), torch.tensor([recording]))
            for name, value in generated.items():
                if name != "alpha":
                    getattr(network, name).copy_(value)
        return network
