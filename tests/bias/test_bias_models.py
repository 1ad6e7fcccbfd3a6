"""Bias models (Turner et al. 2009): hand-derived cases for the exact engine."""

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from bayesnet.bias import (
    BiasPrior,
    BiasSpec,
    apply_study_bias,
    common_bias_mixture,
    eta_prior,
    fit_exact_with_bias,
    parse_bias,
    study_bias_arrays,
)
from bayesnet.engines.exact import fit_exact
from bayesnet.errors import SpecError

from ..conftest import TOL
from ..helpers import setup

PROBS = [0.025, 0.1, 0.5, 0.9, 0.975]


def _same(a, b, keys, tol=1e-8):
    for key in keys:
        assert a[key].quantile(PROBS) == pytest.approx(b[key].quantile(PROBS), abs=tol), key


# ------------------------------------------------------------------ parsing
def test_parse_valid():
    _md, _spec, ev = setup()
    b = parse_bias({"common": {"mu": -0.18, "sigma": 0.12},
                    "by": {"design": {"series": {"mu": -0.25, "sigma": 0.25}}}}, "x.toml", ev)
    assert b.common == BiasPrior(-0.18, 0.12)
    assert b.by == {"design": {"series": BiasPrior(-0.25, 0.25)}}


def test_parse_collects_every_problem_in_one_pass():
    _md, _spec, ev = setup()
    raw = {"common": {"mu": "big", "sigma": -1, "extra": 1}, "colour": 1,
           "by": {"design": {"case_series": {"mu": 0, "sigma": 0.1}}, "nosuch": {"a": {"mu": 0, "sigma": 0}}}}
    with pytest.raises(SpecError) as exc:
        parse_bias(raw, "m.toml", ev)
    probs = exc.value.problems
    text = "\n".join(probs)
    assert len(probs) == 6, probs
    assert "unknown key(s) colour" in text and "unknown key(s) extra" in text
    assert "common.mu: must be a finite number" in text
    assert "common.sigma: must be >= 0" in text
    assert "level 'case_series' of 'design'" in text and "levels: registry, series" in text
    assert "column 'nosuch' is not in the evidence" in text and "design" in text
    assert "m.toml" in str(exc.value)


def test_parse_missing_keys():
    with pytest.raises(SpecError, match="missing 'sigma'"):
        parse_bias({"common": {"mu": -0.1}})


# ------------------------------------------------------------------ per-study bias
def test_per_study_bias_equals_shifted_y_and_inflated_variance():
    md, spec, ev = setup()
    bias = BiasSpec(by={"design": {"series": BiasPrior(-0.25, 0.2)}})
    post = fit_exact_with_bias(md, spec, bias, ev)
    series = np.array([d == "series" for d in ev.table["design"]])
    y2 = md.y - np.where(series, -0.25, 0.0)
    s2 = np.sqrt(md.s**2 + np.where(series, 0.04, 0.0))
    ref = fit_exact(replace(md, y=y2, s=s2), spec)
    _same(post, ref, [("pooled",), ("predictive",), ("tau",)] + [("study", st) for st in md.studies])
    # and it differs from the unadjusted fit
    assert post["pooled"].quantile([0.5])[0] > fit_exact(md, spec)["pooled"].quantile([0.5])[0] + 0.01


def test_biases_by_two_columns_add():
    md, _spec, ev = setup()
    table = ev.table.assign(source=["a", "a", "b", "b", "a", "b", "a"])
    bias = BiasSpec(by={"design": {"series": BiasPrior(-0.2, 0.1)}, "source": {"a": BiasPrior(-0.1, 0.2)}})
    mean, var = study_bias_arrays(bias, md.studies, table)
    assert mean == pytest.approx([-0.1, -0.3, 0, 0, -0.3, -0.2, -0.1])
    assert var == pytest.approx([0.04, 0.05, 0, 0, 0.05, 0.01, 0.04])
    assert apply_study_bias(md, None, table) is md


