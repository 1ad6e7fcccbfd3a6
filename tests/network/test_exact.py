"""The exact network engine against brute force, the pairwise engine and the Gaussian core."""

import numpy as np
import pandas as pd
import pytest

from bayesnet.api import fit
from bayesnet.model.gaussian import conditionals
from bayesnet.network import fit_network, read_network
from bayesnet.network.data import NetworkStudy
from bayesnet.network.exact import block_conditionals
from bayesnet.network.fit import network_gaussian, study_sizes
from bayesnet.spec import spec_from_dict
from tests.conftest import TOL

# a small network with a three-arm study (A, B, C) and a loop: log-HRs vs the baseline arm
THREE_ARM = pd.DataFrame([
    ("S1", "A", None, 0.12), ("S1", "B", -0.30, 0.18), ("S1", "C", -0.55, 0.20),
    ("S2", "A", None, None), ("S2", "B", -0.10, 0.15),
    ("S3", "B", None, None), ("S3", "C", -0.35, 0.22),
    ("S4", "A", None, None), ("S4", "C", -0.20, 0.25),
], columns=["study", "treatment", "log_hr", "se"])
PRIORS = {"mu": {"dist": "normal", "mu": 0, "sigma": 1}, "tau": {"dist": "half_normal", "sigma": 0.5}}


def _brute_force(net, tau_max=2.5, n_tau=500, n_d=161, half=1.6):
    """Posterior moments of d[B], d[C], d[C]-d[B], P(d[B] < 0) and E[tau] by a dense grid over
    (tau, d[B], d[C]) with the likelihood written out: each study's contrasts
    ~ N(X_j d, C_j + tau^2 K_j), C_j with se_0^2 off the diagonal, K_j with 1/2 off it."""
    from scipy.stats import halfnorm, norm

    taus = (np.arange(n_tau) + 0.5) * tau_max / n_tau
    g = np.linspace(-half, half, n_d)
    dB, dC = np.meshgrid(g, g, indexing="ij")
    d = {"A": np.zeros_like(dB), "B": dB, "C": dC}
    logp = np.zeros((n_tau,) + dB.shape)
    for s in net.studies:
        m = s.n_arms - 1
        K = np.full((m, m), 0.5) + 0.5 * np.eye(m)
        mean = np.stack([d[t] - d[s.arms[0]] for t in s.arms[1:]], -1)      # (n_d, n_d, m)
        r = s.y - mean
        for i, t in enumerate(taus):
            V = s.cov + t**2 * K
            Vi = np.linalg.inv(V)
            q = np.einsum("...a,ab,...b->...", r, Vi, r)
            logp[i] += -0.5 * (m * np.log(2 * np.pi) + np.linalg.slogdet(V)[1] + q)
    logp += norm.logpdf(dB, 0, 1)[None] + norm.logpdf(dC, 0, 1)[None] + halfnorm.logpdf(taus, scale=0.5)[:, None, None]
    w = np.exp(logp - logp.max())
    w /= w.sum()
    wd = w.sum(0)
    out = {}
    for name, v in (("B", dB), ("C", dC), ("CB", dC - dB)):
        mu = (wd * v).sum()
        out[name] = (mu, np.sqrt((wd * (v - mu) ** 2).sum()))
    out["pB"] = wd[dB < 0].sum() + 0.5 * wd[dB == 0].sum()
    out["tau"] = (w.sum((1, 2)) * taus).sum()
    return out


def test_three_arm_network_posterior_by_numerical_integration():
    net = read_network(THREE_ARM)
    post = fit_network(net, spec_from_dict({"priors": PRIORS}))
    bf = _brute_force(net)
    tol = TOL["network_brute_force"]
    for name, (e, a) in (("B", ("B", "A")), ("C", ("C", "A")), ("CB", ("C", "B"))):
        m = post.contrast(e, a)
        assert m.mean() == pytest.approx(bf[name][0], abs=tol)
        assert m.sd() == pytest.approx(bf[name][1], abs=tol)
    assert float(post.contrast("B", "A").cdf(0.0)) == pytest.approx(bf["pB"], abs=tol)
    assert post.tau.mean() == pytest.approx(bf["tau"], abs=tol)


def test_multi_arm_covariance_is_used_and_matters():
    """The three-arm study's block: se_0^2 between its contrasts in S, tau^2/2 in G(tau);
    dropping either changes the posterior (so the brute-force test above can fail)."""
    net = read_network(THREE_ARM)
    spec = spec_from_dict({"priors": PRIORS})
    gm = network_gaussian(net, spec)
    assert gm.S[0, 1] == pytest.approx(0.12**2) and gm.S[0, 0] == pytest.approx(0.18**2)
    G = gm.G(np.array([0.4]))
    assert G[0, 1] == pytest.approx(0.4**2 / 2) and G[0, 0] == pytest.approx(0.4**2) and G[1, 2] == 0.0
    full = fit_network(net, spec).contrast("C", "B")
    s1 = net.studies[0]
    dropped = NetworkStudy(s1.name, s1.arms, s1.y, np.diag(np.diag(s1.cov)), s1.n, s1.rows, s1.covariates)
    net_d = type(net)(net.treatments, net.reference, (dropped,) + net.studies[1:], net.table)
    wrong = fit_network(net_d, spec).contrast("C", "B")
    assert abs(wrong.sd() - full.sd()) > 0.01 or abs(wrong.mean() - full.mean()) > 0.01


