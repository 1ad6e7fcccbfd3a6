"""Tipping points and the bias curve of a fitted bias-adjusted analysis against an
independent brute-force computation written here (issue 15, item 1).

The tipping point is the fixed common bias ratio R = exp(delta) (reported HR / true HR)
that replaces the ``[bias] common`` prior while the per-study ``[bias.by]`` terms stay as
specified, applied ONCE to the studies as reported:

    y_i - m_i - delta ~ N(mu + u_i, s_i^2 + v_i),  u_i ~ N(0, tau^2),  mu ~ N(0, 1),
    tau ~ half-normal(0.5),

with (m_i, v_i) the mean and variance of study i's ``[bias.by]`` bias. Given tau, mu is
integrated out in closed form (Gaussian marginal likelihood with mu's prior variance added
to every pair of studies; the posterior of mu is normal); tau is integrated on a fine
trapezoid grid; R is found by Brent's method. Shipped data: the five primary studies of
``models/ptr_bias_adjusted.toml``. The analysis code shifted and widened the studies
twice before (fit_exact_with_bias, then _FixedBias): 0.71 / 0.66 instead of 0.694 / 0.646."""

import dataclasses
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import ndtr

import bayesnet
from bayesnet.bias import study_bias_arrays, tipping_analysis, tipping_probabilities

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_bias_adjusted.toml"
RATIO_TOL = 1e-3  # the agreement issue 15 asks for, in the ratio R
PROB_TOL = 1e-4   # the curve: P(HR < t) at a fixed R (grid of 20,001 tau points)


def _brute(y, s2, t, delta, m0=0.0, s0=1.0, tau_sd=0.5, n=20001, tau_max=4.0, predictive=False):
    """P(true pooled HR < t) (or a new study's, predictive=True) under a fixed common bias
    delta, for bias-corrected data y (already minus the per-study means) with variances s2
    (within-study plus per-study bias variances)."""
    z = np.asarray(y, float) - delta
    s2 = np.asarray(s2, float)
    tau = np.linspace(0.0, tau_max, n)
    d = s2[None, :] + tau[:, None] ** 2                      # (n, k) marginal variances given mu
    cov = d[:, :, None] * np.eye(len(z))[None] + s0**2       # (n, k, k): + Var(mu) for every pair
    _, logdet = np.linalg.slogdet(cov)
    r = z - m0
    quad = np.einsum("i,nij,j->n", r, np.linalg.inv(cov), r)
    lp = -0.5 * (logdet + quad) - 0.5 * (tau / tau_sd) ** 2  # half-normal prior (constant dropped)
    w = 1.0 / d
    prec = 1.0 / s0**2 + w.sum(1)
    mean = (m0 / s0**2 + (w * z).sum(1)) / prec
    var = 1.0 / prec + (tau**2 if predictive else 0.0)
    cond = ndtr((math.log(t) - mean) / np.sqrt(var))
    dens = np.exp(lp - lp.max())
    return float(np.trapezoid(dens * cond, tau) / np.trapezoid(dens, tau))


def _brute_tipping(y, s2, t, p):
    return math.exp(brentq(lambda d: _brute(y, s2, t, d) - p, math.log(0.2), 0.0, xtol=1e-8))


def _spec(by: bool, common: bool) -> dict:
    raw = tomllib.loads(SPEC.read_text())
    raw["data"]["dataset"] = "gepnet_ptr"
    b = {}
    if common:
        b["common"] = raw["bias"]["common"]
    if by:
        b["by"] = raw["bias"]["by"]
    raw["bias"] = b
    raw.pop("absolute", None)
    raw.pop("mcmc", None)
    return raw


@pytest.fixture(scope="module", params=[(False, True), (True, False), (True, True)],
            ids=["common_only", "by_level_only", "both"])
def fitted(request):
    by, common = request.param
    post = bayesnet.fit(_spec(by, common), engine="exact", frequentist=False)
    ref = post.as_reported
    md = ref.model_data
    bias = post.spec.bias
    m, v = study_bias_arrays(bias, md.studies, ref.evidence.table)
    return post, md.y - m, md.s**2 + v, by


def test_tipping_points_apply_the_per_study_bias_once(fitted):
    post, y, s2, _ = fitted
    ta = tipping_analysis(post, tipping_probabilities([1.0, 0.8]))
    rows = {r["threshold"]: r for r in ta["tipping_point"]}
    for t, p in ((1.0, 0.95), (0.8, 0.5)):
        assert rows[t]["ratio"] == pytest.approx(_brute_tipping(y, s2, t, p), abs=RATIO_TOL)
    # the summary.json blocks (the shipped report's path) give the same
    summ = post.summary()
    for r in summ["tipping_point"]:
        assert r["ratio"] == pytest.approx(rows[r["threshold"]]["ratio"], abs=1e-9)


def test_bias_curve_applies_the_per_study_bias_once(fitted):
    post, y, s2, _ = fitted
    curve = tipping_analysis(post, tipping_probabilities([1.0, 0.8]), thresholds=[1.0, 0.8])["curve"]
    for i in (0, 20, 35, 50):
        r = curve["ratio"][i]
        assert curve["pooled"]["0.8"][i] == pytest.approx(_brute(y, s2, 0.8, math.log(r)), abs=PROB_TOL)
        assert curve["predictive"]["1"][i] == pytest.approx(_brute(y, s2, 1.0, math.log(r), predictive=True),
                                                            abs=PROB_TOL)


def test_shipped_tipping_points():
    """The numbers the shipped report gives (issue 15: 0.694 and 0.646, not 0.71 / 0.66)."""
    raw = tomllib.loads(SPEC.read_text())
    raw.pop("mcmc", None)
    post = bayesnet.fit(raw, engine="exact", frequentist=False)
    rows = {r["threshold"]: r["ratio"] for r in post.summary()["tipping_point"]}
    assert rows[1.0] == pytest.approx(0.694, abs=1e-3)
    assert rows[0.8] == pytest.approx(0.646, abs=1e-3)


def test_tipping_without_by_terms_equals_the_analysis_as_reported():
    """A common-only bias: the tipping point is that of the studies as reported, no bias."""
    post = bayesnet.fit(_spec(False, True), engine="exact", frequentist=False)
    plain = dataclasses.replace(post.spec, bias=None)
    a = tipping_analysis(post, {1.0: 0.95})["tipping_point"][0]["ratio"]
    b = tipping_analysis(post.as_reported.model_data, plain, {1.0: 0.95})["tipping_point"][0]["ratio"]
    assert a == pytest.approx(b, abs=1e-9)
