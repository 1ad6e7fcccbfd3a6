"""Exact computation for the normal-normal hierarchical model (NNHM) and meta-regression,
without sampling. Never imports PyMC.

Model: y ~ N(X beta, diag(s^2) + tau^2 I), beta ~ N(m, V) (V diagonal; flat components
have V^-1 = 0), tau ~ any one-dimensional prior.

Given tau (Roever 2020, J Stat Softw 93(6); Roever & Friede 2023, Comput Methods Programs
Biomed 229:107303), with W = diag(1 / (s^2 + tau^2)):

    P(tau)      = X'WX + V^-1                       posterior precision of beta
    b(tau)      = P^-1 (X'Wy + V^-1 m)               posterior mean of beta
    log p(y|tau) = -1/2 [ log|W^-1| + log|P| + y'Wy + m'V^-1 m - b'P b ] + const

so p(tau | y) is known up to a constant on one dimension. It is tabulated on an adaptive
grid (a geometric pass over [0, T] with T doubled until the density is negligible, then a
refinement placed by the coarse posterior CDF) and normalised by the trapezoid rule. Every
other marginal is then a finite mixture of normals over tau: the grid's posterior mass is
split into G equal-probability bins, each represented by its median tau (a midpoint rule
on the probability scale, Roever's DIRECT idea of bounded differences between
neighbouring conditionals).

Marginals given tau:
    c'beta         ~ N(c'b, c'P^-1 c)                      pooled / strata / coefficients
    theta_new(c)   ~ N(c'b, c'P^-1 c + tau^2)              predictive
    theta_i        ~ N((1-B_i) y_i + B_i x_i'b, s_i^2 tau^2/(s_i^2+tau^2) + B_i^2 x_i'P^-1 x_i),
                     B_i = s_i^2 / (s_i^2 + tau^2)          shrinkage
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from ..model.gaussian import adaptive_grid
from ..models import ModelData
from ..posterior import GridMarginal, MixtureMarginal, Posterior
from ..priors import Prior
from .common import typical_within_variance

__all__ = ["can_fit", "conditionals", "fit_exact", "log_marginal_tau", "prior_precision", "typical_within_variance"]

N_COMPONENTS = 256
N_COARSE = 160
N_FINE = 600
TAIL_POWER = 4


def _structure_reason(random_dist: str, by_group: bool, population: bool) -> str:
    """Why the exact engine cannot fit a model of this structure ("" when it can)."""
    if random_dist != "normal":
        return "Student-t random effects need MCMC"
    if by_group:
        return "heterogeneity by group needs MCMC"
    if population:
        return "a population random effect needs MCMC"
    return ""


def can_fit(spec) -> tuple[bool, str]:
    """Whether the exact engine can fit this spec, and why not (the structure checks are
    those of the model-level check in `fit_exact`; priors are read from the spec, before
    they are resolved per coefficient)."""
    m = spec.model
    why = _structure_reason(m.random_dist, m.heterogeneity != "shared", bool(m.population))
    if why:
        return False, why
    for name in ("mu", "beta"):
        pr = getattr(spec.priors, name)
        if not pr.is_normal_or_flat:
            return False, f"the {name} prior {pr.describe()} is not normal or flat"
    for name, pr in spec.priors.coef.items():
        if not pr.is_normal_or_flat:
            return False, f"the prior on {name} is not normal or flat"
    return True, ""


def _can_fit_model(md: ModelData) -> tuple[bool, str]:
    """Whether the exact engine can fit this model data (priors resolved), and why not."""
    why = _structure_reason(md.random_dist, md.het_column is not None, md.pop_column is not None)
    if why:
        return False, why
    for name, pr in zip(md.coef_names, md.coef_priors, strict=True):
        if not pr.is_normal_or_flat:
            return False, f"the prior on {name} {pr.describe()} is not normal or flat"
    return True, ""


def _normal_equations(md: ModelData, m0: np.ndarray, vinv: np.ndarray, tau: np.ndarray):
    """For each tau: W (G,k), P (G,p,p) and r = X'Wy + V^-1 m (G,p) of the module docstring."""
    s2 = md.s**2
    W = 1.0 / (s2[None, :] + tau[:, None] ** 2)  # (G,k)
    X, y = md.X, md.y
    P = np.einsum("gk,ki,kj->gij", W, X, X) + np.diag(vinv)[None]
    r = (W * y) @ X + (vinv * m0)[None]
    return W, P, r


