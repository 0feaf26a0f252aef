"""fMRI stages: parcellated time series, connectivity, association-sensory gradients, spread, timescales.

Modules: ``timeseries`` and ``bids`` (sources, cleaning, head motion), ``atlases`` (region tables:
names, template maps, centroids), ``connectivity``, ``gradients``, ``timescales``, ``nulls`` (spatial
surrogates), ``quality`` (exclusion), ``group_stats``, ``figures``. This module holds the stage's
vocabulary and imports nothing heavy.
"""

TITLE = "fMRI"
"""The report category of the stage's figures."""
FIGURES = ("gradient_space", "spread_by_group", "timescale_extremity", "group_statistics")
"""Stage figures ``fmri_<name>``, drawn by ``brainrnn.fmri.figures.<name>_figure``."""
