"""Helpers shared by the exact and the MCMC engine (no PyMC, no scipy.stats)."""

from __future__ import annotations

import numpy as np

__all__ = ["typical_within_variance"]


def typical_within_variance(s: np.ndarray) -> float:
    """The typical within-study variance of log-HRs (Higgins & Thompson 2002, Stat Med
    21:1539-58): s~^2 = (k-1) sum w / ((sum w)^2 - sum w^2), w = 1/s^2; s^2 itself for one
    study. Used for I^2 = tau^2 / (tau^2 + s~^2)."""
    w = 1.0 / s**2
    k = len(s)
    if k < 2:
        return float(s[0] ** 2)
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()))
