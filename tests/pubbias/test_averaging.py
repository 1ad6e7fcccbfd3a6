import math

import numpy as np
import pytest
from scipy.special import logsumexp

from bayesnet.errors import SpecError
from bayesnet.pubbias.averaging import (
    EnsembleModel,
    ensemble_models,
    fit_ensemble,
    log_marginal_likelihood,
)
from bayesnet.pubbias.config import parse_publication_bias
from bayesnet.pubbias.selection import WeightFunction, log_lik

from ..conftest import TOL
from .conftest import load

ROBMA_SETTING = {"effect": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
                 "heterogeneity": {"dist": "inv_gamma", "alpha": 1.0, "beta": 0.15}}


def test_robma_prior_model_probabilities():
    models = ensemble_models(parse_publication_bias(None))
    assert len(models) == 36
    pr = {(m.effect, m.heterogeneity, m.bias, m.wf.label if m.wf else None): m.prior_prob for m in models}
    assert sum(pr.values()) == pytest.approx(1.0)
    assert pr[(True, True, "none", None)] == pytest.approx(0.125)
    assert pr[(True, True, "pet", None)] == pytest.approx(0.25 * 0.5 * 0.25)
    assert pr[(False, True, "selection", "one-sided(0.025, 0.05, 0.5)")] == pytest.approx(0.25 * 0.5 / 12)


@pytest.mark.parametrize("bias", ["none", "pet", "peese"])
@pytest.mark.parametrize("het", [False, True])
def test_grid_route_equals_closed_form_route(bias, het):
    """Normal effect prior: mu integrated analytically (exact engine) vs on the quadrature grid."""
    d = load("biased_k14")
    cfg = parse_publication_bias(ROBMA_SETTING)
    m = EnsembleModel(True, het, bias, None, 1.0)
    a = log_marginal_likelihood(d.log_hr, d.se, m, cfg, closed_form=True)
    b = log_marginal_likelihood(d.log_hr, d.se, m, cfg, closed_form=False)
    assert a["log_ml"] == pytest.approx(b["log_ml"], abs=TOL["grid_route_log_ml"])
    ga, da = a["mu_post"]
    gb, db = b["mu_post"]
    assert np.trapezoid(ga * da, ga) == pytest.approx(np.trapezoid(gb * db, gb), abs=TOL["grid_route_mean"])


def test_point_null_model_is_closed_form():
    d = load("unbiased_k8")
    cfg = parse_publication_bias(None)
    r = log_marginal_likelihood(d.log_hr, d.se, EnsembleModel(False, False, "none", None, 1.0), cfg)
    v = d.se.to_numpy() ** 2
    assert r["log_ml"] == pytest.approx(float(np.sum(-0.5 * (np.log(2 * np.pi * v) + d.log_hr.to_numpy() ** 2 / v))))


def test_selection_route_equals_direct_3d_quadrature():
    """effect and heterogeneity present, two-sided(0.05): (mu, tau, omega_1) on a fixed Simpson
    grid vs the adaptive grid with randomised QMC over omega, within 4 Monte Carlo se."""
    d = load("biased_k14")
    y, s = d.log_hr.to_numpy(), d.se.to_numpy()
    cfg = parse_publication_bias(ROBMA_SETTING)
    wf = WeightFunction("two", (0.05,))
    r = log_marginal_likelihood(y, s, EnsembleModel(True, True, "selection", wf, 1.0), cfg)

    def simpson(lo, hi, n):
        x = np.linspace(lo, hi, n)
        w = np.ones(n)
        w[1:-1:2], w[2:-1:2] = 4, 2
        return x, w * (hi - lo) / (n - 1) / 3

    mu, wm = simpson(-1.2, 0.8, 201)
    tau, wt = simpson(0.0, 1.0, 201)
    om, wo = simpson(0.0, 1.0, 81)
    om = np.maximum(om, 1e-300)
    M, T = np.meshgrid(mu, tau, indexing="ij")
    omega = np.stack([np.broadcast_to(om, (len(om),)), np.ones(len(om))], -1)  # (W, 2)
    ll = log_lik(y, s, M[..., None], T[..., None], omega[None, None], wf, "negative")  # (mu, tau, W)
    lp = ll + cfg.effect.logpdf(M)[..., None] + cfg.heterogeneity.logpdf(T)[..., None]
    lw = np.log(wm)[:, None, None] + np.log(wt)[None, :, None] + np.log(wo)[None, None, :]
    direct = float(logsumexp(lp + lw))
    assert r["mc_se"] < 0.02
    assert r["log_ml"] == pytest.approx(direct, abs=TOL["mcse_multiple"] * r["mc_se"] + TOL["simpson3d_log_ml"])


