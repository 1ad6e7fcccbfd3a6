"""The exact engine and the MCMC engine agree on the same shipped model within Monte Carlo
error (4 MCSE, MCSE from ArviZ), for mu, tau, the predictive interval and P(HR < 1)."""

from pathlib import Path

import arviz as az
import numpy as np
import pytest

from bayesnet.api import fit

from ..conftest import TOL
from ..helpers import draws_dataset, mcse

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"


@pytest.fixture(scope="module")
def both():
    return fit(SPEC, engine="exact"), fit(SPEC, engine="mcmc", seed=11)


@pytest.mark.mcmc
def test_diagnostics_pass_and_groups_kept(both):
    _, mc = both
    assert mc.ok, mc.diagnostics
    idata = mc.extras["idata"]
    assert "log_likelihood" in idata.children and "log_prior" in idata.children
    assert mc.diagnostics["divergences"] == 0 and mc.diagnostics["chains"] == 4


@pytest.mark.mcmc
def test_mu_tau_agree(both):
    ex, mc = both
    d = mc["pooled"].draws
    assert abs(d.mean() - ex["pooled"].mean()) < TOL["mcse_multiple"] * mcse(d)
    t = mc["tau"].draws
    assert abs(np.median(t) - ex["tau"].quantile([0.5])[0]) < TOL["mcse_multiple"] * mcse(t, "quantile", 0.5)
    assert abs(t.mean() - ex["tau"].mean()) < TOL["mcse_multiple"] * mcse(t)


@pytest.mark.mcmc
def test_predictive_interval_agrees(both):
    ex, mc = both
    d = mc["predictive"].draws
    for p in (0.025, 0.975):
        q_ex = ex["predictive"].quantile([p])[0]
        assert abs(np.quantile(d, p) - q_ex) < TOL["mcse_multiple"] * mcse(d, "quantile", p), p


@pytest.mark.mcmc
def test_probabilities_agree(both):
    ex, mc = both
    for key, t in ((("pooled",), 1.0), (("predictive",), 1.0), (("predictive",), 0.8)):
        ind = (mc[key].draws < np.log(t)).astype(float)
        p_mc, p_ex = ind.mean(), ex.prob(key, t)
        ess = float(az.ess(draws_dataset(ind + 1e-12 * np.random.default_rng(0).normal(size=ind.shape)))["q"])
        mcse = np.sqrt(max(p_mc * (1 - p_mc), 1e-4) / ess)
        assert abs(p_mc - p_ex) < TOL["mcse_multiple"] * mcse + 1e-3, (key, t, p_mc, p_ex)


@pytest.mark.mcmc
def test_summary_same_schema(both):
    ex, mc = both
    a, b = ex.summary(), mc.summary()
    assert set(a) == set(b)
    assert set(a["prob"]["pooled"]) == {"p_hr_lt_1", "p_hr_lt_0.8", "p_hr_gt_1.25"}
    assert b["diagnostics"]["passed"] is True
