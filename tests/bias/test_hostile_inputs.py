"""Hostile inputs of issue 16 in the bias, publication-bias and posterior code: each once
broke a promise (a traceback, a silent or meaningless number); each is kept here."""

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesnet
from bayesnet.bias import describe_bias, parse_bias
from bayesnet.errors import SpecError
from bayesnet.posterior import DrawsMarginal, Posterior

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_bias_adjusted.toml"


def _raw(**report):
    raw = tomllib.loads(SPEC.read_text())
    raw.pop("mcmc")
    raw["report"].update(report)
    return raw


@pytest.mark.parametrize("report", [{"thresholds": [1.5]}, {"thresholds": [1e5]},
                                    {"thresholds": [1.25], "harm_threshold": 1.25}],
                         ids=["1.5", "1e5", "1.25_harm_1.25"])
def test_thresholds_all_above_one_give_no_tipping_point_and_say_so(report):
    s = bayesnet.fit(_raw(**report), engine="exact", frequentist=False).summary()
    assert s["tipping_point"] is None and s["bias_curve"] is None and s["tipping_sentences"] == []
    assert "above 1, a harm threshold" in s["tipping_point_note"]
    assert "benefit thresholds (HR at or below 1) only" in s["tipping_point_note"]


def test_bias_priors_beyond_a_twenty_fold_ratio_or_sigma_ten_are_refused():
    for bad, key in (({"common": {"mu": 0.0, "sigma": 1e6}}, "[bias].common.sigma"),
                     ({"common": {"mu": 800.0, "sigma": 0.1}}, "[bias].common.mu"),
                     ({"common": {"mu": 20.0, "sigma": 0.1}}, "[bias].common.mu"),
                     ({"by": {"data_source": {"SEER": {"mu": -3.1, "sigma": 0.1}}}}, "[bias].by.data_source.SEER.mu")):
        with pytest.raises(SpecError) as exc:
            parse_bias(bad, "x.toml")
        msg = str(exc.value)
        assert "x.toml" in msg and key in msg, msg
    assert "20-fold" in str(pytest.raises(SpecError, parse_bias, {"common": {"mu": 20.0, "sigma": 0.1}}).value)
    ok = parse_bias({"common": {"mu": -math.log(20), "sigma": 10.0}})  # the limits themselves stay valid
    assert ok.common.sigma == 10.0 and describe_bias(ok)
    raw = _raw()
    raw["bias"]["common"] = {"mu": 0.0, "sigma": 1e6}
    with pytest.raises(SpecError, match=r"\[bias\]\.common\.sigma"):
        bayesnet.fit(raw, engine="exact")


@pytest.fixture(scope="module")
def exact_post():
    raw = _raw()
    raw.pop("bias")
    return bayesnet.fit(raw, engine="exact", frequentist=False)


def _draws_post(exact_post):
    """A Posterior of draws (as the MCMC engine returns), no sampling needed."""
    rng = np.random.default_rng(1)
    marg = {("pooled",): DrawsMarginal(rng.normal(-0.6, 0.2, (2, 500))),
            ("predictive",): DrawsMarginal(rng.normal(-0.6, 0.4, (2, 500))),
            ("tau",): DrawsMarginal(np.abs(rng.normal(0, 0.3, (2, 500))), scale="raw")}
    return Posterior("mcmc", exact_post.spec, exact_post.evidence, exact_post.model_data, marg)


@pytest.mark.parametrize("engine", ["exact", "mcmc"])
def test_bad_probability_questions_raise_the_same_error_on_both_engines(engine, exact_post):
    post = exact_post if engine == "exact" else _draws_post(exact_post)
    with pytest.raises(ValueError, match="'tau' is not a hazard ratio"):
        post.prob("tau", 0.8)
    for hr in (-1, 0, math.nan, math.inf, "0.8"):
        with pytest.raises(ValueError, match="hr must be a hazard ratio, a finite number > 0"):
            post.prob("pooled", hr)
    for prob in (0, 1, 1.5, -0.1, math.nan):
        for m in (post["pooled"], post["pooled"].on("hr"), post["tau"]):
            with pytest.raises(ValueError, match="strictly between 0 and 1"):
                m.hpd(prob)
    for q in (2, -0.5, [0.5, 1.2], math.nan):
        for m in (post["pooled"], post["pooled"].on("hr"), post["tau"]):
            with pytest.raises(ValueError, match=r"probabilities must be numbers in \[0, 1\]"):
                m.quantile(q)
    with pytest.raises(KeyError, match="no quantity 'nope'"):
        post.prob("nope", 0.8)
    assert 0 < post.prob("pooled", 0.8) < 1 and post["pooled"].hpd(0.9)[0] < post["pooled"].quantile(0.5)


def _identical(tmp_path, same_effect: bool):
    d = pd.DataFrame({"study": list("ABCDE"), "log_hr": [-0.3] * 5 if same_effect else [-0.5, -0.1, -0.3, -0.4, 0.0],
                      "se": [0.2] * 5, "design": ["cohort"] * 5, "data_source": ["SEER"] * 5})
    f = tmp_path / "same_se.csv"
    d.to_csv(f, index=False)
    raw = _raw()
    raw.pop("bias")
    raw.pop("absolute")
    raw["report"].pop("group_columns")
    raw["data"] = {"path": str(f)}
    return raw


@pytest.mark.parametrize("same_effect", [False, True], ids=["same_se", "same_se_and_effect"])
def test_identical_standard_errors_make_egger_undefined_and_say_so(tmp_path, same_effect):
    from bayesnet.cli_bias import summary_text
    from bayesnet.pubbias.analysis import analyse_publication_bias, grade_publication_bias
    from bayesnet.report.observational import publication_bias_blocks

    post = bayesnet.fit(_identical(tmp_path, same_effect), engine="exact", frequentist=False)
    pb = analyse_publication_bias(post)
    assert pb["egger"] is None and "Egger's test is undefined here" in pb["egger_note"]
    dom = grade_publication_bias(pb)
    assert "Egger's test is undefined here" in dom["sentence"]
    assert "Egger's test is undefined here" in summary_text(pb, dom)
    rows = [b for b in publication_bias_blocks({"publication_bias": pb}) if hasattr(b, "rows")][0].rows
    assert ("Egger's regression test", "undefined", pb["egger_note"]) in [tuple(r) for r in rows]


def test_cli_bias_with_identical_standard_errors_says_egger_is_undefined(tmp_path, capsys):
    from bayesnet.cli import main

    f = tmp_path / "same.csv"
    pd.DataFrame({"study": list("ABCDE"), "log_hr": [-0.3] * 5, "se": [0.2] * 5}).to_csv(f, index=False)
    spec = tmp_path / "s.toml"
    spec.write_text('[data]\npath = "same.csv"\n[report]\nthresholds = [1.0, 0.8]\n')
    assert main(["bias", str(spec), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Egger's test is undefined here" in out and "PET-PEESE is undefined here" in out
    assert (tmp_path / "out" / "funnel.png").stat().st_size > 0


def test_cli_bias_with_one_study_names_the_spec(tmp_path, capsys):
    from bayesnet.cli import main

    pd.DataFrame({"study": ["A"], "log_hr": [-0.3], "se": [0.2]}).to_csv(tmp_path / "one.csv", index=False)
    spec = tmp_path / "k1.toml"
    spec.write_text('[data]\npath = "one.csv"\n[report]\nthresholds = [1.0, 0.8]\n')
    assert main(["bias", str(spec)]) == 2
    err = capsys.readouterr().err
    assert str(spec) in err and "at least 2 studies, got 1" in err and "Traceback" not in err