@pytest.fixture(scope="module")
def small_fit():
    d = load("unbiased_k8")
    return d, fit_ensemble(d.log_hr, d.se, thresholds=(1.0, 0.8))


def test_ensemble_outputs_are_coherent(small_fit):
    _, out = small_fit
    assert out["k"] == 8 and "cannot be assessed reliably" in out["caveat"]
    post = np.array([m["post_prob"] for m in out["models"]])
    assert post.sum() == pytest.approx(1.0)
    eff = np.array([m["effect"] for m in out["models"]])
    assert out["inclusion_prob"]["effect"] == pytest.approx(post[eff].sum())
    # P(HR < 1) cannot exceed the probability that there is an effect at all
    assert out["prob"]["1"] <= out["inclusion_prob"]["effect"] + 1e-9
    assert out["prob"]["0.8"] <= out["prob"]["1"]
    prior_odds = 1.0
    post_odds = out["inclusion_prob"]["bias"] / (1 - out["inclusion_prob"]["bias"])
    assert out["inclusion_bf"]["bias"] == pytest.approx(post_odds / prior_odds)
    assert out["pooled"]["hr"]["median"] == pytest.approx(math.exp(out["pooled"]["log_hr"]["median"]))
    assert "without_bias_components" in out


def test_direction_mirrors_the_analysis(small_fit):
    d, out = small_fit
    mirrored = fit_ensemble(-d.log_hr, d.se, {"direction": "positive"}, thresholds=(1.0,))
    for a, b in zip(out["models"], mirrored["models"]):
        assert a["log_ml"] == pytest.approx(b["log_ml"], abs=TOL["roundtrip"])
    assert mirrored["pooled"]["log_hr"]["mean"] == pytest.approx(-out["pooled"]["log_hr"]["mean"], abs=TOL["roundtrip"])


def test_config_defaults_and_errors():
    cfg = parse_publication_bias({})
    assert cfg.effect.dist == "student_t" and cfg.effect.params["sigma"] == 0.13
    assert cfg.heterogeneity.params == {"alpha": 2.42, "beta": 0.30}
    assert len(cfg.weightfunctions) == 6 and cfg.direction == "negative" and cfg.ensemble == "psma"
    issue_form = parse_publication_bias({"effect": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
                                         "heterogeneity": {"dist": "inv_gamma", "alpha": 1.0, "beta": 0.15},
                                         "ensemble": "psma", "direction": "negative"})
    assert issue_form.effect.dist == "normal"
    with pytest.raises(SpecError) as e:
        parse_publication_bias({"ensemble": "all", "direction": "down", "bogus": 1,
                                "heterogeneity": {"dist": "flat"}, "prior_prob": {"effect": 1.5},
                                "weightfunctions": [{"sided": "one", "steps": [0.5, 0.05]}]})
    msgs = "\n".join(e.value.problems)
    assert len(e.value.problems) == 6
    for frag in ("ensemble", "direction", "bogus", "flat prior", "prior_prob.effect", "weightfunctions[0]"):
        assert frag in msgs


def test_config_unknown_key_and_wrong_type_are_reported_together_in_the_shared_style():
    with pytest.raises(SpecError) as e:
        parse_publication_bias({"bogus": 1, "prior_prob": {"effect": "half"}})
    assert e.value.problems == [
        "[publication_bias]: unknown key(s) bogus; allowed: direction, effect, ensemble, heterogeneity, peese, pet, "
        "prior_prob, weightfunctions",
        "[publication_bias].prior_prob.effect: found 'half' (str); allowed: a probability strictly between 0 and 1"]
