"""Differences between two cohorts with intervals, by MOVER (method of variance estimates recovery).

Both build the difference's interval from each group's own interval (Zou & Donner 2008):
    low  = d - sqrt((p1 - l1)^2 + (u2 - p2)^2),   high = d + sqrt((u1 - p1)^2 + (p2 - l2)^2)
- proportions: with Wilson limits this is Newcombe's hybrid score interval (Newcombe 1998, method 10);
- Poisson rates: with exact (Garwood) limits, the exact-based MOVER of Li, Tang & Wong (2014). Chosen over
  the Wald difference, which collapses to (0, 0) at zero events (stack-notes, confint_poisson).
Both assume independent groups: overlapping cohorts make the interval conservative (too wide).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from analysis.intervals import FloatArray, poisson_exact_ci, wilson_ci


def _mover(p1: FloatArray, l1: FloatArray, u1: FloatArray, p2: FloatArray, l2: FloatArray,
           u2: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    d = p1 - p2
    return d, d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


def proportion_difference(x1: ArrayLike, n1: ArrayLike, x2: ArrayLike, n2: ArrayLike,
                          alpha: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """p1 - p2 with Newcombe's hybrid score interval; NaN where a group has no trials."""
    x1, n1, x2, n2 = (np.asarray(v, dtype=np.float64) for v in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_ci(x1, n1, alpha)
    l2, u2 = wilson_ci(x2, n2, alpha)
    return _mover(p1, l1, u1, p2, l2, u2)


def rate_difference(k1: ArrayLike, t1: ArrayLike, k2: ArrayLike, t2: ArrayLike,
                    alpha: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """k1/t1 - k2/t2 with the MOVER interval from exact Poisson limits; NaN where an exposure is 0."""
    k1, t1, k2, t2 = (np.asarray(v, dtype=np.float64) for v in (k1, t1, k2, t2))
    with np.errstate(divide="ignore", invalid="ignore"):
        r1, r2 = k1 / t1, k2 / t2
    l1, u1 = poisson_exact_ci(k1, t1, alpha)
    l2, u2 = poisson_exact_ci(k2, t2, alpha)
    return _mover(r1, l1, u1, r2, l2, u2)
