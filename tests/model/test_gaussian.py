"""The Gaussian evidence model core against independent brute-force integration: dense
grids over the fixed effects b and random effects u (the marginal likelihood, conditional
moments), and over theta (1-D tau, 2-D tau and a baseline SD) with the marginal likelihood
written independently as a multivariate normal of y; and a pairwise data set as a
GaussianModel against engines/exact.py's NNHM."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm

from bayesnet.model import GaussianModel, conditional, conditional_random, integrate_theta, linear_mixture, log_marginal
from bayesnet.model.contrast import from_model_data
from bayesnet.posterior import MixtureMarginal
from bayesnet.priors import Prior
from tests.conftest import TOL
from tests.helpers import setup

HN = Prior("half_normal", {"sigma": 0.5}, kind="scale")


def _model(flat_first=True, theta_d=1):
    """n = 4 rows, p = 2 fixed effects (the first flat), q = 2 random effects."""
    y = np.array([-0.4, 0.3, -0.9, 0.1])
    S = np.diag([0.09, 0.16, 0.25, 0.04])
    S[0, 1] = S[1, 0] = 0.03
    X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Z = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    B0inv = np.diag([0.0 if flat_first else 0.5, 1.0 / 0.7**2])
    if theta_d == 1:
        G = lambda th: np.eye(2) * th[0] ** 2  # noqa: E731
        names, priors = ("tau",), (HN,)
    else:
        G = lambda th: np.diag([th[0] ** 2, th[1] ** 2])  # noqa: E731
        names, priors = ("tau", "sigma"), (HN, Prior("half_normal", {"sigma": 1.0}, kind="scale"))
    return GaussianModel(y=y, S=S, X=X, b0=np.array([0.0, 0.2]), B0inv=B0inv, Z=Z, G=G, theta_names=names,
                         theta_priors=priors, b_names=("a", "d"), offset=np.array([0.05, 0.0, -0.1, 0.0]))


def _grid(lo, hi, n=401):
    x = lo + (hi - lo) * (np.arange(n) + 0.5) / n
    return x, (hi - lo) / n


def test_log_marginal_and_conditional_against_a_grid_over_b():
    """log p(y | theta) with one flat and one normal coefficient, and b | theta, y, against
    a 401 x 401 midpoint grid over b of N(y; offset + X b, S + Z G Z') x prior(b)."""
    gm = _model()
    theta = np.array([0.3])
    V = gm.S + gm.Z @ gm.G(theta) @ gm.Z.T
    r = gm.y - gm.offset
    a, ha = _grid(-6.0, 6.0)
    d, hd = _grid(-6.0, 6.0)
    A, D = np.meshgrid(a, d, indexing="ij")
    B = np.stack([A.ravel(), D.ravel()], -1)
    ll = multivariate_normal(np.zeros(4), V).logpdf(r[None, :] - B @ gm.X.T)
    lp = ll + norm(0.2, 0.7).logpdf(B[:, 1])          # flat on a: Lebesgue measure
    top = lp.max()
    w = np.exp(lp - top)
    brute = top + np.log(w.sum() * ha * hd)
    assert log_marginal(gm, theta[None])[0] == pytest.approx(brute, abs=TOL["gaussian_grid_b"])
    w /= w.sum()
    mean = w @ B
    cov = (B - mean).T @ ((B - mean) * w[:, None])
    m, C = conditional(gm, theta)
    np.testing.assert_allclose(m, mean, atol=TOL["gaussian_grid_b"])
    np.testing.assert_allclose(C, cov, atol=TOL["gaussian_grid_b"])


def test_log_marginal_with_proper_prior_is_the_multivariate_normal_of_y():
    gm = _model(flat_first=False, theta_d=2)
    th = np.array([[0.2, 0.5], [0.7, 0.05], [1e-6, 1.3]])
    B0 = np.linalg.inv(gm.B0inv)
    for t, lm in zip(th, log_marginal(gm, th)):
        V = gm.S + gm.Z @ gm.G(t) @ gm.Z.T + gm.X @ B0 @ gm.X.T
        assert lm == pytest.approx(multivariate_normal(gm.offset + gm.X @ gm.b0, V).logpdf(gm.y), abs=1e-10)


def test_conditional_random_against_a_grid_over_b_and_u():
    """(b, u) | theta, y with p = 1 (normal prior), q = 2 random effects: 3-D grid."""
    y = np.array([0.4, -0.2, 0.9])
    S = np.diag([0.2, 0.3, 0.25])
    X = np.ones((3, 1))
    Z = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    gm = GaussianModel(y=y, S=S, X=X, b0=np.array([0.1]), B0inv=np.array([[1.0]]), Z=Z,
                       G=lambda th: np.array([[th[0] ** 2, 0.1], [0.1, 0.5]]), theta_names=("tau",),
                       theta_priors=(HN,), b_names=("mu",))
    theta = np.array([0.6])
    g = np.linspace(-4.0, 4.0, 121)
    h = g[1] - g[0]
    P = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3)
    lp = (multivariate_normal(np.zeros(3), S).logpdf(y[None] - P[:, :1] @ X.T - P[:, 1:] @ Z.T)
          + norm(0.1, 1.0).logpdf(P[:, 0]) + multivariate_normal(np.zeros(2), gm.G(theta)).logpdf(P[:, 1:]))
    w = np.exp(lp - lp.max())
    w /= w.sum()
    mean = w @ P
    cov = (P - mean).T @ ((P - mean) * w[:, None])
    m, C = conditional_random(gm, theta)
    # trapezoid-like rule on a 121^3 grid of a smooth Gaussian integrand (h = 0.067)
    np.testing.assert_allclose(m, mean, atol=1e-6)
    np.testing.assert_allclose(C, cov, atol=1e-6)
    assert h < 0.1


