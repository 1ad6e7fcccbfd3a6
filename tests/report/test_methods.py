"""Issue 16: the Methods section writes priors as a statistician would, through one
formatter (`bayesnet.format.prior`); the bias assumptions are stated once."""

import pytest

from bayesnet import format as fmt
from bayesnet.priors import parse_prior


@pytest.mark.parametrize("raw, kind, text", [
    ({"dist": "normal", "mu": 0.0, "sigma": 1.0}, "effect", "mu ~ Normal(0, 1^2)"),
    ({"dist": "normal", "mu": -0.223, "sigma": 0.136}, "effect", "mu ~ Normal(-0.223, 0.136^2)"),
    ({"dist": "student_t", "nu": 3, "mu": 0, "sigma": 0.13}, "effect", "mu ~ Student-t(0, 0.13^2, 3 df)"),
    ({"dist": "flat"}, "effect", "mu ~ flat (improper)"),
    ({"dist": "half_normal", "sigma": 0.5}, "scale", "mu ~ Half-Normal(0.5)"),
    ({"dist": "half_cauchy", "scale": 0.5}, "scale", "mu ~ Half-Cauchy(0.5)"),
    ({"dist": "half_t", "nu": 3, "sigma": 0.5}, "scale", "mu ~ Half-t(0.5, 3 df)"),
    ({"dist": "lognormal", "mu": -1.5, "sigma": 1}, "scale", "mu ~ Log-Normal(-1.5, 1^2)"),
    ({"dist": "inv_gamma", "alpha": 2.42, "beta": 0.3, "label": "Bartos 2023"}, "scale",
     "mu ~ Inverse-Gamma(2.42, 0.3) [Bartos 2023]"),
    ({"dist": "uniform", "lower": 0, "upper": 2}, "scale", "mu ~ Uniform(0, 2)"),
])
def test_prior_formatter(raw, kind, text):
    pr = parse_prior(raw, "test", kind)
    assert fmt.prior(pr, "mu") == text
    assert fmt.prior(pr) == text.split(" ~ ", 1)[1]


def test_bias_assumptions_stated_once(tmp_path):
    from pathlib import Path

    from bayesnet.report import build_report, content, render_markdown

    spec = Path(__file__).resolve().parents[2] / "models" / "ptr_bias_adjusted.toml"
    rep, _ = build_report(spec, sensitivity=False, publication_bias=False)
    md = render_markdown(content(rep, {}))
    for sentence in rep["bias_assumptions"]:
        # once in the report's own text (the GRADE draft's risk-of-bias sentence is the GRADE module's)
        body = md.split("GRADE certainty")[0]
        assert body.count(sentence[:90]) == 1, sentence  # 90 characters: the pessimistic scenario's differ
    methods = md.split(". Methods")[1]
    assert "bias assumptions listed under Summary of findings" in methods
    assert "MCMC diagnostics" not in md and "Not applicable" not in md
