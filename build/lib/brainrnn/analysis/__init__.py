"""Analyses of trained networks: fixed points, Jacobian spectra, energy."""
