"""Graph measures of a learned recurrent matrix (bctpy): modularity, small-worldness, assortativity, entropy.

As in the source, the network is the strongest 10% of |W| made undirected (max of |W| and |W|ᵀ).
Small-worldness σ = (C / C_null) / (L / L_null) with binary clustering C and characteristic path
length L = 1 / global efficiency, against two kinds of null (both reported):

* Erdős–Rényi graphs of the same size and density (the notebook's kind), computed once per
  (size, density) and cached: ``small_worldness``;
* degree-preserving rewirings of the network's own graph (Maslov & Sneppen 2002, bctpy's
  ``randmio_und``, each edge rewired about ``REWIRING_PER_EDGE`` times), drawn per network:
  ``small_worldness_degree``. A graph whose clustering only reflects its degree sequence (hubs,
  a heavy-tailed degree distribution) is small-world against Erdős–Rényi nulls but not against these.

The weight entropy is the resubstitution estimate −mean log₂ p̂(|w|) over the non-zero weights,
p̂ a Gaussian KDE with Scott's bandwidth h (scipy's ``gaussian_kde``). Summing the kernel exactly
over the ~10⁵ weights of a 312-neuron field took about a minute per network, longer than its
training; p̂ is therefore evaluated by linear binning onto a grid of ``KDE_POINTS_PER_BANDWIDTH``
points per h, an FFT convolution with the kernel (cut at ±10 h, where it is below 2e-22 of its
peak) and linear interpolation back to the weights. The error falls as (grid step / h)²; at 400
points per h it is below 1e-5 bits (tested against the exact sum). A distribution so spread out
that the grid would exceed ``KDE_MAX_GRID`` points falls back to the exact sum.
"""

from __future__ import annotations

import numpy as np
from scipy import signal, stats

from brainrnn.seeding import derive_seed

TOP_FRACTION = 0.10
KDE_POINTS_PER_BANDWIDTH = 400
KDE_REACH_BANDWIDTHS = 10
KDE_MAX_GRID = 1 << 22
REWIRING_PER_EDGE = 10


def strongest(weight: np.ndarray, fraction: float = TOP_FRACTION) -> np.ndarray:
    """Undirected weighted graph of the strongest ``fraction`` of off-diagonal |W| (weights scaled to max 1)."""
    magnitude = np.abs(np.asarray(weight, dtype=float))
    symmetric = np.maximum(magnitude, magnitude.T)
    np.fill_diagonal(symmetric, 0.0)
    upper = symmetric[np.triu_indices_from(symmetric, 1)]
    keep = max(1, int(round(fraction * upper.size)))
    threshold = np.sort(upper)[-keep]
    graph = np.where(symmetric >= threshold, symmetric, 0.0)
    return graph / graph.max() if graph.max() > 0 else graph


def null_statistics(n_nodes: int, density: float, *, n_nulls: int = 20, seed: int = 0) -> dict[str, float]:
    """Mean binary clustering and global efficiency of Erdős–Rényi graphs of this size and density."""
    import bct

    rng = np.random.default_rng(seed)
    clustering, efficiency = [], []
    for _ in range(n_nulls):
        upper = np.triu(rng.random((n_nodes, n_nodes)) < density, 1)
        graph = (upper | upper.T).astype(float)
        clustering.append(float(np.mean(bct.clustering_coef_bu(graph))))
        efficiency.append(float(bct.efficiency_bin(graph)))
    return {"n_nodes": n_nodes, "density": density, "clustering": float(np.mean(clustering)),
            "efficiency": float(np.mean(efficiency)), "n_nulls": n_nulls}


def degree_preserving_nulls(binary: np.ndarray, n_nulls: int, *, seed: int) -> list[np.ndarray]:
    """``n_nulls`` Maslov–Sneppen rewirings of an undirected binary graph: every node keeps its degree."""
    import bct

    rng = np.random.default_rng(seed)
    return [bct.randmio_und(binary, REWIRING_PER_EDGE, seed=int(rng.integers(2**32)))[0] for _ in range(n_nulls)]


def binary_statistics(graphs: list[np.ndarray]) -> dict[str, float]:
    """Mean binary clustering and global efficiency over ``graphs``."""
    import bct

    return {"clustering": float(np.mean([np.mean(bct.clustering_coef_bu(graph)) for graph in graphs])),
            "efficiency": float(np.mean([bct.efficiency_bin(graph) for graph in graphs]))}


def small_worldness(clustering: float, efficiency: float, null: dict[str, float]) -> float:
    """σ = (C / C_null) / (L / L_null) = (C / C_null) × (E / E_null), with L = 1 / E; NaN for a degenerate null."""
    if not (null["clustering"] > 0 and null["efficiency"] > 0):
        return float("nan")
    return (clustering / null["clustering"]) * (efficiency / null["efficiency"])


def weight_entropy(weight: np.ndarray) -> float:
    """Differential entropy (bits) of the non-zero |W| values, from a Gaussian KDE (see the module docstring)."""
    values = np.abs(np.asarray(weight, dtype=float)).ravel()
    values = values[values > 0]
    if values.size < 3 or np.ptp(values) == 0:
        return float("nan")
    return float(-np.mean(np.log2(kde_at_samples(values))))


def kde_at_samples(values: np.ndarray) -> np.ndarray:
    """scipy's Gaussian KDE of ``values`` (Scott's bandwidth) evaluated at the values themselves, on a grid."""
    bandwidth = float(np.std(values, ddof=1)) * values.size ** -0.2
    step = bandwidth / KDE_POINTS_PER_BANDWIDTH
    low = values.min()
    size = int(np.ceil((values.max() - low) / step)) + 2
    if size > KDE_MAX_GRID:
        return stats.gaussian_kde(values)(values)
    position = (values - low) / step
    index = np.floor(position).astype(np.int64)
    fraction = position - index
    counts = np.bincount(index, 1.0 - fraction, minlength=size) + np.bincount(index + 1, fraction, minlength=size)
    reach = min(size, KDE_REACH_BANDWIDTHS * KDE_POINTS_PER_BANDWIDTH)
    offsets = np.arange(-reach, reach + 1) / KDE_POINTS_PER_BANDWIDTH
    kernel = np.exp(-0.5 * offsets**2) / (values.size * bandwidth * np.sqrt(2.0 * np.pi))
    density = signal.fftconvolve(counts, kernel)[reach:reach + size]
    return (1.0 - fraction) * density[index] + fraction * density[index + 1]


def graph_measures(weight: np.ndarray, nulls: dict[str, float], *, seed: int, n_degree_nulls: int) -> dict[str, float]:
    """Modularity (Louvain), small-worldness against Erdős–Rényi ``nulls`` and against ``n_degree_nulls``
    degree-preserving rewirings of the network's own graph, assortativity and weight entropy."""
    import bct

    graph = strongest(weight)
    binary = (graph > 0).astype(float)
    _, modularity = bct.community_louvain(graph, seed=seed)
    observed = binary_statistics([binary])
    rewired = binary_statistics(degree_preserving_nulls(binary, n_degree_nulls, seed=derive_seed(seed, "rewire")))
    return {"modularity": float(modularity), "clustering": observed["clustering"],
            "global_efficiency": observed["efficiency"],
            "small_worldness": small_worldness(observed["clustering"], observed["efficiency"], nulls),
            "small_worldness_degree": small_worldness(observed["clustering"], observed["efficiency"], rewired),
            "assortativity": float(bct.assortativity_wei(graph, flag=0)),
            "weight_entropy_bits": weight_entropy(weight)}
