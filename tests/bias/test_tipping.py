"""Tipping points and the bias curve: roots of a monotone function, checked by refits."""

import math
from dataclasses import replace

import numpy as np
import pytest

from bayesnet.bias import (
    BiasPrior,
    BiasSpec,
    bias_curve,
    fixed_bias_probability,
    parse_tipping_probability,
    plot_bias_curve,
    tipping_analysis,
    tipping_points,
    tipping_probabilities,
    tipping_sentence,
)
from bayesnet.engines.exact import fit_exact
from bayesnet.errors import ModelError, SpecError

from ..conftest import TOL
from ..helpers import setup


def test_default_probabilities_and_overrides():
    assert tipping_probabilities([1.0, 0.8, 1.25]) == {1.0: 0.95, 0.8: 0.5}
    over = parse_tipping_probability({"1": 0.9, "0.7": 0.8})
    assert tipping_probabilities([1.0, 0.8], over) == {1.0: 0.9, 0.8: 0.5, 0.7: 0.8}
    with pytest.raises(SpecError) as exc:
        parse_tipping_probability({"one": 0.9, "0.8": 1.5})
    assert len(exc.value.problems) == 2


def test_tipping_point_is_where_the_refit_probability_equals_the_target():
    md, spec, _ev = setup()
    rows = tipping_points(md, spec, {1.0: 0.95, 0.8: 0.5, 0.6: 0.5})
    p0 = fit_exact(md, spec)
    for row in rows:
        t, p = row["threshold"], row["probability"]
        assert row["prob_without_bias"] == pytest.approx(p0.prob("pooled", t), abs=TOL["float"])
        if row["ratio"] is None:
            continue
        d = math.log(row["ratio"])
        refit = fit_exact(replace(md, y=md.y - d), spec)
        assert refit.prob("pooled", t) == pytest.approx(p, abs=1e-5)
        # a bit more bias: below the target; a bit less: above
        assert fixed_bias_probability(md, spec, row["ratio"] * 0.98, t) < p < \
            fixed_bias_probability(md, spec, min(1.0, row["ratio"] * 1.02), t)
    assert rows[0]["ratio"] is not None and 0.2 < rows[0]["ratio"] < 1
    words = tipping_sentence(rows[0])
    r = f"{rows[0]['ratio']:.2f}"
    assert f"reported HRs were {r} times the true HR or lower" in words and "further below 1 is a larger" in words
    assert "by a factor of" not in words and "on top of the per-study" not in words


def test_no_root_reasons():
    md, spec, _ev = setup()
    rows = tipping_points(md, spec, {0.3: 0.5, 1.0: 0.95}, lower=0.95)
    assert rows[0]["ratio"] is None and "already below" in rows[0]["reason"]
    assert rows[1]["ratio"] is None and "stays above" in rows[1]["reason"]


def test_per_study_bias_applies_to_tipping_points():
    md, spec, ev = setup()
    bias = BiasSpec(by={"design": {"series": BiasPrior(-0.3, 0.2)}})
    r0 = tipping_points(md, spec, {1.0: 0.95})[0]["ratio"]
    r1 = tipping_points(md, spec, {1.0: 0.95}, bias=bias, table=ev.table)[0]["ratio"]
    assert r1 > r0  # less extra bias needed once series are already corrected


def test_curve_monotone_and_equal_to_unadjusted_at_ratio_1():
    md, spec, _ev = setup()
    out = tipping_analysis(md, spec, {1.0: 0.95, 0.8: 0.5})
    c = out["curve"]
    assert c["ratio"][0] == 0.5 and c["ratio"][-1] == 1.0 and len(c["ratio"]) == 51
    p0 = fit_exact(md, spec)
    for q in ("pooled", "predictive"):
        for t, vals in c[q].items():
            assert np.all(np.diff(vals) > 0)  # less assumed exaggeration -> higher P(benefit)
            assert vals[-1] == pytest.approx(p0.prob(q, float(t)), abs=TOL["float"])
    fig = plot_bias_curve(c, out["tipping_point"])
    ax = fig.axes[0]
    assert "reported HR / true HR" in ax.get_xlabel() and len(ax.lines) >= 4


def test_bias_curve_own_ratios():
    md, spec, _ev = setup()
    c = bias_curve(md, spec, [1.0], ratios=[0.7, 1.0])
    assert c["pooled"]["1"][0] == pytest.approx(fixed_bias_probability(md, spec, 0.7, 1.0), abs=TOL["float"])


def test_mcmc_only_spec_is_refused():
    md, spec, _ev = setup(model={"random_dist": "student_t"})
    with pytest.raises(ModelError, match="need the exact engine"):
        tipping_points(md, spec, {1.0: 0.95})
