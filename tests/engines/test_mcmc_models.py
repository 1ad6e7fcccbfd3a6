"""Models only the MCMC engine can fit, a refit without recompiling, and the failure gate."""

from pathlib import Path

import pytest

from bayesnet.api import fit, load_spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.mcmc
def test_design_heterogeneity_model():
    post = fit(ROOT / "models" / "ptr_design_heterogeneity.toml", log_likelihood=False)
    assert post.engine == "mcmc"
    s = post.summary()
    assert set(s["tau_by_group"]["levels"]) == {"registry", "institutional"}
    assert set(s["strata"]["source_type"]) == {"registry", "institutional"}


@pytest.mark.mcmc
def test_population_effect_and_refit_reuses_compiled_model():
    spec = load_spec({"data": {"dataset": "gepnet_ptr", "select": "primary"},
                      "model": {"population": "overlap_group"}, "mcmc": {"draws": 500, "tune": 500}})
    p1 = fit(spec, engine="mcmc", log_likelihood=False)
    assert ("omega",) in p1.marginals
    from bayesnet.priors import parse_prior

    spec2 = spec.with_priors(tau=parse_prior({"dist": "half_normal", "sigma": 0.25}, "tau", "scale"))
    p2 = fit(spec2, engine="mcmc", log_likelihood=False)
    assert p2.diagnostics["compiled_now"] is False
    assert p2["tau"].draws.mean() < p1["tau"].draws.mean()  # a tighter prior on tau pulls it down


@pytest.mark.mcmc
def test_failed_diagnostics_are_flagged():
    # 2 chains of 30 draws cannot reach ESS 400: the result must say so
    spec = load_spec({"mcmc": {"draws": 30, "tune": 30, "chains": 2}})
    post = fit(spec, engine="mcmc", log_likelihood=False)
    assert not post.ok
    s = post.summary()
    assert s["status"] == "failed_diagnostics"
    assert any("ESS" in p for p in s["diagnostics"]["problems"])
    assert s["diagnostics"]["suggestion"]
