"""Absolute effects: S_treated = S_control^HR propagated through the HR posterior."""

import math

import numpy as np
import pytest

from bayesnet.absolute import (
    AbsoluteRow,
    absolute_effect,
    absolute_effects,
    absolute_sentence,
    benefit_curve,
    benefit_table,
    parse_absolute,
    plot_benefit_curve,
)
from bayesnet.engines.exact import fit_exact
from bayesnet.errors import SpecError
from bayesnet.posterior import DrawsMarginal, MixtureMarginal

from ..conftest import TOL
from ..helpers import setup


def _post():
    md, spec, _ev = setup()
    return fit_exact(md, spec)


def test_parse_rows_and_errors():
    rows = parse_absolute([{"time_years": 5, "label": "NCDB panNET", "survival": 0.306},
                           {"time_years": 3, "label": "x", "survival": 0.699, "n": 1200}])
    assert rows[1] == AbsoluteRow(3.0, "x", 0.699, 1200.0)
    with pytest.raises(SpecError) as exc:
        parse_absolute([{"time_years": 0, "label": "", "survival": 30.6, "n": -1, "colour": 1}, {"label": "y"}], "m.toml")
    assert len(exc.value.problems) == 7
    assert "proportion alive" in str(exc.value) and "m.toml" in str(exc.value)


def test_unknown_key_and_wrong_type_are_reported_together_in_the_shared_style():
    with pytest.raises(SpecError) as exc:
        parse_absolute([{"time_years": "5", "label": "x", "survival": 0.3, "colour": 1}], "m.toml")
    assert exc.value.problems == [
        "m.toml: [[absolute]] row 1: unknown key(s) colour; allowed: label, n, survival, time_years",
        "m.toml: [[absolute]] row 1.time_years: found '5' (str); allowed: a positive number of years"]


def test_fixed_baseline_maps_quantiles_monotonically():
    post = _post()
    row = AbsoluteRow(5, "b", 0.306)
    out = absolute_effect(post["pooled"], row)
    q50, q025, q975 = post["pooled"].quantile([0.5, 0.025, 0.975])
    ts, df = out["treated_survival"], out["difference_per_1000"]
    assert ts["median"] == pytest.approx(0.306 ** math.exp(q50), abs=TOL["float"])
    assert ts["ci95"] == pytest.approx([0.306 ** math.exp(q975), 0.306 ** math.exp(q025)], abs=TOL["float"])
    assert df["ci95"] == pytest.approx([1000 * (v - 0.306) for v in ts["ci95"]], abs=TOL["roundtrip"])
    # mean and sd by quadrature agree with brute-force Monte Carlo
    rng = np.random.default_rng(1)
    m = post["pooled"]
    comp = rng.choice(len(m.w), 400_000, p=m.w)
    x = m.m[comp] + m.s[comp] * rng.standard_normal(len(comp))
    st = 0.306 ** np.exp(x)
    assert ts["mean"] == pytest.approx(st.mean(), abs=TOL["mc_400k_moment"])
    assert ts["sd"] == pytest.approx(st.std(), abs=TOL["mc_400k_moment"])
    lo, hi = ts["hpd95"]
    assert hi - lo <= ts["ci95"][1] - ts["ci95"][0] + 1e-9
    inside = np.mean((st >= lo) & (st <= hi))
    assert inside == pytest.approx(0.95, abs=TOL["mc_400k_coverage"])


def test_draws_marginal_same_as_transforming_draws():
    rng = np.random.default_rng(2)
    d = DrawsMarginal(rng.normal(-0.5, 0.2, size=(2, 3000)))
    out = absolute_effect(d, AbsoluteRow(5, "b", 0.442))
    v = 0.442 ** np.exp(d.draws)
    assert out["treated_survival"]["mean"] == pytest.approx(v.mean())
    assert out["treated_survival"]["median"] == pytest.approx(0.442 ** np.exp(np.median(d.draws)))


def test_uncertain_baseline_widens_and_converges_to_fixed():
    m = MixtureMarginal(np.array([-0.5]), np.array([0.1]), np.array([1.0]))
    fixed = absolute_effect(m, AbsoluteRow(5, "b", 0.3))
    big = absolute_effect(m, AbsoluteRow(5, "b", 0.3, n=1e7))
    small = absolute_effect(m, AbsoluteRow(5, "b", 0.3, n=100))
    assert big["treated_survival"]["median"] == pytest.approx(fixed["treated_survival"]["median"], abs=2e-3)
    w = lambda o: o["treated_survival"]["ci95"][1] - o["treated_survival"]["ci95"][0]
    assert w(small) > 1.3 * w(fixed)
    again = absolute_effect(m, AbsoluteRow(5, "b", 0.3, n=100))
    assert again == small  # fixed seed


def test_rows_sentence_alive_explicit():
    post = _post()
    out = absolute_effects(post, [AbsoluteRow(5, "NCDB", 0.306), AbsoluteRow(3, "HPB", 0.699)])
    assert [o["label"] for o in out] == ["NCDB", "HPB"]
    p, pr = out[0]["difference_per_1000"], out[0]["predictive"]["difference_per_1000"]
    assert pr["ci95"][1] - pr["ci95"][0] > p["ci95"][1] - p["ci95"][0]
    s = absolute_sentence(out[0], "resection")
    assert s.startswith("At 5 years: 306 per 1000 alive without resection; ")
    assert "per 1000 alive with resection (95% CrI" in s and "more alive per 1000 with resection" in s
    row = {"time_years": 1, "baseline_survival": 0.5,
           "treated_survival": {"median": 0.49, "ci95": [0.4, 0.6]},
           "difference_per_1000": {"median": -10.2, "ci95": [-100.0, 100.0]}}
    assert "10 fewer alive per 1000 with x (100 fewer to 100 more)" in absolute_sentence(row, "x")


def test_benefit_curve_and_table():
    post = _post()
    c = benefit_curve(post)
    assert c["hr"][0] == pytest.approx(0.3) and c["hr"][-1] == pytest.approx(1.5)
    assert np.all(np.diff(c["pooled"]) > 0)
    tab = benefit_table(post)
    one = next(r for r in tab if r["threshold"] == 1.0)
    assert one["pooled"] == pytest.approx(post.prob("pooled", 1.0))
    assert one["predictive"] == pytest.approx(post.prob("predictive", 1.0))
    fig = plot_benefit_curve(c, [1.0, 0.8])
    assert fig.axes[0].get_xscale() == "log"
