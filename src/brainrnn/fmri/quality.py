"""Subject exclusion by head motion (``fmri.quality``): one rule, applied where subjects are pooled."""

from __future__ import annotations

import math


def exclusion_reason(mean_fd_mm: float, retained_fraction: float, thresholds: dict) -> str:
    """Why a subject is excluded from the group statistics ('' when it is kept).

    A subject whose motion was not measured (no realignment parameters, NaN FD) is kept: the
    thresholds only apply to what was measured.
    """
    reasons = []
    limit = thresholds["max_mean_fd_mm"]
    if limit is not None and not math.isnan(mean_fd_mm) and mean_fd_mm > limit:
        reasons.append(f"mean FD {mean_fd_mm:.3f} mm > {limit} mm")
    least = thresholds["min_retained_fraction"]
    if least is not None and retained_fraction < least:
        reasons.append(f"{100 * retained_fraction:.1f}% of volumes retained < {100 * least:.1f}%")
    return "; ".join(reasons)