def _brute_theta(gm, axes, c):
    """Posterior of c'b by a dense grid over theta (axes: one 1-D array per theta
    component, uniform spacing) with p(y | theta) written as the multivariate normal of y
    (all b priors proper) and b | theta, y by Gaussian conditioning: (mean, sd,
    cdf at the given points)."""
    B0 = np.linalg.inv(gm.B0inv)
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(axes))
    G = np.stack([gm.G(t) for t in mesh])
    Vy = gm.S + np.einsum("ia,gab,jb->gij", gm.Z, G, gm.Z, optimize=True) + gm.X @ B0 @ gm.X.T
    m_y = gm.offset + gm.X @ gm.b0
    e = gm.y - m_y
    _, logdet = np.linalg.slogdet(Vy)
    sol = np.linalg.solve(Vy, np.broadcast_to(e, (len(mesh), len(e)))[..., None])[..., 0]
    lp = -0.5 * (logdet + sol @ e + len(e) * np.log(2 * np.pi))
    lp = lp + sum(p.logpdf(mesh[:, j]) for j, p in enumerate(gm.theta_priors))
    Cby = B0 @ gm.X.T                                   # cov(b, y)
    K = np.linalg.solve(Vy, np.broadcast_to(Cby.T, (len(mesh),) + Cby.T.shape))   # Vy^-1 cov(y, b)
    mb = gm.b0 + np.einsum("gnp,n->gp", K, e)
    Cb = B0 - np.einsum("pn,gnq->gpq", Cby, K)
    mu_c, var_c = mb @ c, np.einsum("p,gpq,q->g", c, Cb, c)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    return MixtureMarginal(mu_c, np.sqrt(var_c), w)


def _compare(gm, brute, c):
    grid = integrate_theta(gm)
    m, s, w = linear_mixture(gm, grid, c)
    mix = MixtureMarginal(m, s, w)
    assert mix.mean() == pytest.approx(brute.mean(), abs=TOL["gaussian_grid_theta"])
    assert mix.sd() == pytest.approx(brute.sd(), abs=TOL["gaussian_grid_theta"])
    np.testing.assert_allclose(mix.quantile([0.025, 0.5, 0.975]), brute.quantile([0.025, 0.5, 0.975]),
                               atol=TOL["gaussian_grid_theta"])
    np.testing.assert_allclose(grid.weights.sum(), 1.0)


def test_posterior_of_a_contrast_1d_theta_against_a_dense_tau_grid():
    gm = _model(flat_first=False)
    c = np.array([1.0, 1.0])
    t, _ = _grid(0.0, 3.0, 2000)
    _compare(gm, _brute_theta(gm, [t], c), c)


def test_posterior_of_a_contrast_2d_theta_against_a_dense_grid():
    gm = _model(flat_first=False, theta_d=2)
    c = np.array([0.0, 1.0])
    t1, _ = _grid(0.0, 2.5, 400)
    t2, _ = _grid(0.0, 4.5, 400)
    _compare(gm, _brute_theta(gm, [t1, t2], c), c)
    # the theta posterior itself: E[tau | y]
    grid = integrate_theta(gm)
    mesh = np.stack(np.meshgrid(t1, t2, indexing="ij"), -1).reshape(-1, 2)
    from bayesnet.model import log_posterior_theta
    lp = log_posterior_theta(gm, mesh)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    np.testing.assert_allclose(grid.mean(), w @ mesh, atol=2e-3)


