"""Prior log densities (written with scipy.special for a fast start-up) against scipy.stats."""

import math

import numpy as np
import pytest
from scipy import stats

from bayesnet.priors import Prior, parse_prior

from ..conftest import TOL

X = np.array([0.0, 1e-3, 0.05, 0.3, 1.0, 2.5, 10.0])
CASES = [
    ("half_normal", {"sigma": 0.5}, lambda x: stats.halfnorm.logpdf(x, scale=0.5)),
    ("half_cauchy", {"scale": 0.5}, lambda x: stats.halfcauchy.logpdf(x, scale=0.5)),
    ("half_t", {"nu": 3.0, "sigma": 0.7}, lambda x: np.log(2) + stats.t.logpdf(x, 3.0, 0, 0.7)),
    ("lognormal", {"mu": -1.5, "sigma": 1.2}, lambda x: stats.lognorm.logpdf(x, s=1.2, scale=math.exp(-1.5))),
    ("inv_gamma", {"alpha": 2.42, "beta": 0.30}, lambda x: stats.invgamma.logpdf(x, 2.42, scale=0.30)),
    ("uniform", {"lower": 0.0, "upper": 2.0}, lambda x: stats.uniform.logpdf(x, 0, 2.0)),
]


@pytest.mark.parametrize("dist, params, ref", CASES)
def test_scale_priors_match_scipy(dist, params, ref):
    got = Prior(dist, params, kind="scale").logpdf(X)
    want = ref(X)
    finite = np.isfinite(want)
    assert np.array_equal(np.isfinite(got), finite)
    assert got[finite] == pytest.approx(want[finite], rel=TOL["closed_form"], abs=TOL["float"])


def test_effect_priors_match_scipy():
    x = np.linspace(-3, 3, 13)
    assert Prior("normal", {"mu": -0.2, "sigma": 0.4}).logpdf(x) == pytest.approx(stats.norm.logpdf(x, -0.2, 0.4))
    assert Prior("student_t", {"nu": 2.0, "mu": 0.0, "sigma": 0.13}).logpdf(x) == pytest.approx(
        stats.t.logpdf(x, 2.0, 0.0, 0.13))


def test_parse_prior_labels_and_describe():
    p = parse_prior({"dist": "inv_gamma", "alpha": 2.42, "beta": 0.3, "label": "Bartos"}, "tau", "scale")
    assert p.describe() == "Bartos" and p.to_dict()["alpha"] == 2.42
