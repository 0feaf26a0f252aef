"""fMRI stages: parcellated time series, connectivity, gradients and timescales."""
