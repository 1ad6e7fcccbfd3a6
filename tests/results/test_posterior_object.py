"""The Posterior as a user meets it: a short headline when printed, its xarray view."""

import numpy as np
import pandas as pd
import pytest

import bayesnet
from bayesnet.api import fit
from bayesnet.evidence import load_evidence

from ..conftest import TOL

DF = pd.DataFrame({"study": list("abcdef"), "log_hr": [-0.4, -0.6, -0.1, -0.3, -0.5, 0.1],
                   "se": [0.2, 0.3, 0.25, 0.2, 0.3, 0.35],
                   "design": ["rct", "rct", "cohort", "cohort", "cohort", "registry"],
                   "source": ["a", "b", "a", "b", "a", "b"]})


def test_repr_is_a_headline():
    post = fit({}, evidence=load_evidence(data=DF[["study", "log_hr", "se"]]), engine="exact")
    text = repr(post)
    q = np.exp(post["pooled"].quantile([0.5, 0.025, 0.975]))
    assert text.splitlines()[0] == "Posterior (exact engine, k = 6 studies, random effects)"
    assert f"pooled HR          {q[0]:.2f} (95% CrI {q[1]:.2f} to {q[2]:.2f})" in text
    assert f"P(HR < 1) = {post.prob('pooled', 1.0):.3f}" in text and "diagnostics" in text
    assert "assumes            unbiased studies" in text  # no [bias] model: said, not implied
    assert len(text.splitlines()) <= 9 and "DataFrame" not in text and "array(" not in text
    html = post._repr_html_()
    assert html.startswith("<div>") and "pooled HR" in html and "&lt;" in html


def test_repr_probabilities_are_bounded_like_the_report():
    """A probability within 0.001 of 1 reads "> 0.999" (bayesnet.format), never "1.000"."""
    big = pd.DataFrame({"study": list("abcd"), "log_hr": [-1.2, -1.0, -1.1, -0.9], "se": [0.1] * 4})
    post = fit({"model": {"effects": "fixed"}}, evidence=load_evidence(data=big), engine="exact")
    assert post.prob("pooled", 1.0) > 0.999
    text = repr(post)
    assert "P(HR < 1) > 0.999" in text and "1.000" not in text
    assert "P(HR > 1.25) < 0.001" in text
    assert "P(HR &lt; 1) &gt; 0.999" in post._repr_html_()


def test_repr_names_the_bias_assumption():
    """With a [bias] model the headline says the numbers rest on the assumed bias priors."""
    spec = {"bias": {"common": {"mu": -0.2, "sigma": 0.1}}}
    post = fit(spec, evidence=load_evidence(data=DF[["study", "log_hr", "se"]]), engine="exact")
    assert "assumes            the [bias] priors of the spec" in repr(post)


def test_to_xarray_carries_the_probabilities_under_the_one_key_scheme():
    post = fit({"report": {"thresholds": [1.0, 0.75], "harm_threshold": 1.3}},
               evidence=load_evidence(data=DF[["study", "log_hr", "se"]]), engine="exact")
    ds, s = post.to_xarray(), post.summary(observational=False)
    for quantity, prefix in (("pooled", "p_hr_"), ("predictive", "p_pred_hr_")):
        for key in ("lt_1", "lt_0.75", "gt_1.3"):
            assert float(ds[prefix + key]) == pytest.approx(s["prob"][quantity]["p_hr_" + key], rel=TOL["float"])
    assert "p_hr_lt_1.0" not in ds


def test_bad_questions_get_clear_answers():
    post = fit({}, evidence=load_evidence(data=DF[["study", "log_hr", "se"]]), engine="exact")
    with pytest.raises(KeyError, match=r"no quantity 'a' in this posterior; there are: 'pooled'"):
        post["a"]
    assert post["study", "a"].median() == pytest.approx(post["study", "a"].quantile([0.5])[0])
    for bad in ("0.9", 95, 1.0, True):
        with pytest.raises(ValueError, match=r"ci_prob\) must be a number between 0 and 1"):
            post.summary(ci_prob=bad)


def test_package_exports():
    assert "Posterior" in bayesnet.__all__ and "fit" in dir(bayesnet)
    from bayesnet.posterior import Posterior

    assert bayesnet.Posterior is Posterior
    with pytest.raises(AttributeError):
        bayesnet.no_such_thing  # noqa: B018


def test_to_xarray_keeps_strata_as_dimensions():
    spec = {"model": {"covariates": ["design", "source"]}}
    post = fit(spec, evidence=load_evidence(data=DF), engine="exact")
    ds = post.to_xarray()
    tidy = post.tidy()
    assert ds["stratum_hr"].dims == ("covariate", "level", "stat")
    assert list(ds["covariate"].values) == ["design", "source"]
    assert set(ds["level"].values) == {"cohort", "rct", "registry", "a", "b"}
    cols = {"mean": "mean", "sd": "sd", "median": "median", "ci_low": "ci_low", "ci_high": "ci_high",
            "hpd_low": "hpd_low", "hpd_high": "hpd_high"}
    for kind, var in (("stratum", "stratum_hr"), ("stratum_predictive", "stratum_predictive_hr")):
        rows = tidy[tidy["quantity"] == kind]
        assert len(rows) == 5
        for _, r in rows.iterrows():
            got = ds[var].sel(covariate=r["covariate"], level=r["level"])
            for stat, col in cols.items():
                assert float(got.sel(stat=stat)) == pytest.approx(r[col], rel=TOL["float"]), (kind, r["level"], stat)
    # a level of another covariate is empty, not a number
    assert np.isnan(ds["stratum_hr"].sel(covariate="design", level="a")).all()
    pooled = tidy[tidy["quantity"] == "pooled"].iloc[0]
    assert float(ds["pooled_hr"].sel(stat="median")) == pytest.approx(pooled["median"])
    assert ds["study_hr"].dims == ("study", "stat") and list(ds["study"].values) == list("abcdef")
