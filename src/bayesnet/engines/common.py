"""Helpers shared by the engines (no PyMC, no scipy.stats): the typical within-study variance
(exact and MCMC) and the diagnostics gate of the two sampling engines (contrast and arm-level)."""

from __future__ import annotations

import numpy as np

__all__ = ["ESS_MIN", "RHAT_MAX", "convergence", "typical_within_variance"]

RHAT_MAX = 1.01  # the gate: every checked parameter's rank-normalised R-hat at most this
ESS_MIN = 400    # ... and its bulk and tail effective sample size at least this


def typical_within_variance(s: np.ndarray) -> float:
    """The typical within-study variance of log-HRs (Higgins & Thompson 2002, Stat Med
    21:1539-58): s~^2 = (k-1) sum w / ((sum w)^2 - sum w^2), w = 1/s^2; s^2 itself for one
    study. Used for I^2 = tau^2 / (tau^2 + s~^2)."""
    w = 1.0 / s**2
    k = len(s)
    if k < 2:
        return float(s[0] ** 2)
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()))


def convergence(idata, names: list[str]) -> dict:
    """Convergence of the sampled parameters `names` of an ArviZ DataTree: the largest
    R-hat, the smallest bulk and tail ESS over all their elements, the number of divergent
    transitions, and per parameter its largest R-hat and smallest ESS (keys max_r_hat,
    min_ess_bulk, min_ess_tail, divergences, per_parameter)."""
    import arviz as az

    ds = idata["posterior"].to_dataset()[names]
    rhat = az.rhat(ds)
    ess_b = az.ess(ds, method="bulk")
    ess_t = az.ess(ds, method="tail")
    per = {v: {"r_hat": float(np.nanmax(rhat[v].values)), "ess_bulk": float(np.nanmin(ess_b[v].values)),
               "ess_tail": float(np.nanmin(ess_t[v].values))} for v in names}
    return {"max_r_hat": max(d["r_hat"] for d in per.values()),
            "min_ess_bulk": min(d["ess_bulk"] for d in per.values()),
            "min_ess_tail": min(d["ess_tail"] for d in per.values()),
            "divergences": int(idata["sample_stats"]["diverging"].values.sum()),
            "per_parameter": per}