# ------------------------------------------------------------------ common bias
@pytest.mark.parametrize("mu_prior", [{"dist": "normal", "mu": 0.0, "sigma": 1.0}, {"dist": "flat"}])
@pytest.mark.parametrize("model", [{}, {"covariates": ["design"]}, {"effects": "fixed"}])
def test_fixed_common_bias_equals_refitting_shifted_data(mu_prior, model):
    md, spec, ev = setup(priors={"mu": mu_prior}, model=model)
    delta = -0.3
    post = fit_exact_with_bias(md, spec, BiasSpec(common=BiasPrior(delta, 0.0)), ev)
    ref = fit_exact(replace(md, y=md.y - delta), spec)
    _same(post, ref, list(ref.marginals), 1e-7)
    assert set(post.marginals) == set(ref.marginals)


def _gaussian_posterior_mu(y, s, tau, m0, s0, m, v):
    """Hand derivation: z = (mu, delta) ~ N([m0, m], diag(s0^2, v)); y = H z + u + e with
    H = [1, 1] per study, cov(u + e) = diag(s^2) + tau^2 I. Posterior of mu by Gaussian
    conditioning (Kalman update); returns (mean, var) and the log marginal likelihood."""
    H = np.ones((len(y), 2))
    P0 = np.diag([s0**2, v])
    R = np.diag(s**2) + tau**2 * np.eye(len(y))
    Sy = H @ P0 @ H.T + R
    K = P0 @ H.T @ np.linalg.inv(Sy)
    mean = np.array([m0, m]) + K @ (y - H @ np.array([m0, m]))
    cov = P0 - K @ H @ P0
    return mean[0], cov[0, 0], stats.multivariate_normal(H @ np.array([m0, m]), Sy).logpdf(y)


def test_common_uncertain_bias_fixed_effect_equals_closed_form():
    md, spec, ev = setup(priors={"mu": {"dist": "normal", "mu": 0.1, "sigma": 0.5}}, model={"effects": "fixed"})
    common = BiasPrior(-0.18, 0.12)
    post = fit_exact_with_bias(md, spec, BiasSpec(common=common), ev)
    mean, var, _ = _gaussian_posterior_mu(md.y, md.s, 0.0, 0.1, 0.5, -0.18, 0.12**2)
    assert post["pooled"].mean() == pytest.approx(mean, abs=TOL["closed_form"])
    assert post["pooled"].sd() == pytest.approx(math.sqrt(var), abs=TOL["closed_form"])
    # statistics.md section 5, mu | eta with eta | y from the unbiased fit on the eta prior
    w = 1 / md.s**2
    pe = 1 / (0.5**2 + 0.12**2)
    b = (w @ md.y + pe * (0.1 - 0.18)) / (w.sum() + pe)
    V = 1 / (w.sum() + pe)
    k = 0.25 / (0.25 + 0.0144)
    assert mean == pytest.approx(0.1 + k * (b - 0.1 + 0.18), abs=TOL["float"])
    assert var == pytest.approx(k * k * V + 0.25 * 0.0144 / (0.25 + 0.0144), abs=TOL["float"])
    # the bias prior widens the posterior
    assert post["pooled"].sd() > fit_exact(md, spec)["pooled"].sd()


