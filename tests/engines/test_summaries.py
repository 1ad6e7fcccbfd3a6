"""summary.json: no non-finite numbers, HR overflow as null with a warning, k < 3 warning,
the headline's label."""

import math

import pandas as pd
import pytest

from bayesnet.api import fit
from bayesnet.evidence import load_evidence
from bayesnet.summaries import assert_finite, summary_dict


def _fit(df, raw=None):
    return fit(raw or {}, evidence=load_evidence(data=df), engine="exact")


def test_two_studies_warn_that_tau_is_prior_driven():
    s = summary_dict(_fit(pd.DataFrame({"study": ["a", "b"], "log_hr": [-0.4, -0.6], "se": [0.2, 0.3]})))
    assert any("informed mainly by its prior" in w for w in s["warnings"])
    assert s["pooled_label"] == "pooled HR"
    s = summary_dict(_fit(pd.DataFrame({"study": list("abc"), "log_hr": [-0.4, -0.6, -0.1], "se": [0.2, 0.3, 0.25]})))
    assert not any("informed mainly by its prior" in w for w in s["warnings"])


def test_huge_se_or_hr_does_not_crash_and_is_never_inf():
    df = pd.DataFrame({"study": list("abcd"), "log_hr": [-0.4, -0.6, -0.1, math.log(1e308)],
                       "se": [0.2, 0.3, 0.25, 1e3]})
    try:
        post = _fit(df)
    except Exception as exc:  # noqa: BLE001 the evidence layer may refuse such a row: then it must be a user error
        from bayesnet.errors import BayesnetError
        assert isinstance(exc, BayesnetError)
        return
    s = summary_dict(post)
    assert_finite({k: v for k, v in s.items() if k not in ("provenance", "diagnostics")})


def test_covariate_headline_label():
    df = pd.DataFrame({"study": list("abcdef"), "log_hr": [-0.5, -0.3, -0.7, -0.2, -0.6, -0.4],
                       "se": [0.2, 0.25, 0.3, 0.2, 0.22, 0.3],
                       "design": ["cohort", "cohort", "cohort", "registry", "registry", "registry"]})
    s = summary_dict(_fit(df, {"model": {"covariates": ["design"], "reference": {"design": "registry"}}}))
    assert s["pooled_label"] == "HR at the reference levels (design = registry)"
    assert s["frequentist"]["REML"]["covariates"] is True


def test_assert_finite_catches_nan():
    with pytest.raises(RuntimeError, match="internal error"):
        assert_finite({"pooled": {"hr": {"ci95": [0.5, float("nan")]}}})