def conditionals(md: ModelData, m0: np.ndarray, vinv: np.ndarray, tau: np.ndarray):
    """For each tau (G values): the posterior mean of beta b (G,p), its covariance P^-1
    (G,p,p) and log p(y | tau) up to a constant (G,), on the log-HR scale; `m0` and `vinv`
    are the prior means and precisions of beta (precision 0 = flat)."""
    W, P, r = _normal_equations(md, m0, vinv, tau)
    y = md.y
    L = np.linalg.cholesky(P)
    Pinv = np.linalg.inv(P)
    b = np.einsum("gij,gj->gi", Pinv, r)
    logdetP = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(-1)
    quad = (W * y**2).sum(-1) + float((vinv * m0**2).sum()) - np.einsum("gi,gi->g", b, r)
    loglik = -0.5 * (-np.log(W).sum(-1) + logdetP + quad)
    return b, Pinv, loglik


def _spd_solve(P: np.ndarray, R: np.ndarray) -> np.ndarray:
    """P^-1 R for a stack of small symmetric positive definite P (G,p,p), R (G,p,m):
    Gaussian elimination without pivoting (stable for SPD), vectorised over G; for the
    p <= a few coefficients of a meta-regression much faster than batched LAPACK calls."""
    A, Z = P.copy(), R.copy()
    p = A.shape[-1]
    for j in range(p):
        for i in range(j + 1, p):
            f = A[:, i, j] / A[:, j, j]
            A[:, i, j:] -= f[:, None] * A[:, j, j:]
            Z[:, i] -= f[:, None] * Z[:, j]
    for j in reversed(range(p)):
        Z[:, j] = (Z[:, j] - np.einsum("gk,gkm->gm", A[:, j, j + 1:], Z[:, j + 1:])) / A[:, j, j][:, None]
    return Z


def shift_terms(md: ModelData, m0: np.ndarray, vinv: np.ndarray, tau: np.ndarray, c: np.ndarray,
                log_weight: bool = True):
    """How the fit given tau moves when every study's log-HR is shifted, y -> y - delta
    (a fixed common bias delta). With W, P, b as in the module docstring (at delta = 0),
    g = X'W1 and h = P^-1 g:

        b(delta)             = b - delta h                (P does not depend on y)
        log p(y - delta|tau) = log p(y|tau) + delta a1 - delta^2 a2 / 2,
        a1 = 1'W(y - X b),   a2 = 1'W1 - g'h              (exactly quadratic in delta)

    so for the contrast c, c'beta | tau, y - delta ~ N(c'b - delta c'h, c'P^-1 c).
    Returns c'b, c'h, c'P^-1 c, a1, a2 (each (G,); a1, a2 None unless `log_weight`). With a flat prior on an intercept,
    h = e_0 and a1 = a2 = 0: the tau posterior does not move, only the intercept shifts."""
    W, P, r = _normal_equations(md, m0, vinv, tau)
    g = W @ md.X
    Z = _spd_solve(P, np.stack([r, g, np.broadcast_to(c, r.shape)], axis=-1))
    b, h = Z[..., 0], Z[..., 1]
    a1 = a2 = None
    if log_weight:
        a1 = W @ md.y - np.einsum("gi,gi->g", g, b)  # 1'W(y - X b)
        a2 = W.sum(-1) - np.einsum("gi,gi->g", g, h)
    return b @ c, h @ c, Z[..., 2] @ c, a1, a2


def prior_precision(md: ModelData) -> tuple[np.ndarray, np.ndarray]:
    """(m, V^-1 diagonal) of the coefficients' normal priors; 0, 0 for flat components."""
    m0, sd0 = md.prior_moments()
    vinv = np.where(np.isfinite(sd0), 1.0 / sd0**2, 0.0)
    return np.where(np.isfinite(sd0), m0, 0.0), vinv


def check_identified(md: ModelData, vinv: np.ndarray) -> None:
    """Raise a ModelError when flat priors leave the coefficients unidentified (k <= p)."""
    if np.all(vinv == 0) and md.k <= md.p:
        raise ModelError(f"k = {md.k} studies cannot identify {md.p} coefficients with flat priors; give [priors] mu/beta a normal prior or drop a covariate")


def component_levels(n_components: int = N_COMPONENTS) -> tuple[np.ndarray, np.ndarray]:
    """Where the mixture over tau puts its G = n_components components: the tau posterior's
    quantiles at u = 1 - (1 - v)^TAIL_POWER for the midpoints v of G equal bins (components
    thin out in the bulk and crowd into the upper tail of tau, where predictive spreads and
    tail probabilities are decided), with weights du/dv / G. Returns (u, weights)."""
    v = (np.arange(n_components) + 0.5) / n_components
    u = 1.0 - (1.0 - v) ** TAIL_POWER
    w = TAIL_POWER * (1.0 - v) ** (TAIL_POWER - 1) / n_components
    return u, w / w.sum()


