"""The MCMC engine for a network: the same GaussianModel sampled with PyMC + nutpie.

    b ~ the [priors] mu prior per basic parameter (and [priors] beta per coefficient)
    tau ~ the [priors] tau prior
    y ~ MvNormal(X b, S + tau^2 K)          (random effects integrated analytically)

Integrating the study effects out is exact for this Gaussian model and avoids the funnel of
a centred parametrisation. The gate is the pairwise engine's (`engines.mcmc.diagnostics_advice`:
R-hat, bulk/tail ESS, divergences) with the default [mcmc] settings; a failed gate is loud
(status "failed_diagnostics").
"""

from __future__ import annotations

import numpy as np

from ..engines.common import convergence
from ..engines.mcmc import diagnostics_advice
from .posterior import NetworkPosterior

__all__ = ["fit_network_mcmc"]


def _prior_rv(pm, name, prior, shape=None):
    kw = {} if shape is None else {"shape": shape}
    if prior.dist == "flat":
        return pm.Flat(name, **kw)
    return prior.pymc(name, dict(prior.params), **kw)


def fit_network_mcmc(net, gm, spec, nspec, seed: int, progress: bool = False) -> NetworkPosterior:
    import nutpie
    import pymc as pm
    import pytensor.tensor as pt

    mc = spec.mcmc
    X, y, S = np.asarray(gm.X), np.asarray(gm.y), np.asarray(gm.S)
    n_d = len(net.others)
    with pm.Model() as model:
        d = _prior_rv(pm, "d", spec.priors.mu, shape=n_d)
        parts = [d]
        if gm.p > n_d:
            parts.append(_prior_rv(pm, "beta", spec.priors.beta, shape=gm.p - n_d))
        b = pm.Deterministic("b", pt.concatenate(parts) if len(parts) > 1 else d)
        mean = pt.dot(X, b)
        if gm.d:
            tau = _prior_rv(pm, "tau", spec.priors.tau)
            K = np.asarray(gm.G(np.array([1.0])))
            cov = S + tau**2 * K
        else:
            cov = S
        pm.MvNormal("y", mu=mean, cov=cov, observed=y)
    cm = nutpie.compile_pymc_model(model)
    idata = nutpie.sample(cm, chains=mc.chains, draws=mc.draws, tune=mc.tune, seed=int(seed),
                          progress_bar=progress, target_accept=mc.target_accept)
    names = ["d"] + (["beta"] if gm.p > n_d else []) + (["tau"] if gm.d else [])
    c = convergence(idata, names)
    problems, suggestion = diagnostics_advice(c["max_r_hat"], c["min_ess_bulk"], c["min_ess_tail"], c["divergences"])
    ds = idata["posterior"].to_dataset()
    bc = ds["b"].values                                             # (chain, draw, p)
    N = bc.shape[0] * bc.shape[1]
    tau_c = ds["tau"].values if gm.d else np.zeros(bc.shape[:2])
    rng = np.random.default_rng(int(seed) + 1)
    draws = {"b": bc.reshape(N, -1), "tau": tau_c.reshape(N), "z_new": rng.standard_normal(N),
             "b_chain": bc, "tau_chain": tau_c}
    diag = {"passed": not problems, "problems": problems, "suggestion": suggestion, "method": "PyMC + nutpie",
            "max_r_hat": c["max_r_hat"], "min_ess_bulk": c["min_ess_bulk"], "min_ess_tail": c["min_ess_tail"],
            "divergences": c["divergences"], "chains": int(bc.shape[0]), "draws": int(bc.shape[1])}
    post = NetworkPosterior("mcmc", net, gm, net.others, spec, nspec, draws=draws, diagnostics=diag, seed=seed)
    post.extras["idata"] = idata
    return post
