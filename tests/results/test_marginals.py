"""The Marginal abstract base: every kind answers pdf, cdf, quantile, hpd, mean and sd
consistently, on its log scale and through its HR view (HR = exp(log HR))."""

import numpy as np
import pytest
from scipy.stats import norm

from bayesnet.posterior import DrawsMarginal, GridMarginal, HRMarginal, Marginal, MixtureMarginal

from ..conftest import TOL

P = np.array([0.01, 0.025, 0.2, 0.5, 0.8, 0.975, 0.99])


def mixture():
    return MixtureMarginal([-0.5, -0.2, 0.1], [0.15, 0.25, 0.4], [0.5, 0.3, 0.2])


def grid():
    x = np.linspace(0, 3, 3001)
    return GridMarginal(x, x * np.exp(-2 * x), scale="raw")  # gamma(2, rate 2)


def test_marginal_is_abstract():
    with pytest.raises(TypeError):
        Marginal()


@pytest.mark.parametrize("make", [mixture, grid])
def test_pdf_integrates_to_one_and_cdf_inverts_quantile(make):
    m = make()
    lo, hi = m.quantile([1e-9, 1 - 1e-9])
    x = np.linspace(lo, hi, 20001)
    assert np.trapezoid(m.pdf(x), x) == pytest.approx(1.0, abs=1e-5)
    assert m.cdf(m.quantile(P)) == pytest.approx(P, abs=TOL["quantile"])


def test_mixture_moments_and_hpd():
    m = mixture()
    x = np.linspace(-4, 4, 200001)
    f = m.pdf(x)
    mean = np.trapezoid(x * f, x)
    assert m.mean() == pytest.approx(mean, abs=TOL["trapezoid"])
    assert m.sd() == pytest.approx(np.sqrt(np.trapezoid((x - mean) ** 2 * f, x)), abs=TOL["trapezoid"])
    a, b = m.hpd(0.95)
    # the shortest interval: 95% mass and equal density at both ends
    assert m.cdf(b) - m.cdf(a) == pytest.approx(0.95, abs=TOL["closed_form"])
    assert m.pdf(a) == pytest.approx(m.pdf(b), rel=1e-8)
    assert b - a < np.diff(m.quantile([0.025, 0.975]))[0]


def test_hr_view_is_the_exp_transform():
    m = mixture()
    h = m.on("hr")
    assert isinstance(h, HRMarginal) and h.scale == "hr" and h.on("log") is m
    assert h.quantile(P) == pytest.approx(np.exp(m.quantile(P)), rel=TOL["float"])
    assert h.cdf(0.8) == pytest.approx(m.cdf(np.log(0.8)), rel=TOL["float"])
    # E[exp(theta)] and its SD, against quadrature of the log-scale density
    x = np.linspace(-4, 4, 200001)
    f = m.pdf(x)
    e1, e2 = np.trapezoid(np.exp(x) * f, x), np.trapezoid(np.exp(2 * x) * f, x)
    assert h.mean() == pytest.approx(e1, rel=TOL["trapezoid"])
    assert h.sd() == pytest.approx(np.sqrt(e2 - e1**2), rel=1e-7)
    hh = np.linspace(1e-9, h.quantile([1 - 1e-10])[0], 400001)
    assert np.trapezoid(h.pdf(hh), hh) == pytest.approx(1.0, abs=1e-6)
    a, b = h.hpd(0.95)
    assert h.cdf(b) - h.cdf(a) == pytest.approx(0.95, abs=TOL["closed_form"])
    assert h.pdf(a) == pytest.approx(h.pdf(b), rel=1e-7)
    assert (a, b) != pytest.approx(tuple(np.exp(m.hpd(0.95))))  # not exp of the log-scale HPD
    with pytest.raises(ValueError, match="scale"):
        grid().on("hr")


def test_draws_kde_and_hdi_against_the_normal():
    rng = np.random.default_rng(7)
    m = DrawsMarginal(rng.normal(0.3, 0.5, size=(4, 5000)))
    x = np.linspace(-0.7, 1.3, 41)
    assert m.pdf(x) == pytest.approx(norm.pdf(x, 0.3, 0.5), abs=TOL["kde"])
    lo, hi = m.pdf([-10.0, 10.0])
    assert lo == 0 and hi == 0
    assert m.hpd(0.95) == pytest.approx(norm.interval(0.95, 0.3, 0.5), abs=TOL["kde"])
    assert m.cdf(m.quantile(P)) == pytest.approx(P, abs=1e-3)
    h = m.on("hr")
    assert h.quantile(P) == pytest.approx(np.exp(m.quantile(P)))
    assert h.mean() == pytest.approx(np.exp(0.3 + 0.125), rel=0.02)


def test_hr_moments_of_a_heavy_tailed_mixture_do_not_overflow():
    """A predictive with a huge log-scale sd: the HR-scale mean is finite (7e86) but its
    square overflows; the sd is reported as infinite instead of an OverflowError."""
    import math

    import numpy as np

    from bayesnet.posterior import MixtureMarginal

    mean, sd = MixtureMarginal(np.array([0.0]), np.array([20.0]), np.array([1.0])).on("hr").moments()
    assert math.isclose(mean, math.exp(200.0), rel_tol=1e-12) and sd == math.inf