def grid_quantiles(x: np.ndarray, dens: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Quantiles at `u` of each row of `dens` (n, len(x)), densities tabulated on the grid
    `x`: row by row the same numbers as ``GridMarginal(x, row).quantile(u)`` (trapezoid CDF,
    inverted by linear interpolation over its strictly increasing points), for n densities
    at once. Returns (n, len(u))."""
    cum = np.concatenate([np.zeros((len(dens), 1)),
                          np.cumsum(np.diff(x) * (dens[:, 1:] + dens[:, :-1]) / 2, axis=1)], axis=1)
    cum /= cum[:, -1:]
    first = np.concatenate([np.ones((len(dens), 1), bool), np.diff(cum, axis=1) > 0], axis=1)
    # one interpolation for all rows: row i's CDF and probabilities offset by 2 i
    off = 2.0 * np.arange(len(dens))[:, None]
    return np.interp(u[None, :] + off, (cum + off)[first], np.broadcast_to(x, cum.shape)[first])


def log_marginal_tau(md: ModelData, m0, vinv, tau_prior: Prior, tau: np.ndarray) -> np.ndarray:
    """log p(tau | y) up to a constant."""
    _, _, ll = conditionals(md, m0, vinv, tau)
    with np.errstate(divide="ignore"):
        return ll + tau_prior.logpdf(tau)


def _tau_grid(md: ModelData, m0, vinv, prior: Prior) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive grid of tau and the normalised posterior density on it
    (`bayesnet.model.gaussian.adaptive_grid`)."""
    scale = float(max(np.std(md.y), np.median(md.s), 1e-3))
    upper = prior.params["upper"] if prior.dist == "uniform" else np.inf
    lower = prior.params.get("lower", 0.0) if prior.dist == "uniform" else 0.0
    return adaptive_grid(lambda g: log_marginal_tau(md, m0, vinv, prior, g), scale, lower, upper,
                         N_COARSE, N_FINE, TAIL_POWER)


def fit_exact(md: ModelData, spec, evidence=None, n_components: int = N_COMPONENTS,
              studies: bool = True) -> Posterior:
    """Fit the NNHM / meta-regression of `md` exactly (its priors and settings resolved by
    build_model_data; `spec` is recorded on the Posterior). See the module docstring.
    `studies=False` skips the per-study (shrinkage) marginals: refits that need only the
    pooled and predictive effect (tipping points, bias curves) stay O(k) in memory."""
    ok, why = _can_fit_model(md)
    if not ok:
        raise ModelError(f"the exact engine cannot fit this model: {why}; use the mcmc engine")
    m0, vinv = prior_precision(md)
    check_identified(md, vinv)
    fixed = not md.random
    if fixed:
        tau_c = np.array([0.0])
        w = np.array([1.0])
        tau_marg = None
    else:
        x, dens = _tau_grid(md, m0, vinv, md.tau_prior)
        tau_marg = GridMarginal(x, dens, scale="raw")
        u, w = component_levels(n_components)
        tau_c = tau_marg.quantile(u)
    b, Pinv, _ = conditionals(md, m0, vinv, tau_c)
    t2 = tau_c**2
    marg: dict = {}

    def lin(c):
        mean = b @ c
        var = np.einsum("i,gij,j->g", c, Pinv, c)
        return mean, var

    mean, var = lin(md.contrast())
    marg[("pooled",)] = MixtureMarginal(mean, np.sqrt(var), w)
    marg[("predictive",)] = MixtureMarginal(mean, np.sqrt(var + t2), w)
    for j, name in enumerate(md.coef_names[1:], start=1):
        marg[("coef", name)] = MixtureMarginal(b[:, j], np.sqrt(Pinv[:, j, j]), w)
    for cov, lev in md.strata():
        mean, var = lin(md.contrast(cov, lev))
        marg[("stratum", cov, lev)] = MixtureMarginal(mean, np.sqrt(var), w)
        marg[("stratum_predictive", cov, lev)] = MixtureMarginal(mean, np.sqrt(var + t2), w)
    s2 = md.s**2
    for i, st in enumerate(md.studies if studies else ()):
        B = s2[i] / (s2[i] + t2)
        xb = b @ md.X[i]
        xPx = np.einsum("i,gij,j->g", md.X[i], Pinv, md.X[i])
        mean = (1 - B) * md.y[i] + B * xb
        var = s2[i] * t2 / (s2[i] + t2) + B**2 * xPx
        marg[("study", st)] = MixtureMarginal(mean, np.sqrt(np.maximum(var, 1e-300)), w)
    if tau_marg is not None:
        marg[("tau",)] = tau_marg
        s2t = typical_within_variance(md.s)
        marg[("i2",)] = tau_marg.transformed(lambda t: t**2 / (t**2 + s2t))
    return Posterior(engine="exact", spec=spec, evidence=evidence, model_data=md, marginals=marg,
                     diagnostics={"passed": True, "method": "quadrature over tau",
                                  "grid_points": 0 if fixed else len(tau_marg.x),
                                  "mixture_components": len(w)},
                     extras={"tau_components": tau_c, "weights": w})
