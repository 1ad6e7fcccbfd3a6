"""The network meta-analysis against published and computed references (tests/reference/network)."""

import json

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from bayesnet.network import fit_network, read_network
from bayesnet.network.exact import block_conditionals
from bayesnet.network.fit import network_gaussian, study_sizes
from bayesnet.spec import spec_from_dict
from tests.conftest import TOL, reference_path

FLAT = {"mu": {"dist": "flat"}}
WIDE = {"mu": {"dist": "normal", "mu": 0, "sigma": 100}}


def _net(name):
    return read_network(reference_path(f"network/{name}.csv"))


def _netmeta(name):
    return json.loads(reference_path(f"network/netmeta_{name}.json").read_text())


@pytest.mark.parametrize("name", ["parkinsons", "senn2013"])
def test_fixed_effect_equals_netmeta_common(name):
    """Flat priors, fixed effect: the posterior of every contrast is N(GLS estimate, GLS
    variance), netmeta's common-effect estimate and SE (multi-arm studies included)."""
    net = _net("parkinsons_contrast" if name == "parkinsons" else name)
    ref = _netmeta(name)
    post = fit_network(net, spec_from_dict({"model": {"effects": "fixed"}, "priors": FLAT}))
    ts = ref["treatments"]
    assert list(post.treatments) == ts
    for i, e in enumerate(ts):
        for j, a in enumerate(ts):
            if i == j:
                continue
            m = post.contrast(e, a)
            assert m.mean() == pytest.approx(ref["TE_common"][i][j], abs=TOL["netmeta_gls"])
            assert m.sd() == pytest.approx(ref["seTE_common"][i][j], abs=TOL["netmeta_gls"])


def test_random_effects_given_reml_tau_equal_netmeta_random():
    """Given netmeta's REML tau, flat priors: the conditional posterior mean and SD of every
    contrast are netmeta's random-effects estimate and SE (netmeta adds tau^2 to each pairwise
    variance and corrects multi-arm weights; we use tau^2 K with correlation 1/2)."""
    net, ref = _net("senn2013"), _netmeta("senn2013")
    gm = network_gaussian(net, spec_from_dict({"priors": FLAT}))
    c = block_conditionals(gm, study_sizes(net.studies), [ref["tau"]])
    ts = ref["treatments"]
    others = list(net.others)
    for i, e in enumerate(ts):
        for j, a in enumerate(ts):
            if i == j:
                continue
            v = np.zeros(gm.p)
            if e in others:
                v[others.index(e)] += 1
            if a in others:
                v[others.index(a)] -= 1
            assert c["bhat"][0] @ v == pytest.approx(ref["TE_random"][i][j], abs=TOL["netmeta_gls"] * 100)
            assert np.sqrt(v @ c["Pinv"][0] @ v) == pytest.approx(ref["seTE_random"][i][j], abs=TOL["netmeta_gls"] * 100)


def test_restricted_likelihood_peaks_at_metafor_reml_tau():
    """With flat priors on d our log p(y | tau) is the restricted likelihood (Harville 1974):
    its maximum is metafor's rma.mv REML estimate of tau on the same rows and covariance
    (and its coefficients there are rma.mv's)."""
    net = _net("senn2013")
    ref = json.loads(reference_path("network/metafor_senn2013.json").read_text())
    gm = network_gaussian(net, spec_from_dict({"priors": FLAT}))
    sizes = study_sizes(net.studies)
    res = minimize_scalar(lambda t: -block_conditionals(gm, sizes, [t])["loglik"][0], bounds=(1e-4, 2.0),
                          method="bounded", options={"xatol": 1e-8})
    assert ref["tau"] > 0.1
    assert res.x == pytest.approx(ref["tau"], abs=TOL["netmeta_reml_tau"])
    c = block_conditionals(gm, sizes, [ref["tau"]])
    for j, t in enumerate(net.others):
        assert c["bhat"][0, j] == pytest.approx(ref["b"][t], abs=1e-6)
        assert np.sqrt(c["Pinv"][0, j, j]) == pytest.approx(ref["se"][t], abs=1e-6)


def _published():
    return json.loads(reference_path("network/multinma_parkinsons_published.json").read_text())


@pytest.mark.parametrize("block", ["fixed_contrast", "random_arm"])
def test_parkinsons_tsd2_as_published_by_multinma(block):
    """TSD2 example 7 (Parkinson's, one three-arm trial): d[k] vs placebo (mean, sd, median,
    95% limits) and tau as printed by multinma 0.8.0 with the same priors."""
    pub = _published()[block]
    fixed = block.startswith("fixed")
    spec = {"model": {"effects": "fixed" if fixed else "random"}, "priors": dict(WIDE)}
    if not fixed:
        spec["priors"]["tau"] = {"dist": "half_normal", "sigma": 5}
    post = fit_network(_net("parkinsons_contrast"), spec_from_dict(spec))
    tol = TOL["multinma_fe" if fixed else "multinma_re"]
    for k in ("2", "3", "4", "5"):
        m = post.contrast(k, "1")
        q = m.quantile([0.025, 0.5, 0.975])
        got = {"mean": m.mean(), "sd": m.sd(), "q025": q[0], "q50": q[1], "q975": q[2]}
        for key, want in pub[k].items():
            # tail quantiles of MCMC runs are noisier than means: twice the tolerance
            t = tol * (2 if key in ("q025", "q975") else 1)
            assert got[key] == pytest.approx(want, abs=t), (k, key)
    if not fixed:
        tm = post.tau
        q = tm.quantile([0.025, 0.5, 0.975])
        got = {"mean": tm.mean(), "sd": tm.sd(), "q025": q[0], "q50": q[1], "q975": q[2]}
        for key, want in pub["tau"].items():
            t = tol * (3 if key == "q975" else 1)
            assert got[key] == pytest.approx(want, abs=t), ("tau", key)


def test_parkinsons_rank_probabilities_as_published_by_multinma():
    from bayesnet.network import rankings

    pub = _published()["fixed_contrast_ranks"]
    spec = spec_from_dict({"model": {"effects": "fixed"}, "priors": dict(WIDE)})
    r = rankings(fit_network(_net("parkinsons_contrast"), spec))
    for t, probs in pub["rank_prob"].items():
        assert r["rank_prob"][t] == pytest.approx(probs, abs=TOL["multinma_rank_prob"]), t
        assert r["mean_rank"][t] == pytest.approx(pub["mean_rank"][t], abs=TOL["multinma_mean_rank"]), t
