"""Issue 15 item 5: the E-value of the bias-adjusted HR beside the one as reported, and the
"every study here is observational" sentence only when the design column says so."""

import tomllib
from pathlib import Path

import pandas as pd
import pytest

import bayesnet
from bayesnet.evalue import evalue_summary
from bayesnet.report.observational import bias_blocks

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_bias_adjusted.toml"
OBS = "Every study here is observational"


def _raw():
    raw = tomllib.loads(SPEC.read_text())
    raw.pop("mcmc")
    return raw


@pytest.fixture(scope="module")
def shipped():
    post = bayesnet.fit(_raw(), engine="exact", frequentist=False)
    return post, post.summary()


def test_evalue_of_the_adjusted_hr(shipped):
    post, s = shipped
    ev, eva = s["evalue"], s["evalue_adjusted"]
    assert ev == evalue_summary(post.as_reported["pooled"], rare_outcome=False)  # as reported: unchanged
    assert eva == evalue_summary(post["pooled"], rare_outcome=False)
    # the adjusted HR is nearer 1, so less further confounding explains it away
    assert 1 < eva["point"] < ev["point"] and eva["hr"]["median"] > ev["hr"]["median"]
    assert eva["point"] == pytest.approx(2.11, abs=0.01) and ev["point"] == pytest.approx(2.58, abs=0.01)
    words = s["evalue_adjusted_sentence"]
    assert words.startswith("Beyond the bias already assumed") and f"{eva['point']:.2f}" in words
    text = " ".join(getattr(b, "text", "") for b in bias_blocks(s))
    assert words in text and s["evalue_sentence"] in text


def test_no_adjusted_evalue_without_bias():
    raw = _raw()
    raw.pop("bias")
    s = bayesnet.fit(raw, engine="exact", frequentist=False).summary()
    assert s["evalue_adjusted"] is None and s["evalue_adjusted_sentence"] is None


def test_observational_sentence_follows_the_design_column(shipped, tmp_path):
    _, s = shipped
    assert s["designs"]["all_observational"] is True and s["designs"]["column"] == "design"
    assert any(OBS in getattr(b, "text", "") for b in bias_blocks(s))
    raw = _raw()
    raw.pop("bias")
    data = pd.DataFrame({"study": ["A", "B", "C", "D"], "hr": [0.6, 0.7, 0.8, 0.75], "ci_low": [0.4, 0.5, 0.6, 0.5],
                         "ci_high": [0.9, 0.98, 1.07, 1.1],
                         "design": ["randomised_trial", "cohort", "cohort", "cohort"]})
    f = tmp_path / "mixed.csv"
    data.to_csv(f, index=False)
    raw["data"] = {"path": str(f)}
    s2 = bayesnet.fit(raw, engine="exact", frequentist=False).summary()
    assert s2["designs"] == {"column": "design", "randomised": 1, "observational": 3, "unknown": 0,
                             "all_observational": False}
    assert not any(OBS in getattr(b, "text", "") for b in bias_blocks(s2))
    data.drop(columns="design").to_csv(f, index=False)  # no design column: nothing is claimed
    s3 = bayesnet.fit(raw, engine="exact", frequentist=False).summary()
    assert s3["designs"]["all_observational"] is None
    assert not any(OBS in getattr(b, "text", "") for b in bias_blocks(s3))
