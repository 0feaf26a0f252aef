"""Recurrent network models: an ensemble-native leaky rate RNN, its bias hooks and regularisers."""

from brainrnn.models import cerebellum

REGISTERED_HOOKS = (cerebellum,)
"""Modules whose bias hooks register on import, so any saved network can be rebuilt."""