def test_common_uncertain_bias_random_effects_equals_brute_force():
    """Independent computation: p(tau | y) from the full multivariate normal marginal
    likelihood of (mu, delta) on a fine tau grid, mu | tau, y by Gaussian conditioning."""
    m0, s0, m, sd = 0.0, 1.0, -0.18, 0.12
    md, spec, ev = setup(priors={"mu": {"dist": "normal", "mu": m0, "sigma": s0},
                                 "tau": {"dist": "half_normal", "sigma": 0.5}})
    post = fit_exact_with_bias(md, spec, BiasSpec(common=BiasPrior(m, sd)), ev)
    taus = np.linspace(1e-6, 2.5, 3001)
    rows = [_gaussian_posterior_mu(md.y, md.s, t, m0, s0, m, sd**2) for t in taus]
    logp = np.array([r[2] for r in rows]) + stats.halfnorm(scale=0.5).logpdf(taus)
    wt = np.exp(logp - logp.max())
    wt /= wt.sum()
    mu_m = np.array([r[0] for r in rows])
    mu_v = np.array([r[1] for r in rows])
    for c in (-0.9, -0.6, -0.4, -0.2):
        p_ref = float(wt @ stats.norm.cdf(c, mu_m, np.sqrt(mu_v)))
        assert float(post["pooled"].cdf(c)) == pytest.approx(p_ref, abs=TOL["bias_brute_force"])
        p_pred = float(wt @ stats.norm.cdf(c, mu_m, np.sqrt(mu_v + taus**2)))
        assert float(post["predictive"].cdf(c)) == pytest.approx(p_pred, abs=TOL["bias_brute_force_pred"])


def test_mixture_function_matches_fit_and_flat_prior_is_eta_minus_delta():
    md, spec, ev = setup(priors={"mu": {"dist": "flat"}})
    common = BiasPrior(-0.2, 0.15)
    post = fit_exact_with_bias(md, spec, BiasSpec(common=common), ev)
    eta = fit_exact(md, spec)  # flat prior: the eta prior is flat too
    mix = common_bias_mixture(eta["pooled"].m, eta["pooled"].s, eta["pooled"].w, common, spec.priors.mu)
    _same(post, {("pooled",): mix}, [("pooled",)], 1e-8)
    tau = eta.extras["tau_components"]
    pred = common_bias_mixture(eta["pooled"].m, eta["pooled"].s, eta["pooled"].w, common, spec.priors.mu, tau=tau)
    _same(post, {("predictive",): pred}, [("predictive",)], 1e-8)
    # flat: mu = eta - delta, so every component is shifted by 0.2 and has variance + 0.15^2
    assert mix.m == pytest.approx(eta["pooled"].m + 0.2)
    assert mix.s**2 == pytest.approx(eta["pooled"].s ** 2 + 0.15**2)
    # shrunken study effects: theta_i = theta_i(eta) - delta, delta independent of y
    st = md.studies[0]
    assert post["study", st].m == pytest.approx(eta["study", st].m + 0.2)
    assert post["study", st].s ** 2 == pytest.approx(eta["study", st].s ** 2 + 0.15**2)


def test_eta_prior():
    from bayesnet.priors import Prior

    p = eta_prior(Prior("normal", {"mu": 0.1, "sigma": 0.3}), BiasPrior(-0.2, 0.4))
    assert p.params == pytest.approx({"mu": -0.1, "sigma": 0.5})


def test_restrict_bias_drops_levels_a_subset_no_longer_has():
    import pandas as pd

    from bayesnet.bias import parse_bias, restrict_bias

    b = parse_bias({"common": {"mu": -0.1, "sigma": 0.1},
                    "by": {"design": {"a": {"mu": -0.2, "sigma": 0.1}, "b": {"mu": 0.0, "sigma": 0.2}}}})
    r = restrict_bias(b, pd.DataFrame({"design": ["a", "a"]}))
    assert set(r.by["design"]) == {"a"} and r.common == b.common
    only_by = parse_bias({"by": {"design": {"b": {"mu": 0.0, "sigma": 0.2}}}})
    assert restrict_bias(only_by, pd.DataFrame({"design": ["a"]})) is None


def test_leave_one_level_out_with_a_bias_level_is_estimable():
    from pathlib import Path

    from bayesnet.sensitivity import influence

    df = influence(Path(__file__).resolve().parents[2] / "models" / "ptr_bias_adjusted.toml")
    assert (df["status"] == "ok").all(), df.loc[df["status"] != "ok", "reason"].tolist()
