"""The exact network engine: quadrature over tau, a mixture of normals for every contrast.

Given tau the consistency model (`bayesnet.network.model`) is linear-Gaussian, so the basic
parameters have b | tau, y ~ N(bhat(tau), P(tau)^-1) and p(tau | y) is known up to a
constant (the formulas of `bayesnet.model.gaussian`: Lindley & Smith 1972; the restricted
likelihood for flat components, Harville 1974). Here they are evaluated study block by
study block (V = S + tau^2 K is block diagonal, one block per study: O(n) per tau instead of
O(n^3)); `block_conditionals` gives the same numbers as `bayesnet.model.gaussian.conditionals`
(tested). tau is tabulated on the adaptive grid of `bayesnet.engines.exact` (a geometric pass
with the upper end doubled until the density is negligible, refined at equal steps of the
coarse CDF) and the mixture components sit at tau quantiles (`engines.exact.component_levels`),
so a two-treatment network gives the pairwise engine's posterior (tested).

Every contrast E vs A (c = e_E - e_A) is then the mixture sum_g w_g N(c'bhat_g, c'P_g^-1 c),
its predictive adds tau_g^2. Rankings need the joint distribution of all d: they come from
`n_draws` draws of the same mixture (seeded; Monte Carlo error stated with them).
"""

from __future__ import annotations

import math

import numpy as np

from ..engines.exact import TAIL_POWER, component_levels
from ..errors import ModelError
from ..model.gaussian import GaussianModel, adaptive_grid
from ..posterior import GridMarginal

__all__ = ["block_conditionals", "fit_components", "tau_grid"]

_LOG2PI = math.log(2.0 * math.pi)
N_COARSE, N_FINE = 160, 600


def _blocks(gm: GaussianModel, sizes) -> list[tuple[np.ndarray, int]]:
    """Row indices of the study blocks grouped by block size: [(rows (J, m), m), ...]."""
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    out = []
    for m in sorted(set(int(s) for s in sizes)):
        st = starts[np.asarray(sizes) == m]
        out.append((st[:, None] + np.arange(m)[None, :], m))
    return out


def block_conditionals(gm: GaussianModel, sizes, taus) -> dict:
    """bhat (G,p), Pinv (G,p,p) and loglik = log p(y | tau) (G,) for each tau, for a
    GaussianModel whose S and Z G(tau) Z' are block diagonal with blocks of `sizes` rows
    (Z = I and G(tau) = tau^2 K, or no random effects). Same formulas as
    `bayesnet.model.gaussian.conditionals`."""
    taus = np.atleast_1d(np.asarray(taus, float))
    Gn, p, n = len(taus), gm.p, gm.n
    S, X, y = np.asarray(gm.S), np.asarray(gm.X), gm.resid
    K = np.asarray(gm.G(np.array([1.0]))) if gm.q else np.zeros((n, n))
    XVX = np.zeros((Gn, p, p))
    XVy = np.zeros((Gn, p))
    yVy = np.zeros(Gn)
    logdet = np.zeros(Gn)
    t2 = taus**2
    for rows, m in _blocks(gm, sizes):
        Xb, yb = X[rows], y[rows]                             # (J,m,p), (J,m)
        if m == 1:  # two-arm studies: scalar variances, weighted sums by BLAS
            v = S[rows[:, 0], rows[:, 0]][None] + t2[:, None] * K[rows[:, 0], rows[:, 0]][None]   # (G,J)
            if np.any(v <= 0):
                raise ModelError("the covariance of a study's contrasts is not positive definite")
            w = 1.0 / v
            x1, y1 = Xb[:, 0, :], yb[:, 0]
            XVX += (x1.T[None] * w[:, None, :]) @ x1
            XVy += (w * y1[None]) @ x1
            yVy += w @ (y1**2)
            logdet += np.log(v).sum(-1)
            continue
        Sb = S[rows[:, :, None], rows[:, None, :]]           # (J,m,m)
        Kb = K[rows[:, :, None], rows[:, None, :]]
        V = Sb[None] + t2[:, None, None, None] * Kb[None]    # (G,J,m,m)
        try:
            L = np.linalg.cholesky(V)
        except np.linalg.LinAlgError:
            raise ModelError("the covariance of a study's contrasts is not positive definite") from None
        Vi = np.linalg.inv(V)
        ViX = Vi @ Xb[None]                                   # (G,J,m,p)
        XVX += np.einsum("jaq,gjap->gqp", Xb, ViX, optimize=True)
        XVy += np.einsum("gjap,ja->gp", ViX, yb, optimize=True)
        yVy += np.einsum("ja,gjab,jb->g", yb, Vi, yb, optimize=True)
        logdet += 2.0 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum((-1, -2))
    B0inv, b0 = np.asarray(gm.B0inv, float), np.asarray(gm.b0, float)
    P = XVX + B0inv[None]
    rhs = XVy + (B0inv @ b0)[None]
    try:
        LP = np.linalg.cholesky(P)
    except np.linalg.LinAlgError:
        raise ModelError(f"the parameters {', '.join(gm.b_names)} are not identified by the data and their priors "
                         "(flat priors on a treatment no study connects?): give them normal priors") from None
    Pinv = np.linalg.inv(P)
    bhat = np.einsum("gab,gb->ga", Pinv, rhs)
    proper = np.flatnonzero(np.any(B0inv != 0, axis=1))
    ldB = float(np.linalg.slogdet(B0inv[np.ix_(proper, proper)])[1]) if len(proper) else 0.0
    logdetP = 2.0 * np.log(np.diagonal(LP, axis1=1, axis2=2)).sum(-1)
    quad = yVy + float(b0 @ B0inv @ b0) - np.einsum("ga,ga->g", bhat, rhs)
    loglik = -0.5 * ((n - (p - len(proper))) * _LOG2PI + logdet + logdetP - ldB + quad)
    return {"bhat": bhat, "Pinv": Pinv, "loglik": loglik}


