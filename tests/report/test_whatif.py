"""Issue 16: the what-if grid behind report.html's slider (`bayesnet.whatif`): a fixed
common bias ratio R replacing the [bias] common prior with the per-study biases applied
once, as the tipping points; equal to the bias curve at its points and to an exact refit
with that fixed bias; embedded in the page as inert JSON."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bayesnet import bias as B
from bayesnet.absolute import BENEFIT_TABLE_HR
from bayesnet.api import fit, load_spec
from bayesnet.whatif import what_if_grid

ROOT = Path(__file__).resolve().parents[2]
PTR = ROOT / "models" / "ptr_bias_adjusted.toml"
PLAIN = ROOT / "models" / "ptr_random_effects.toml"


@pytest.fixture(scope="module")
def ptr():
    spec = load_spec(PTR)
    post = fit(spec)
    return spec, post, what_if_grid(post)


def test_grid_covers_every_threshold_baseline_and_ratio(ptr):
    spec, post, g = ptr
    r = np.asarray(g["ratio"])
    assert r[0] == 0.5 and r[-1] == 1.0 and np.max(np.diff(r)) <= 0.01 + 1e-12
    assert set(BENEFIT_TABLE_HR) <= set(g["thresholds"]) and min(g["thresholds"]) == 0.3
    assert max(g["thresholds"]) == 1.5
    for q in ("pooled", "predictive"):
        assert all(len(v) == len(r) for v in g[q].values())
        p = np.asarray(g[q]["1"])
        assert np.all(np.diff(p) >= -1e-12)  # less bias (R up) -> more probability of benefit
    assert [a["label"] for a in g["absolute"]] == [a.label for a in spec.absolute]
    assert all(len(a["pooled"]) == len(r) for a in g["absolute"])


def test_grid_is_the_bias_curve_of_the_data_as_reported(ptr):
    spec, post, g = ptr
    raw = post.as_reported.model_data
    curve = B.bias_curve(raw, spec, [1.0, 0.8], bias=spec.bias, table=post.evidence.table)
    idx = [g["ratio"].index(x) for x in curve["ratio"]]
    for q in ("pooled", "predictive"):
        for t in ("1", "0.8"):
            np.testing.assert_allclose([g[q][t][i] for i in idx], curve[q][t], rtol=0, atol=1e-12)


def test_grid_equals_summary_bias_curve_without_study_biases():
    # without [bias.by] there is nothing to count twice: summary.json's curve is the grid's
    post = fit(load_spec(PLAIN))
    g, s = what_if_grid(post), post.summary()
    c = s["bias_curve"]
    idx = [g["ratio"].index(x) for x in c["ratio"]]
    for q in ("pooled", "predictive"):
        for t in c[q]:
            # the same function on the same data (last-bit differences from batching the deltas)
            np.testing.assert_allclose([g[q][t][i] for i in idx], c[q][t], rtol=0, atol=1e-12)


def test_grid_equals_summary_bias_curve_with_study_biases(ptr):
    spec, post, g = ptr
    c = post.summary()["bias_curve"]
    idx = [g["ratio"].index(x) for x in c["ratio"]]
    for t in c["pooled"]:
        np.testing.assert_allclose([g["pooled"][t][i] for i in idx], c["pooled"][t], rtol=0, atol=1e-9)


@pytest.mark.parametrize("ratio", [0.7, 0.85])
def test_grid_equals_an_exact_refit_with_that_fixed_bias(ptr, ratio):
    """Independent of the closed-form reweighting: refit the spec with [bias] common =
    {mu = ln R, sigma = 0} and the same [bias.by], from the studies as reported."""
    spec, post, g = ptr
    import tomllib

    d = tomllib.loads(PTR.read_text())
    d["bias"]["common"] = {"mu": math.log(ratio), "sigma": 0.0}
    ref = fit(load_spec(d))
    i = g["ratio"].index(min(g["ratio"], key=lambda x: abs(x - ratio)))
    assert abs(g["ratio"][i] - ratio) < 1e-12
    for t in (1.0, 0.8, 0.5):
        key = f"{t:g}"
        assert g["pooled"][key][i] == pytest.approx(ref.prob("pooled", t), abs=2e-5)
        assert g["predictive"][key][i] == pytest.approx(ref.prob("predictive", t), abs=2e-5)
    from bayesnet.absolute import absolute_effects

    want = absolute_effects(ref, [spec.absolute[0]])[0]["difference_per_1000"]
    got = g["absolute"][0]["pooled"][i]
    assert got["median"] == pytest.approx(want["median"], abs=0.05)
    assert got["ci95"] == pytest.approx(want["ci95"], abs=0.05)


def test_the_embedded_json_is_inert():
    from bayesnet.report.render import whatif_json

    data = {"label": "</script><script>alert(1)</script> & <!-- \u2028", "x": [0.5, 1.0]}
    s = str(whatif_json(data))
    assert "<" not in s and ">" not in s and "&" not in s and "\u2028" not in s
    assert json.loads(s) == data


def test_markdown_shows_six_points_of_the_grid(ptr):
    from bayesnet import format as fmt
    from bayesnet.report import render_markdown
    from bayesnet.report.observational import what_if_block

    spec, post, g = ptr
    md = render_markdown([what_if_block({"what_if": g, "thresholds": [1.0, 0.8]})])
    i = g["ratio"].index(min(g["ratio"], key=lambda x: abs(x - 0.7)))
    row = (f"| 0.70 | {fmt.p(g['pooled']['1'][i])} | {fmt.p(g['predictive']['1'][i])} | "
           f"{fmt.p(g['pooled']['0.8'][i])} | {fmt.p(g['predictive']['0.8'][i])} |")
    assert row in md and md.count("\n| ") == 7  # header and six rows
