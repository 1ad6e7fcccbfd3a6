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


def test_diagnostics_advice_matches_the_failure():
    from bayesnet.engines.mcmc import diagnostics_advice

    probs, adv = diagnostics_advice(1.011, 900, 900, 0)
    assert probs == ["max R-hat 1.011 > 1.01"] and "R-hat" in adv and "diverg" not in adv
    probs, adv = diagnostics_advice(1.0, 120, 900, 0)
    assert "ESS (bulk)" in adv and "diverg" not in adv and "R-hat" not in adv
    probs, adv = diagnostics_advice(1.0, 900, 900, 3)
    assert probs == ["3 divergent transition(s)"] and "target_accept" in adv and "ESS" not in adv
    assert diagnostics_advice(1.0, 900, 900, 0) == ([], "")


@pytest.mark.mcmc
def test_predictive_at_reference_uses_reference_group_tau():
    post = fit(ROOT / "models" / "ptr_design_heterogeneity.toml", log_likelihood=False)
    s = post.summary()
    col = post.model_data.het_column
    ref = post.model_data.reference[col]
    # the headline predictive is the reference stratum's own predictive (same tau draws
    # apart from the new-effect noise), not a new group's
    assert s["predictive"]["hr"]["ci95"] == pytest.approx(s["strata"][col][ref]["predictive"]["hr"]["ci95"], rel=0.1)
    assert "predictive_new_group" in s and "new" in s["predictive_new_group"]["label"]
    w = lambda b: b["hr"]["ci95"][1] / b["hr"]["ci95"][0]
    assert w(s["predictive_new_group"]) > w(s["predictive"])


@pytest.mark.mcmc
def test_student_t_reports_sd_not_scale():
    spec = load_spec({"model": {"random_dist": "student_t", "random_df": 4}, "mcmc": {"draws": 500, "tune": 500}})
    post = fit(spec, engine="mcmc", log_likelihood=False)
    s = post.summary()
    assert s["tau_scale"]["median"] * 2 ** 0.5 == pytest.approx(s["tau_sd"]["median"], rel=1e-6)
    assert s["tau"] == s["tau_sd"] and "tau_scale" in s["tau_label"]


@pytest.mark.mcmc
def test_same_seed_same_draws_even_after_another_fit_reused_the_compiled_model():
    import numpy as np

    from bayesnet.priors import parse_prior

    spec = load_spec({"data": {"dataset": "gepnet_ptr", "select": "primary"},
                      "mcmc": {"draws": 200, "tune": 200, "chains": 2}})
    a = fit(spec, engine="mcmc", log_likelihood=False, frequentist=False)
    other = spec.with_priors(tau=parse_prior({"dist": "half_normal", "sigma": 0.2}, "tau", "scale"))
    fit(other, engine="mcmc", log_likelihood=False, frequentist=False)
    b = fit(spec, engine="mcmc", log_likelihood=False, frequentist=False)
    assert b.diagnostics["compiled_now"] is False
    for q in ("pooled", "tau", "predictive"):
        assert np.array_equal(a[q].draws, b[q].draws), q
