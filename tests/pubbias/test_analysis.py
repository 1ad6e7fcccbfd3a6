"""Publication-bias glue: a fitted posterior to the summary block, the GRADE domain, the CLI
verb and the report section."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from bayesnet.api import fit, load_spec
from bayesnet.pubbias.analysis import analyse_publication_bias, grade_publication_bias

from ..conftest import TOL

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def _block(k, bf, p):
    return {"k": k, "egger": {"p": p}, "averaging": {"inclusion_bf": {"bias": bf},
                                                    "pooled": {"hr": {"median": 0.8}},
                                                    "without_bias_components": {"pooled": {"hr": {"median": 0.6}}}}}


def test_grade_domain_below_ten_studies_never_claims_an_assessment():
    d = grade_publication_bias(_block(5, 0.5, 0.6))
    assert d["concern"] == "cannot be assessed" and "with 5 studies it cannot be assessed reliably" in d["sentence"]
    d = grade_publication_bias(_block(5, 12.0, 0.04))
    assert d["concern"] == "possible (panel to judge)" and "possible signal of small-study effects" in d["sentence"]
    assert "0.80 with the bias models and 0.60 without" in d["sentence"]


def test_egger_significance_below_ten_studies_is_never_a_finding():
    """At k < 10 Egger's p is reported with the words that the test has too little power,
    and never makes a signal (issue 15: z p = 0.042, small-sample t p = 0.12 at k = 5)."""
    d = grade_publication_bias(_block(5, 0.5, 0.004))
    assert d["concern"] == "cannot be assessed"
    assert "too little power at 5 studies" in d["sentence"] and "signal" not in d["sentence"]
    assert "p < 0.001" not in d["sentence"] and "p = 0.004" in d["sentence"] and "0.00," not in d["sentence"]
    blk = _block(12, 0.5, 0.5)
    blk["egger"]["small_sample"] = {"t": -2.5, "df": 10, "p": 0.03}
    assert grade_publication_bias(blk)["concern"] == "serious"
    blk["egger"]["small_sample"]["p"] = 0.3  # the z test's p alone does not decide
    blk["egger"]["p"] = 0.01
    assert grade_publication_bias(blk)["concern"] == "not serious"


def test_shipped_egger_is_the_small_sample_test_and_the_funnel_is_centred_as_reported():
    spec = load_spec(ROOT / "models" / "ptr_bias_adjusted.toml")
    adj = fit(spec, frequentist=False)
    pb = analyse_publication_bias(adj)
    assert pb["egger"]["p"] == pytest.approx(0.042, abs=5e-4)  # z test (metafor default)
    assert pb["egger"]["small_sample"]["p"] == pytest.approx(0.120, abs=5e-4) and pb["egger"]["small_sample"]["df"] == 3
    # the funnel's centre is the pooled HR as reported (0.51), labelled, not the model average (0.84)
    assert pb["funnel"]["pooled"]["log_hr"] == pytest.approx(adj.as_reported["pooled"].median(), abs=1e-12)
    assert "as reported" in pb["funnel"]["pooled"]["label"]
    assert pb["funnel"]["pooled"]["log_hr"] != pytest.approx(pb["averaging"]["pooled"]["log_hr"]["median"], abs=0.05)


def test_grade_domain_with_enough_studies():
    assert grade_publication_bias(_block(12, 5.0, 0.5))["concern"] == "serious"
    assert grade_publication_bias(_block(12, 0.8, 0.4))["concern"] == "not serious"


def test_bias_adjusted_fit_is_analysed_on_the_reported_estimates():
    spec = load_spec(ROOT / "models" / "ptr_bias_adjusted.toml")
    adj = fit(spec, frequentist=False)
    plain = fit(__import__("dataclasses").replace(spec, bias=None), frequentist=False)
    a, b = analyse_publication_bias(adj), analyse_publication_bias(plain)
    assert a["egger"]["z"] == pytest.approx(b["egger"]["z"], abs=TOL["float"])
    assert a["k"] == 5 and "cannot be assessed reliably" in a["caveat"]


def test_events_columns_feed_debrays_test(tmp_path):
    df = pd.DataFrame({"study": [f"s{i}" for i in range(6)], "log_hr": [-0.5, -0.3, -0.8, -0.1, -0.6, -0.2],
                       "se": [0.2, 0.3, 0.4, 0.15, 0.35, 0.25], "events_total": [120, 60, 30, 200, 40, 90]})
    post = fit({"report": {"thresholds": [1.0]}}, data=df, frequentist=False)
    pb = analyse_publication_bias(post)
    assert pb["debray"] is not None and pb["debray"]["k"] == 6 and pb["debray"]["variant"] == "D-FIV"


def test_publication_bias_spec_section_is_validated(tmp_path):
    from bayesnet.errors import SpecError

    with pytest.raises(SpecError) as e:
        load_spec({"publication_bias": {"ensemble": "everything", "direction": "up"}})
    assert len(e.value.problems) >= 2


def test_cli_bias_writes_json_and_funnel(tmp_path):
    out = tmp_path / "pb"
    r = subprocess.run([sys.executable, "-m", "bayesnet.cli", "bias", str(ROOT / "models" / "ptr_random_effects.toml"),
                        "--out", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].startswith("With 5 studies, publication bias cannot be assessed reliably")
    j = json.loads((out / "publication_bias.json").read_text())
    assert j["publication_bias"]["k"] == 5 and (out / "funnel.svg").exists()


def test_averaging_is_skipped_with_a_note_beyond_its_size_limit():
    import numpy as np

    from bayesnet.pubbias.summary import publication_bias_summary

    rng = np.random.default_rng(1)
    s = rng.uniform(0.1, 0.5, 12)
    y = rng.normal(-0.3, s)
    pb = publication_bias_summary(y, s, None, max_averaging_k=10)
    assert pb["averaging"] is None and "not run: 12 studies is more than 10" in pb["averaging_note"]
    assert pb["egger"]["k"] == 12 and len(pb["funnel"]["points"]) == 12
    assert grade_publication_bias(pb)["concern"] in ("serious", "not serious")
