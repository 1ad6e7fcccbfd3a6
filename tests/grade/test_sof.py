"""The GRADE Summary-of-Findings table (issue 15, issue 16): first section of the report,
relative effect as reported and under the stated bias, absolute effects per 1000 at each
baseline on both bases, the certainty draft and a footnote per downgrade; the spec's
[report] treatment names the treatment everywhere (never a hard-coded one)."""

import math
from pathlib import Path

import pytest

from bayesnet.report import build_report, content
from bayesnet.report.blocks import Heading, Notes, Table
from bayesnet.report.sof import sof_blocks, summary_of_findings

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_bias_adjusted.toml"


@pytest.fixture(scope="module")
def built():
    rep, post = build_report(SPEC, engine="exact", sensitivity=False)
    return rep, post


def test_sof_block_numbers_and_bases(built):
    rep, post = built
    s = rep["summary_of_findings"]
    u = rep["unadjusted"]["pooled"]["hr"]
    assert s["relative_effect"]["as_reported"] == {"hr": u["median"], "ci95": u["ci95"]}
    assert s["relative_effect"]["under_stated_bias"]["hr"] == rep["pooled"]["hr"]["median"]
    assert s["studies"] == 5 and s["participants"]["n"] > 0
    assert s["treatment"] == "primary tumour resection" and s["outcome"].startswith("Overall survival")
    # one absolute row per [[absolute]] baseline, the bias-adjusted equal to the headline block
    assert len(s["absolute"]) == len(rep["absolute"]) == 3
    for a, r in zip(s["absolute"], rep["absolute"]):
        assert math.isclose(a["under_stated_bias"]["difference_per_1000"], r["difference_per_1000"]["median"])
        # as reported (HR 0.51) gives more alive than under the stated bias (HR 0.63)
        assert a["as_reported"]["difference_per_1000"] > a["under_stated_bias"]["difference_per_1000"]
        # S_with = S_without ** HR at the posterior median HR (monotone map: medians commute)
        want = 1000 * r["baseline_survival"] ** u["median"]
        assert math.isclose(a["as_reported"]["treated_per_1000"], want, rel_tol=1e-6)
    g = rep["grade_draft"]
    down = [n for n, d in g["domains"].items() if d["concern"] == "serious"]
    assert [f["domain"] for f in s["footnotes"] if f["downgrade"]] == down
    assert s["certainty"] == g["overall"]["certainty"]


def test_sof_is_the_first_section_and_names_the_treatment(built):
    rep, _ = built
    blocks = content(rep, {})
    heads = [b for b in blocks if isinstance(b, Heading) and b.level == 2]
    # the question first, then "Summary of findings" opening with the SoF table (issue 16's order)
    assert [h.text for h in heads[:2]] == ["1. The question", "2. Summary of findings"]
    after = blocks[blocks.index(heads[1]) + 1:]
    tab = next(b for b in after if isinstance(b, Table))
    assert tab.caption.startswith("Summary of findings")
    assert tab.header[4] == "With primary tumour resection (95% CrI)"
    row = tab.rows[0]
    u = rep["unadjusted"]["pooled"]["hr"]
    assert f"HR {u['median']:.2f} ({u['ci95'][0]:.2f}-{u['ci95'][1]:.2f}) as reported" in row[2]
    assert "under the stated bias" in row[2] and "VERY LOW" in row[6] or "LOW" in row[6]
    assert len(tab.rows) == 3
    notes = next(b for b in blocks if isinstance(b, Notes))
    assert any(n.startswith("a. Risk of bias, rated down one level") for n in notes.items)
    text = " ".join(str(getattr(b, "text", "")) + " ".join(getattr(b, "items", ())) for b in blocks)
    assert "with the treatment" not in text.lower()


def test_absolute_table_uses_report_treatment(built):
    rep, _ = built
    tabs = [b for b in content(rep, {}) if isinstance(b, Table) and b.caption.startswith("Absolute effects")]
    assert tabs and "with primary tumour resection (95% CrI)" in tabs[0].header
    assert not any("the treatment" in h for h in tabs[0].header)


def test_no_grade_draft_no_sof():
    assert summary_of_findings({"k": 3}) is None and sof_blocks({}) == []
