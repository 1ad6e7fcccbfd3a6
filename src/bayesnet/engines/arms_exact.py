"""The exact engine for the arm-level model (`bayesnet.model.arms`): theta = (tau,
baseline SD) integrated by 2-D quadrature (`bayesnet.model.gaussian.integrate_theta`),
everything else in closed form. Deterministic, milliseconds, never imports PyMC; the same
model as the MCMC engine `bayesnet.engines.arms.fit_arms` (tests/arms check agreement
within 4 MCSE).

Marginals (log-HR scale unless stated), each a mixture of normals over the grid nodes:
    ("pooled",)               mu = beta[0], the mean true log-HR at the reference levels
    ("predictive",)           mu + u_new, u_new ~ N(0, tau^2): a new study's true effect
    ("stratum", cov, lev), ("stratum_predictive", cov, lev), ("coef", name)
    ("study", id)             d_i = x_i' beta + u_i, the study's true effect (shrunken)
    ("baseline",)             alpha_mean (ln(-ln S) scale, "raw")
    ("tau",), ("baseline_sd",)   grid marginals ("raw")
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..model.arms import DEFAULT_ARM_PRIORS, ArmModelData, arm_gaussian_model
from ..model.gaussian import conditionals, integrate_theta, random_mixtures
from ..posterior import GridMarginal, MixtureMarginal, Posterior
from ..priors import Prior

__all__ = ["can_fit_arms", "fit_arms_exact"]


def can_fit_arms(priors: dict[str, Prior], arm_priors: dict[str, Prior] | None = None) -> tuple[bool, str]:
    """Whether the exact arm engine can fit these priors (normal or flat on the fixed
    effects), and why not."""
    ap = {**DEFAULT_ARM_PRIORS, **(arm_priors or {})}
    for name, pr in [*priors.items(), ("[arm_model] baseline_mean", ap["baseline_mean"]),
                     ("[arm_model] time_slope", ap["time_slope"])]:
        if pr.kind != "scale" and name not in ("tau", "omega") and not pr.is_normal_or_flat:
            return False, f"the prior on {name} {pr.describe()} is not normal or flat"
    return True, ""


def _grid_marginal(grid, j: int, refine: int = 8) -> GridMarginal:
    """The marginal of theta_j as a density on a grid. 1-D grid: the trapezoid weights over
    their spacing. Tensor grid uniform in eta = asinh(v / c) (spacing h): the density at each
    node value v is mass / (h sqrt(v^2 + c^2)) (exact up to the midpoint rule); between nodes
    its logarithm is interpolated linearly in eta on `refine` points per cell."""
    v, mass = grid.marginal_1d(j)
    if grid.nodes.shape[1] == 1:
        h = np.gradient(v) if len(v) > 1 else np.ones(1)
        return GridMarginal(v, mass / h, scale="raw")
    c = grid.asinh_scale[j]
    eta = np.arcsinh(v / c)
    h = float(np.median(np.diff(eta))) if len(v) > 1 else 1.0
    with np.errstate(divide="ignore"):
        ld = np.log(mass / (h * np.sqrt(v**2 + c**2)))    # density on theta: mass / (h dtheta/deta)
    ok = np.isfinite(ld)
    eta, ld = eta[ok], ld[ok]
    sub = np.linspace(max(eta[0] - h / 2, 0.0), eta[-1] + h / 2, refine * len(eta) + 1)
    lds = np.interp(sub, eta, ld)
    return GridMarginal(c * np.sinh(sub), np.exp(lds - lds.max()), scale="raw")


def fit_arms_exact(md: ArmModelData, priors: dict[str, Prior], arm_priors: dict[str, Prior] | None = None,
                   random: bool = True, spec=None, evidence=None, bias: bool = True, n1d: int | None = None,
                   studies: bool = True) -> Posterior:
    """Fit the arm-level model exactly (module docstring); the Posterior's model_data is
    `md` and extras hold the GaussianModel ("gaussian_model") and grid ("theta_grid")."""
    ok, why = can_fit_arms(priors, arm_priors)
    if not ok:
        raise ModelError(f"the exact engine cannot fit this arm-level model: {why}; use --engine mcmc")
    gm = arm_gaussian_model(md, priors, arm_priors, random=random, bias=bias)
    grid = integrate_theta(gm, n1d=n1d)
    cond = conditionals(gm, grid.nodes, random=studies)
    th = {nm: grid.nodes[:, j] for j, nm in enumerate(gm.theta_names)}
    tau2 = th["tau"] ** 2 if "tau" in th else np.zeros(len(grid.weights))
    w = grid.weights
    p = gm.p
    bhat, Pinv = cond["bhat"], cond["Pinv"]

    def mix(c, extra=None):
        c = np.zeros(p) if c is None else c
        mean = bhat @ c
        var = np.einsum("i,gij,j->g", c, Pinv, c) + (0.0 if extra is None else extra)
        return MixtureMarginal(mean, np.sqrt(np.maximum(var, 1e-300)), w)

    def e(name):
        c = np.zeros(p)
        c[gm.b_index(name)] = 1.0
        return c

    def contrast(cov=None, lev=None):
        c = e("mu")
        if cov is not None and lev != md.reference[cov]:
            c[gm.b_index(f"{cov}:{lev}")] = 1.0
        return c

    marg: dict = {("pooled",): mix(contrast()), ("predictive",): mix(contrast(), tau2)}
    for name in md.coef_names[1:]:
        marg[("coef", name)] = mix(e(name))
    for cov, levels in md.covariates.items():
        for lev in levels:
            marg[("stratum", cov, lev)] = mix(contrast(cov, lev))
            marg[("stratum_predictive", cov, lev)] = mix(contrast(cov, lev), tau2)
    if studies:
        C = np.zeros((md.k, p + gm.q))
        C[:, :md.X.shape[1]] = md.X
        if random:
            C[np.arange(md.k), p + np.arange(md.k)] = 1.0
        m, s, _ = random_mixtures(gm, grid, C, cond=cond)
        for i, st in enumerate(md.studies):
            marg[("study", st)] = MixtureMarginal(m[:, i], np.maximum(s[:, i], 1e-150), w)
    if "baseline_mean" in gm.b_names:
        mb = mix(e("baseline_mean"))
        marg[("baseline",)] = MixtureMarginal(mb.m, mb.s, w, scale="raw")
    for j, nm in enumerate(gm.theta_names):
        marg[(nm,)] = _grid_marginal(grid, j)
    diag = {"passed": True, "method": f"quadrature over ({', '.join(gm.theta_names)})" if gm.d else "closed form",
            "grid_points": len(w), "mixture_components": len(w)}
    return Posterior(engine="exact", spec=spec, evidence=evidence, model_data=md, marginals=marg,
                     diagnostics=diag, extras={"gaussian_model": gm, "theta_grid": grid})
