"""Helpers shared by the engines (no PyMC, no scipy.stats): the typical within-study variance
(exact and MCMC), the diagnostics gate of the two sampling engines (contrast and arm-level)
and the compile settings that make their draws depend on the seed only."""

from __future__ import annotations

import contextlib
import logging
import time

import numpy as np

__all__ = ["ESS_MIN", "RHAT_MAX", "compile_nutpie", "convergence", "reproducible_compile",
           "typical_within_variance"]

log = logging.getLogger("bayesnet")

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


@contextlib.contextmanager
def reproducible_compile():
    """Compile PyTensor/numba code (nutpie's logp and gradient, PyMC's initial-point and
    log-likelihood functions) with numba's fastmath off, so that a seed gives the same
    draws whether the compiled code comes from a cold or a warm compile cache.

    Why: PyTensor compiles with LLVM fast-math flags by default (reassociation,
    contraction into fused multiply-adds, approximate functions). Those let the optimiser
    produce different arithmetic for the same graph depending on what it can see at once:
    compiled cold, every kernel is inlined into one module and optimised together; loaded
    from PyTensor's numba cache, the kernels arrive as separately compiled object code.
    The log density then differs in the last bits (the first draw of mu moved by 7e-11 on
    ptr_random_effects), NUTS trajectories diverge, and P(HR < 0.8) moved from 0.9886 to
    0.9829. Without fast-math LLVM must keep IEEE semantics, so inlined or not the
    arithmetic is the same (tests/engines/test_mcmc_reproducible.py). PyTensor's numba
    cache key includes the fastmath setting, so these kernels never mix with fast-math
    ones compiled elsewhere."""
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        yield


def compile_nutpie(model, what: str = "the model"):
    """nutpie.compile_pymc_model(model) under reproducible_compile, saying what is happening
    (logger "bayesnet", INFO; the command line prints it): compiling takes 15-40 s (once
    per model structure in a process; the most on a first run on a new machine, whose
    compile caches are empty), sampling then takes about a second."""
    import nutpie

    log.info("compiling %s for MCMC (once per model structure in this run; about 15-40 s, "
             "the longest on a first run on a new machine)...", what)
    t = time.perf_counter()
    with reproducible_compile():
        cm = nutpie.compile_pymc_model(model)
    log.info("compiled in %.0f s; sampling...", time.perf_counter() - t)
    return cm
