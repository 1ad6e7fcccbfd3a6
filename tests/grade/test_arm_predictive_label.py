"""Issue 16: the arm-level (liver) report's interval for a new study is called a predictive
interval, never a credible interval (the arm data go through the one report)."""

from pathlib import Path

from bayesnet.report import build_report, content, render_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_new_study_interval_is_called_predictive_in_the_liver_report():
    rep, _ = build_report(ROOT / "models" / "liver_resection_case_series.toml", sensitivity=False,
                          publication_bias=False)
    md = render_markdown(content(rep, {}))
    lo, hi = (f"{v:.2f}" for v in rep["predictive"]["hr"]["ci95"])
    assert f"between {lo} and {hi} (95% predictive interval)" in md
    rows = [line for line in md.splitlines() if line.startswith("| new study")]
    assert rows and all("predictive" in r for r in rows)
    assert "HR in a new study (95% CrI" not in md