def _log_post(gm, sizes, x):
    prior = gm.theta_priors[0]
    with np.errstate(divide="ignore"):
        lp = np.asarray(prior.logpdf(x), float)
    out = np.full(len(x), -np.inf)
    ok = np.isfinite(lp)
    if ok.any():
        out[ok] = block_conditionals(gm, sizes, x[ok])["loglik"] + lp[ok]
    return out


def tau_grid(gm: GaussianModel, sizes, n_coarse: int = N_COARSE, n_fine: int = N_FINE) -> GridMarginal:
    """p(tau | y) on the exact engines' adaptive grid (`bayesnet.model.gaussian.adaptive_grid`,
    same rules and sizes by default), as a GridMarginal on scale "raw"."""
    pr = gm.theta_priors[0]
    sd = float(np.sqrt(np.median(np.diag(np.asarray(gm.S))))) if gm.n else 1.0
    scale = float(max(np.std(gm.resid) if gm.n > 1 else 0.0, sd, 1e-3))
    upper = float(pr.params["upper"]) if pr.dist == "uniform" else np.inf
    lower = float(pr.params.get("lower", 0.0)) if pr.dist == "uniform" else 0.0
    x, dens = adaptive_grid(lambda g: _log_post(gm, sizes, g), scale, lower, upper, n_coarse, n_fine, TAIL_POWER)
    return GridMarginal(x, dens, scale="raw")


def fit_components(gm: GaussianModel, sizes, n_components: int = 256, n_coarse: int = N_COARSE,
                   n_fine: int = N_FINE) -> dict:
    """The mixture over tau: tau marginal (GridMarginal or None for fixed effects), the
    component taus (G,), weights (G,), bhat (G,p) and Pinv (G,p,p). Smaller grids
    (node-splitting fits one model per comparison) trade ~1e-3 accuracy for speed."""
    if gm.d == 0:
        taus, w, tau_m = np.array([0.0]), np.array([1.0]), None
    else:
        tau_m = tau_grid(gm, sizes, n_coarse, n_fine)
        u, w = component_levels(n_components)
        taus = tau_m.quantile(u)
    c = block_conditionals(gm, sizes, taus)
    return {"tau": tau_m, "taus": taus, "weights": w, "bhat": c["bhat"], "Pinv": c["Pinv"]}
