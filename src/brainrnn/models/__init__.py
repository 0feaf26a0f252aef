"""Recurrent network models: an ensemble-native leaky rate RNN and its regularisers."""