def test_block_conditionals_equal_the_gaussian_core():
    """The study-block computation gives the core's bhat, Pinv and log p(y | tau)."""
    net = read_network(THREE_ARM)
    gm = network_gaussian(net, spec_from_dict({"priors": PRIORS}))
    taus = np.array([0.0, 0.05, 0.3, 1.7])
    a = block_conditionals(gm, study_sizes(net.studies), taus)
    b = conditionals(gm, taus[:, None])
    for k in ("bhat", "Pinv", "loglik"):
        np.testing.assert_allclose(a[k], b[k], rtol=1e-10, atol=1e-12)


def test_two_treatments_are_exactly_the_pairwise_model():
    """A network of two treatments (one row per study with a comparator) is the pairwise
    random-effects model of bayesnet's engines/exact.py on the same log-HRs: the same HR,
    predictive and tau posteriors."""
    y = [-0.4, -0.1, -0.7, 0.05, -0.3]
    se = [0.2, 0.25, 0.3, 0.15, 0.22]
    rows = pd.DataFrame({"study": [f"s{i}" for i in range(5)], "treatment": "surgery", "comparator": "none",
                         "log_hr": y, "se": se})
    spec = spec_from_dict({"priors": PRIORS, "model": {"effects": "random"}})
    net = read_network(rows)
    post = fit_network(net, spec)
    pair = fit(spec, data=rows[["study", "log_hr", "se"]], engine="exact", frequentist=False)
    for mine, theirs in ((post.contrast("surgery", "none"), pair["pooled"]),
                         (post.contrast("surgery", "none", predictive=True), pair["predictive"]),
                         (post.tau, pair["tau"])):
        assert mine.mean() == pytest.approx(theirs.mean(), abs=TOL["network_vs_pairwise"])
        assert mine.sd() == pytest.approx(theirs.sd(), abs=TOL["network_vs_pairwise"])
        np.testing.assert_allclose(mine.quantile([0.025, 0.5, 0.975]), theirs.quantile([0.025, 0.5, 0.975]),
                                   atol=TOL["network_vs_pairwise"])
    assert post.contrast("none", "surgery").mean() == pytest.approx(-pair["pooled"].mean(), abs=1e-12)


def test_arm_layout_equals_comparator_layout():
    rows = pd.DataFrame({"study": ["a", "b"], "treatment": ["B", "C"], "comparator": ["A", "B"],
                         "log_hr": [-0.2, -0.3], "se": [0.2, 0.3]})
    arms = pd.DataFrame({"study": ["a", "a", "b", "b"], "treatment": ["A", "B", "B", "C"],
                         "log_hr": [None, -0.2, None, -0.3], "se": [None, 0.2, None, 0.3]})
    spec = spec_from_dict({"model": {"effects": "fixed"}, "priors": {"mu": {"dist": "flat"}}})
    p1, p2 = fit_network(read_network(rows), spec), fit_network(read_network(arms), spec)
    assert p1.contrast("C", "A").mean() == pytest.approx(p2.contrast("C", "A").mean(), abs=1e-12)
    # a chain A-B-C, flat priors, fixed effect: the indirect estimate is the sum, variances add
    assert p1.contrast("C", "A").mean() == pytest.approx(-0.5, abs=1e-10)
    assert p1.contrast("C", "A").sd() == pytest.approx(np.hypot(0.2, 0.3), abs=1e-10)


def test_rankings_direction_and_two_treatment_case():
    """Two treatments: P(best) of E is P(HR of E vs A < 1), computed from the mixture, to the
    draws' Monte Carlo error; SUCRA = P(best) when T = 2; rank 1 = the lower HR."""
    from bayesnet.network import rankings

    rows = pd.DataFrame({"study": ["a", "b"], "treatment": "E", "comparator": "A", "log_hr": [-0.3, -0.1],
                         "se": [0.2, 0.25]})
    post = fit_network(read_network(rows), spec_from_dict({"priors": PRIORS}))
    r = rankings(post)
    p = float(post.contrast("E", "A").cdf(0.0))
    assert p > 0.8
    assert r["p_best"]["E"] == pytest.approx(p, abs=4 * r["sucra_mcse"]["E"] + 1e-3)
    assert r["sucra"]["E"] == pytest.approx(r["p_best"]["E"], abs=1e-12)
    assert r["rank_prob"]["A"][1] == pytest.approx(r["p_best"]["E"], abs=1e-12)


def test_tidy_and_xarray_outputs():
    from bayesnet.network import contrasts_table, league_table, to_xarray

    post = fit_network(read_network(THREE_ARM), spec_from_dict({"priors": PRIORS}))
    ds = to_xarray(post)
    assert ds["hr_median"].dims == ("treatment", "comparator")
    assert float(ds["hr_median"].sel(treatment="C", comparator="A")) == pytest.approx(
        float(np.exp(post.contrast("C", "A").quantile([0.5])[0])))
    assert np.isnan(float(ds["hr_median"].sel(treatment="A", comparator="A")))
    tab = contrasts_table(post)
    assert len(tab) == 3 * 2 * 2 and set(tab["kind"]) == {"mean", "predictive"}
    lt = league_table(post)
    assert lt.shape == (3, 3) and all(lt.loc[t, t] == t for t in "ABC")


def test_rankings_are_reproducible_from_the_seed():
    from bayesnet.network import rankings

    net = read_network(THREE_ARM)
    spec = spec_from_dict({"priors": PRIORS})
    a, b = rankings(fit_network(net, spec, seed=5)), rankings(fit_network(net, spec, seed=5))
    c = rankings(fit_network(net, spec, seed=6))
    assert a["sucra"] == b["sucra"] and a["rank_prob"] == b["rank_prob"]
    assert a["sucra"] != c["sucra"]
    assert all(abs(a["sucra"][t] - c["sucra"][t]) < 6 * a["sucra_mcse"][t] for t in "ABC")