def test_fixed_effects_model_has_one_node():
    gm = _model(flat_first=False)
    gm0 = GaussianModel(y=gm.y, S=gm.S, X=gm.X, b0=gm.b0, B0inv=gm.B0inv, Z=np.zeros((4, 0)),
                        G=lambda th: np.zeros((0, 0)), theta_names=(), theta_priors=(), b_names=gm.b_names,
                        offset=gm.offset)
    grid = integrate_theta(gm0)
    assert grid.nodes.shape == (1, 0)
    m, s, w = linear_mixture(gm0, grid, np.array([1.0, 0.0]))
    mb, Cb = conditional(gm0, np.zeros(0))
    assert m[0] == pytest.approx(mb[0]) and s[0] == pytest.approx(np.sqrt(Cb[0, 0]))


@pytest.mark.parametrize("priors", [None, {"mu": {"dist": "flat"}}])
def test_pairwise_data_as_a_gaussian_model_equals_the_nnhm(priors):
    """engines/exact.py's NNHM and the GaussianModel of the same data: pooled and
    predictive quantiles agree to quadrature accuracy (mu normal and flat)."""
    from bayesnet.engines.exact import fit_exact

    md, spec, ev = setup(priors=priors)
    post = fit_exact(md, spec, ev)
    gm = from_model_data(md)
    grid = integrate_theta(gm)
    c = md.contrast()
    m, s, w = linear_mixture(gm, grid, c)
    pooled = MixtureMarginal(m, s, w)
    m2, s2, w2 = linear_mixture(gm, grid, c, extra_var=lambda th: th[0] ** 2)
    pred = MixtureMarginal(m2, s2, w2)
    q = [0.025, 0.5, 0.975]
    np.testing.assert_allclose(pooled.quantile(q), post[("pooled",)].quantile(q), atol=TOL["gaussian_vs_nnhm"])
    np.testing.assert_allclose(pred.quantile(q), post[("predictive",)].quantile(q), atol=TOL["gaussian_vs_nnhm"])
    assert pooled.mean() == pytest.approx(post[("pooled",)].mean(), abs=TOL["gaussian_vs_nnhm"])
    assert pooled.cdf(np.log(0.8)) == pytest.approx(post[("pooled",)].cdf(np.log(0.8)), abs=TOL["gaussian_vs_nnhm"])


def test_random_mixtures_match_conditional_random_node_by_node():
    gm = _model(flat_first=False, theta_d=2)
    from bayesnet.model import random_mixtures
    grid = integrate_theta(gm, n1d=6, n_coarse=6)
    C = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, -1.0]])
    m, s, w = random_mixtures(gm, grid, C)
    for g in (0, len(w) // 2, len(w) - 1):
        mu, cov = conditional_random(gm, grid.nodes[g])
        np.testing.assert_allclose(m[g], C @ mu, atol=TOL["float"])
        np.testing.assert_allclose(s[g] ** 2, np.diag(C @ cov @ C.T), atol=TOL["float"])


def test_block_path_with_a_diagonal_G_equals_the_dense_path():
    """G_diag (the block-by-block whitening of V) gives the dense path's numbers."""
    import dataclasses

    from bayesnet.model import conditionals

    gm = _model(flat_first=True, theta_d=2)
    gd = dataclasses.replace(gm, G_diag=lambda ths: np.asarray(ths, float) ** 2)
    th = np.array([[0.2, 0.5], [0.7, 0.05], [1e-3, 1.3]])
    a, b = conditionals(gm, th, random=True), conditionals(gd, th, random=True)
    for key in ("loglik", "bhat", "Pinv", "mean", "cov"):
        np.testing.assert_allclose(a[key], b[key], atol=TOL["closed_form"], rtol=TOL["closed_form"])


def test_given_blocks_with_a_dense_G_equal_the_dense_path():
    import dataclasses

    from bayesnet.model import conditionals

    gm = _model(flat_first=True, theta_d=2)
    # rows 0, 1 share u_0 and a within-study covariance; rows 2, 3 share u_1
    gb = dataclasses.replace(gm, blocks=(np.array([0, 1]), np.array([2, 3])))
    th = np.array([[0.2, 0.5], [0.7, 0.05]])
    a, b = conditionals(gm, th, random=True), conditionals(gb, th, random=True)
    for key in ("loglik", "bhat", "Pinv", "mean", "cov"):
        np.testing.assert_allclose(a[key], b[key], atol=TOL["closed_form"], rtol=TOL["closed_form"])
