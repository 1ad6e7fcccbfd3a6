"""The MCMC engine fits the same network model as the exact engine (marked mcmc: slow)."""

import numpy as np
import pytest

from bayesnet.network import fit_network, rankings, read_network
from bayesnet.spec import spec_from_dict
from tests.conftest import TOL, reference_path

pytestmark = pytest.mark.mcmc


def _mcse_mean(chains: np.ndarray) -> float:
    from arviz_stats import mcse

    return float(mcse(chains, method="mean"))


def test_exact_and_mcmc_agree_on_contrasts_sucra_and_tau():
    """Parkinson's network (one three-arm trial), default [mcmc] settings: the gate passes and
    the MCMC means of every contrast against the reference, of tau, and the SUCRAs are within
    TOL["mcse_multiple"] Monte Carlo SEs of the exact posterior (plus the exact SUCRAs' own
    Monte Carlo SE from their 20,000 draws)."""
    net = read_network(reference_path("network/parkinsons_contrast.csv"))
    spec = spec_from_dict({"priors": {"mu": {"dist": "normal", "mu": 0, "sigma": 2},
                                      "tau": {"dist": "half_normal", "sigma": 0.5}}})
    ex = fit_network(net, spec)
    mc = fit_network(net, spec, engine="mcmc")
    assert mc.ok, mc.diagnostics
    k = TOL["mcse_multiple"]
    bc = mc.draws["b_chain"]
    for j, t in enumerate(net.others):
        want = ex.contrast(t, net.reference).mean()
        got = bc[..., j].mean()
        assert abs(got - want) <= k * _mcse_mean(bc[..., j]), t
    tc = mc.draws["tau_chain"]
    assert abs(tc.mean() - ex.tau.mean()) <= k * _mcse_mean(tc)
    r_ex, r_mc = rankings(ex), rankings(mc)
    d = mc.rank_draws()
    T = d.shape[1]
    rank = np.argsort(np.argsort(d, axis=1), axis=1) + 1
    for j, t in enumerate(net.treatments):
        per_draw = ((T - rank[:, j]) / (T - 1)).reshape(bc.shape[:2])
        tol = k * (_mcse_mean(per_draw) + r_ex["sucra_mcse"][t])
        assert abs(r_mc["sucra"][t] - r_ex["sucra"][t]) <= tol, t


def test_mcmc_gate_passes_on_a_26_study_network_and_agrees():
    """Senn 2013 (26 studies, 10 treatments, one three-arm study), default [mcmc] settings:
    the gate passes, and every contrast against the reference agrees with the exact engine
    within TOL["mcse_multiple"] MCSEs."""
    net = read_network(reference_path("network/senn2013.csv"))
    spec = spec_from_dict({"priors": {"mu": {"dist": "normal", "mu": 0, "sigma": 2},
                                      "tau": {"dist": "half_normal", "sigma": 0.5}}})
    ex, mc = fit_network(net, spec), fit_network(net, spec, engine="mcmc")
    assert mc.ok, mc.diagnostics
    bc = mc.draws["b_chain"]
    for j, t in enumerate(net.others):
        assert abs(bc[..., j].mean() - ex.contrast(t, net.reference).mean()) <= \
            TOL["mcse_multiple"] * _mcse_mean(bc[..., j]), t
    tc = mc.draws["tau_chain"]
    assert abs(tc.mean() - ex.tau.mean()) <= TOL["mcse_multiple"] * _mcse_mean(tc)


def test_mcmc_with_a_student_t_prior_on_d():
    """A prior the exact engine cannot take: MCMC fits it; the summary says why the exact
    inconsistency checks are not computed instead of failing."""
    from bayesnet.network import network_summary

    net = read_network(reference_path("network/parkinsons_contrast.csv"))
    spec = spec_from_dict({"priors": {"mu": {"dist": "student_t", "nu": 3, "mu": 0, "sigma": 2},
                                      "tau": {"dist": "half_normal", "sigma": 0.5}}, "mcmc": {"draws": 500}})
    post = fit_network(net, spec, engine="mcmc")
    s = network_summary(post)
    assert s["node_split"] == [] and s["ume"] is None
    assert any("not computed" in w for w in s["warnings"])
    assert s["contrasts"]["2:1"]["hr"]["median"] < 1
