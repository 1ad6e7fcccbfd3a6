"""Comparison helpers and the brute-force oracle of the published-analysis tests (the
exact fit of arrays is `tests.helpers.fit_arrays`)."""

import numpy as np

from ..conftest import TOL


def close(a, b, tol=TOL["bayesmeta"]):
    """Agreement to `tol` on the scale of the value: |a - b| <= tol * max(1, |b|)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b))))


def close_interval(a, b, tol=TOL["bayesmeta"]):
    """Interval bounds agree to `tol` of the interval's width."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return bool(np.all(np.abs(a - b) <= tol * (b[1] - b[0])))


def brute_force_nnhm(y, s2, prior_var_mu, tau_logprior, tau_max, n):
    """Independent reference for the exact engine (intercept-only NNHM, mu ~ N(0, V)): a
    trapezoid integration over an n-point uniform tau grid. Returns (tau, density, b, P)
    with b, 1/P the conditional mean and variance of mu given tau."""
    y, s2 = np.asarray(y, float), np.asarray(s2, float)
    tau = np.linspace(0, tau_max, n)
    W = 1 / (s2[None] + tau[:, None] ** 2)
    P = W.sum(1) + 1 / prior_var_mu
    b = (W * y).sum(1) / P
    lp = 0.5 * np.log(W).sum(1) - 0.5 * np.log(P) - 0.5 * ((W * y**2).sum(1) - b**2 * P) + tau_logprior(tau)
    dens = np.exp(lp - lp.max())
    dens /= np.trapezoid(dens, tau)
    return tau, dens, b, P
