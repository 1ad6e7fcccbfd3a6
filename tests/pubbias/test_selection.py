import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import ndtr

from bayesnet.errors import SpecError
from bayesnet.pubbias.selection import (
    ROBMA_WEIGHTFUNCTIONS,
    WeightFunction,
    interval_probs,
    log_lik,
    log_lik_pytensor,
    log_lik_studies,
)

from ..conftest import TOL
from .conftest import DATASETS, load


def weight_at(x, s, wf, omega):
    """Publication weight of an estimate x (x scale) by its one-/two-sided p-value, directly."""
    p = 1 - ndtr(x / s) if wf.sided == "one" else 2 * (1 - ndtr(abs(x) / s))
    # omega in RoBMA order: least significant interval first; steps ascending
    j = sum(p < c for c in wf.steps)  # number of steps the p-value is below
    return omega[j]


wfs = st.sampled_from(ROBMA_WEIGHTFUNCTIONS + (WeightFunction("two", (0.01, 0.05, 0.2)),))


@settings(max_examples=60, deadline=None)
@given(wf=wfs, mu=st.floats(-1.5, 1.5), tau=st.floats(0, 1.0), s=st.floats(0.03, 1.0),
       y=st.floats(-3, 3), seed=st.integers(0, 2**31 - 1), direction=st.sampled_from(["negative", "positive"]))
def test_likelihood_matches_numerical_integration(wf, mu, tau, s, y, seed, direction):
    v = abs(y) / s if wf.sided == "two" else -y / s if direction == "negative" else y / s
    assume(np.min(np.abs(v - wf.crit_z())) > 1e-9)  # not on a cut-off (p exactly a step)
    omega = wf.sample_omega(1, np.random.default_rng(seed))[0]
    omega = np.maximum(omega, 1e-3)  # quad cannot resolve weights of 1e-12 next to 1
    sg = -1.0 if direction == "negative" else 1.0
    sd = np.hypot(s, tau)
    m = sg * mu
    dens = lambda x: weight_at(x, s, wf, omega) * np.exp(-0.5 * ((x - m) / sd) ** 2) / (sd * np.sqrt(2 * np.pi))
    cuts = s * wf.crit_z()
    pts = np.concatenate([cuts, -cuts]) if wf.sided == "two" else cuts
    pts = np.sort(np.concatenate([pts, [m]]))
    lo, hi = m - 12 * sd, m + 12 * sd
    inner = [p for p in pts if lo < p < hi]
    norm = integrate.quad(dens, lo, hi, points=inner, epsabs=0, epsrel=1e-12, limit=500)[0]
    x = sg * y
    log_num = np.log(weight_at(x, s, wf, omega)) - 0.5 * ((x - m) / sd) ** 2 - np.log(sd * np.sqrt(2 * np.pi))
    direct = log_num - np.log(norm)
    got = log_lik_studies(np.array([y]), np.array([s]), np.array(mu), np.array(tau), omega, wf, direction)[0]
    assert got == pytest.approx(direct, abs=TOL["selection_quad"])


@pytest.mark.parametrize("wf", ROBMA_WEIGHTFUNCTIONS)
def test_interval_probabilities_sum_to_one(wf):
    rng = np.random.default_rng(1)
    P = interval_probs(rng.normal(0, 1, (50, 1)), rng.uniform(0.05, 2, 50)[:, None] * np.ones(7), rng.uniform(0.05, 1, 7), wf)
    assert np.allclose(P.sum(-1), 1.0, atol=TOL["float"]) and np.all(P >= 0)


@pytest.mark.parametrize("name", DATASETS)
def test_log_likelihood_equals_metafor_selmodel(name, metafor_ref):
    """metafor selmodel(type = "stepfun", alternative = "less") ML fit: our log-likelihood at
    its estimates equals its logLik (metafor's delta: most significant interval first)."""
    d, ref = load(name), metafor_ref[name]["selmodel"]
    wf = WeightFunction("one", (0.025, 0.05, 0.5))
    omega = np.asarray(ref["delta"])[::-1]
    ll = log_lik(d.log_hr, d.se, np.array(ref["mu"]), np.array(np.sqrt(ref["tau2"])), omega, wf, "negative")
    assert float(ll) == pytest.approx(ref["logLik"], abs=TOL["metafor_fit"])


def test_vectorised_shapes_and_pytensor_agree():
    import pytensor
    import pytensor.tensor as pt

    d = load("biased_k14")
    rng = np.random.default_rng(3)
    for wf in (ROBMA_WEIGHTFUNCTIONS[1], ROBMA_WEIGHTFUNCTIONS[5]):  # two- and one-sided
        mus, taus = rng.normal(0, 0.5, 5), rng.uniform(0, 0.5, 5)
        om = wf.sample_omega(5, rng)
        vec = log_lik(d.log_hr, d.se, mus, taus, om, wf)
        mu_t, tau_t, om_t = pt.dscalar(), pt.dscalar(), pt.dvector()
        f = pytensor.function([mu_t, tau_t, om_t], log_lik_pytensor(d.log_hr.to_numpy(), d.se.to_numpy(),
                                                                      mu_t, tau_t, om_t, wf))
        for i in range(5):
            one = log_lik(d.log_hr, d.se, np.array(mus[i]), np.array(taus[i]), om[i], wf)
            assert vec[i] == pytest.approx(float(one), abs=TOL["closed_form"])
            assert float(f(mus[i], taus[i], om[i])) == pytest.approx(float(one), abs=TOL["roundtrip"])


def test_cumulative_dirichlet_prior_is_monotone_and_matches_qmc_map():
    wf = WeightFunction("one", (0.025, 0.05, 0.5))
    om = wf.sample_omega(2000, np.random.default_rng(0))
    assert np.all(np.diff(om, axis=-1) >= 0) and np.allclose(om[:, -1], 1.0)
    u = np.random.default_rng(1).uniform(size=(20000, 4))
    om2 = wf.omega_from_uniform(u)
    assert np.all(np.diff(om2, axis=-1) >= -1e-15)
    # same distribution: means of the cumulated Dirichlet(1,1,1,1) are 1/4, 2/4, 3/4
    assert om2[:, :3].mean(0) == pytest.approx([0.25, 0.5, 0.75], abs=0.01)
    assert om[:, :3].mean(0) == pytest.approx([0.25, 0.5, 0.75], abs=0.02)


def test_bad_weight_function_lists_every_problem():
    with pytest.raises(SpecError) as e:
        WeightFunction("three", (0.5, 0.05), alpha=(1, 1))
    assert len(e.value.problems) == 3  # sided, steps, alpha
    with pytest.raises(SpecError, match="alpha needs 2"):
        WeightFunction("one", (0.05,), alpha=(1.0,))
