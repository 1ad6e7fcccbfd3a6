"""Data for a contour-enhanced funnel plot (Peters et al. 2008, J Clin Epidemiol 61:991-6):
log-HR against its standard error, with the regions where a study's two-sided p-value is
below 0.01, 0.05 and 0.10 around the null (log-HR = 0), and the pooled estimate's funnel.
Plotting itself belongs to ``bayesnet.plots``; this module only computes what is drawn."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

__all__ = ["CONTOUR_LEVELS", "funnel_data"]

CONTOUR_LEVELS = (0.01, 0.05, 0.10)


def funnel_data(y, s, pooled_log_hr: float, studies=None, levels=CONTOUR_LEVELS, n: int = 50,
                label: str | None = None) -> dict:
    """Points, significance contours (log-HR = +-z_{1-p/2} se for each p in `levels`), the 95%
    pseudo-confidence funnel around the pooled log-HR, and the studies outside that funnel
    (labelled on the plot). Units: log-HR; HR = exp. `label` says which analysis the pooled
    HR comes from (the plot's legend: "<label>: <HR>"; default "pooled HR")."""
    y, s = np.asarray(y, float), np.asarray(s, float)
    studies = list(studies) if studies is not None else [f"study {i + 1}" for i in range(len(y))]
    se = np.linspace(0.0, float(s.max()) * 1.05, n)
    contours = {f"{p:g}": {"z": float(-ndtri(p / 2)), "upper": (-ndtri(p / 2) * se).tolist(),
                           "lower": (ndtri(p / 2) * se).tolist()} for p in levels}
    z95 = float(-ndtri(0.025))
    outside = np.abs(y - pooled_log_hr) > z95 * s
    return {"k": len(y), "se_grid": se.tolist(), "contours": contours,
            "pooled": {"log_hr": float(pooled_log_hr), "label": label or "pooled HR", "lower": (pooled_log_hr - z95 * se).tolist(),
                       "upper": (pooled_log_hr + z95 * se).tolist()},
            "points": [{"study": st, "log_hr": float(a), "se": float(b), "outlier": bool(o)}
                       for st, a, b, o in zip(studies, y, s, outside)]}
