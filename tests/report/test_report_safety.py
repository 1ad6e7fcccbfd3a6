"""Issue 8: report.md is as inert as report.html, figures never clip or crash on user
text, the MCMC gate comes before the sweep, impossible refits become rows, the page shows
what was derived, and outputs are reproducible."""

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from bayesnet import plots
from bayesnet.api import fit, load_spec
from bayesnet.report import (
    Heading,
    Notes,
    Paragraph,
    Table,
    build_report,
    content,
    md_escape,
    methods_paragraph,
    write_report,
)

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"

EVIL_NAMES = ['<script>alert(1)</script>', '<img src=x onerror="alert(2)">', "pipe | in | name",
              "carriage\rreturn", "# heading", "[link](javascript:alert(3))", "$\\badcommand$"]


def _evil_report(tmp_path):
    n = len(EVIL_NAMES)
    data = pd.DataFrame({"study": EVIL_NAMES, "hr": np.linspace(0.5, 0.8, n), "ci_low": np.linspace(0.3, 0.5, n),
                         "ci_high": np.linspace(0.8, 1.2, n)})
    spec = tmp_path / "evil.toml"
    spec.write_text('[report]\ntitle = "<b>Title</b> | x"\n'
                    'question = "Line one\\n# Injected heading\\n| a | b |\\n|---|---|\\n| 1 | 2 |\\r<script>x</script>"\n'
                    'thresholds = [1.0, 0.8]\n')
    out = write_report(spec, tmp_path / "r", data=data)
    return out, (out / "report.md").read_text(encoding="utf-8")


def test_markdown_is_inert_and_tables_keep_their_shape(tmp_path):
    out, md = _evil_report(tmp_path)
    assert out == tmp_path / "r"  # write_report returns the output directory
    low = md.lower()
    assert "<script" not in low and "<img" not in low and "<b>" not in low
    assert not re.search(r"(?<!\\)\]\(javascript:", low)
    heads = [ln for ln in md.splitlines() if ln.lstrip().startswith("#")]
    assert heads[0].startswith("# ") and "Injected" not in "".join(heads)
    assert all(re.match(r"## (\d+\.|Appendix:) ", h) for h in heads[1:])
    assert "\r" not in md
    # every table row has exactly as many unescaped cell separators as its header
    lines = md.splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("|---"):
            ncol = ln.count("|")
            j = i + 1
            while j < len(lines) and lines[j].startswith("|"):
                assert len(re.findall(r"(?<!\\)\|", lines[j])) == ncol, lines[j]
                j += 1
    # the question is one paragraph, not a heading plus a table
    assert not any(ln.startswith("| a ") for ln in lines)
    assert "pipe \\| in \\| name" in md


def test_md_escape_unit():
    assert md_escape("a\nb\r\nc\rd\u2028e") == "a b c d e"
    assert md_escape("1. item") == "1\\. item" and md_escape("- item") == "\\- item"
    assert md_escape("0.45 (0.36-0.56)") == "0.45 (0.36-0.56)"
    assert md_escape("_x_ a_b *y*") == "\\_x\\_ a_b \\*y\\*"
    assert md_escape("<a href='x'>") == "&lt;a href='x'>"
    # text a renderer cannot read as markup stays as written (clinicians read report.md too)
    assert md_escape("P(HR < 1) & P(HR > 2)") == "P(HR < 1) & P(HR > 2)"
    assert md_escape("a &lt; b &#60;") == "a &amp;lt; b &amp;\\#60;"


def _assert_text_inside(fig):
    """Every drawn text artist lies inside the figure: the figure's tight bounding box
    (every drawn artist, tick labels included) and each non-tick text's window extent."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    W, H = fig.bbox.width, fig.bbox.height
    tb = fig.get_tightbbox(r)  # inches
    assert tb.x0 >= -0.01 and tb.y0 >= -0.01 and tb.x1 <= fig.get_figwidth() + 0.01 \
        and tb.y1 <= fig.get_figheight() + 0.01, (tb, fig.get_size_inches())
    ticks = {id(t) for ax in fig.axes for a in (ax.xaxis, ax.yaxis)
             for t in a.get_ticklabels(which="both") + [a.get_offset_text()]}
    for t in fig.findobj(matplotlib.text.Text):
        if id(t) in ticks or not t.get_visible() or not t.get_text().strip():
            continue
        bb = t.get_window_extent(r)
        assert bb.x0 >= -1 and bb.y0 >= -1 and bb.x1 <= W + 1 and bb.y1 <= H + 1, (t.get_text(), bb, W, H)


@pytest.fixture(scope="module")
def small_post():
    names = ["Study with a very long name that goes on and on (registry, 2004-2015)", "$\\badcommand$", "C", "D"]
    data = pd.DataFrame({"study": names, "hr": [0.5, 0.6, 0.7, 0.9], "ci_low": [0.3, 0.4, 0.5, 0.02],
                         "ci_high": [0.8, 0.9, 0.98, 40.0], "design": ["cohort", "cohort", "case_series", "case_series"]})
    return fit(load_spec(SPEC), data=data, engine="exact")


def test_no_figure_text_outside_the_figure(small_post):
    from bayesnet.sensitivity import influence, sweep

    post = small_post
    _assert_text_inside(plots.forest(post, title="A very long title " * 3))
    _assert_text_inside(plots.density(post))
    sw = sweep(post.spec, evidence=post.evidence)
    _assert_text_inside(plots.sweep_plot(sw))
    inf = influence(post.spec, evidence=post.evidence)
    _assert_text_inside(plots.influence_plot(inf))
    matplotlib.pyplot.close("all")


def test_forest_clips_long_tails_and_prints_numbers(small_post):
    fig = plots.forest(small_post)
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    assert lo > 0.02 and hi < 40.0  # the x-axis does not stretch to study D's tail
    texts = [t.get_text() for t in fig.axes[1].texts]
    assert "HR (95% CI)" in texts
    # a small reported bound keeps two significant digits (format.ratio_digits): 0.900 (0.020-40.000)
    assert any(re.match(r"0\.900? \(0\.0\d\d?-(39|40)\.\d\d\d?\)", t) for t in texts), texts
    labels = [t.get_text() for t in ax.texts]
    assert "HR 0.8" in labels and "harm 1.25" in labels
    matplotlib.pyplot.close("all")


def test_density_annotation_reads_greater_than():
    data = pd.DataFrame({"study": list("ABCDEF"), "hr": [0.5] * 6, "ci_low": [0.47] * 6, "ci_high": [0.53] * 6})
    post = fit(load_spec(SPEC), data=data, engine="exact")
    fig = plots.density(post)
    txt = "\n".join(t.get_text() for t in fig.axes[0].texts)
    assert "= >" not in txt and "= <" not in txt
    assert "P(HR < 1) > 0.999" in txt and "P(HR > 1.25) < 0.001" in txt
    matplotlib.pyplot.close("all")


def test_forest_caps_rows_at_scale():
    rng = np.random.default_rng(0)
    k = 300
    se = rng.uniform(0.1, 0.6, k)
    y = np.log(0.6) + 0.2 * rng.normal(size=k) + se * rng.normal(size=k)
    data = pd.DataFrame({"study": [f"S{i}" for i in range(k)], "log_hr": y, "se": se})
    post = fit(load_spec(SPEC), data=data, engine="exact")
    fig, note = plots.forest(post, max_rows=40, with_note=True)
    studies = [t.get_text() for t in fig.axes[0].get_yticklabels() if t.get_text().startswith("S")]
    assert len(studies) == 40
    assert "40" in note and str(k) in note
    # the drawn studies are those with the largest random-effects weight
    assert set(studies) == set(data.nsmallest(40, "se")["study"])
    matplotlib.pyplot.close("all")


def test_gate_is_checked_before_the_sweep(monkeypatch, tmp_path):
    import bayesnet.sensitivity as sens
    from bayesnet import api
    from bayesnet.errors import DiagnosticsFailed

    real_fit = api.fit

    def failing_fit(*a, **kw):
        post = real_fit(*a, **kw)
        post.diagnostics = {**post.diagnostics, "passed": False, "problems": ["max R-hat 1.02 > 1.01"]}
        return post

    def no_sweep(*a, **kw):
        raise AssertionError("the sweep ran before the gate")

    monkeypatch.setattr(api, "fit", failing_fit)
    monkeypatch.setattr(sens, "sweep", no_sweep)
    monkeypatch.setattr(sens, "influence", no_sweep)
    with pytest.raises(DiagnosticsFailed):
        write_report(SPEC, tmp_path / "r")
    assert not (tmp_path / "r").exists()


def _collinear_data():
    # leaving out s5 makes a and b identical (collinear); every other refit is possible
    return pd.DataFrame({"study": ["s1", "s2", "s3", "s4", "s5"], "hr": [0.5, 0.6, 0.7, 0.8, 0.65],
                         "ci_low": [0.3, 0.4, 0.5, 0.5, 0.4], "ci_high": [0.8, 0.9, 0.98, 1.2, 1.0],
                         "a": ["y", "y", "n", "n", "y"], "b": ["q", "q", "p", "p", "p"]})


def test_impossible_refit_is_a_row_not_a_crash(tmp_path):
    f = tmp_path / "five.csv"
    _collinear_data().to_csv(f, index=False)
    spec = tmp_path / "five.toml"
    spec.write_text('[data]\npath = "five.csv"\n[model]\ncovariates = ["a", "b"]\nreference = { a = "n", b = "p" }\n'
                    '[report]\nthresholds = [1.0, 0.8]\n')
    out = write_report(spec, tmp_path / "r")
    inf = pd.read_csv(out / "influence.csv")
    row = inf.set_index("omitted").loc["s5"]
    assert row["status"] == "not estimable" and "collinear" in row["reason"]
    assert (inf.loc[inf["omitted"] != "s5", "status"] == "ok").all()
    md = (out / "report.md").read_text()
    assert "not estimable" in md
    sw = pd.read_csv(out / "sweep.csv")
    assert sw["seed"].isna().all()  # exact fits have no seed
    s = json.loads((out / "summary.json").read_text())
    assert all(r["seed"] is None for r in s["sensitivity"]["sweep"])


def test_headline_reference_levels_and_methods_list_every_prior():
    spec = load_spec({"data": {"dataset": "gepnet_ptr", "select": "primary"},
                      "model": {"covariates": ["source_type"], "reference": {"source_type": "registry"}},
                      "priors": {"coef": {"source_type:institutional": {"dist": "normal", "mu": 0.0, "sigma": 0.3}}},
                      "report": {"thresholds": [1.0, 0.8]}})
    rep, post = build_report(spec, sensitivity=False)
    blocks = content(rep, {})
    head = next(b.text for b in blocks if isinstance(b, Paragraph) and b.text.startswith("Pooled HR"))
    assert head.startswith("Pooled HR at the reference levels (registry) ")
    m = methods_paragraph(rep)
    assert "beta[source_type:institutional] ~ Normal(0, 0.3^2) (override in [priors.coef])" in m
    # every prior as a statistician writes it, defaults included (issue 16)
    assert "mu ~ Normal(0, 1^2)" in m and "tau ~ Half-Normal(0.5)" in m and "dist=" not in m


def test_derived_intervals_are_marked_and_labels_shown(tmp_path):
    data = pd.DataFrame({"study": ["a1", "b2", "c3"], "label": ["Alpha 2001", "", "Gamma 2003"],
                         "hr": [0.5, 0.6, 0.7], "ci_low": [0.3, None, 0.5], "ci_high": [0.8, None, 0.98],
                         "p_value": [None, 0.03, None],
                         "warnings_note": ["", "", ""]})
    data = data.drop(columns="warnings_note")
    f = tmp_path / "d.csv"
    data.to_csv(f, index=False)
    out = write_report(SPEC, tmp_path / "r", data=f)
    md = (out / "report.md").read_text()
    rows = {ln.split("|")[1].strip(): ln for ln in md.splitlines() if ln.startswith("| ")}
    assert "Alpha 2001" in rows and "Gamma 2003" in rows and "b2" in rows  # label, else the id
    assert "\u2020" in rows["b2"] and "\u2020" not in rows["Alpha 2001"]
    assert "not reported by the study" in md
    s = json.loads((out / "summary.json").read_text())
    pi = s["frequentist"]["REML"]["hr_pi_t"]
    assert "prediction interval (t, k-2 df)" in md and "Knapp-Hartung, untruncated" in md
    assert f"{pi[0]:.2f}-{pi[1]:.2f}" in md


def test_long_flags_become_footnotes_and_table_does_not_scroll():
    from bayesnet.report import CSS, render_html

    rep_blocks = [Heading(1, "t"), Table(["study", "flags"], [["a", "see note [1]"]], "cap"), Notes(["[1] long"])]
    page = render_html(rep_blocks, {})
    assert "overflow-x" not in CSS and "display:block" not in CSS
    assert "[1] long" in page


def test_selection_dependence_sentences():
    from bayesnet.report import _selection_statements

    rep = {"prob": {"pooled": {"p_hr_lt_1": 0.97}}, "predictive": {"hr": {"ci95": [0.3, 0.9]}},
           "provenance": {"spec": {"report": {"thresholds": [1.0, 0.8]}}}}
    rows = [{"analysis": "keep largest (primary)", "p_hr_lt_1": 0.97, "pred_hr_low": 0.3, "pred_hr_high": 0.9},
            {"analysis": "SEER only", "p_hr_lt_1": 0.90, "pred_hr_low": 0.2, "pred_hr_high": 1.3}]
    txt = " ".join(_selection_statements(rep, rows))
    assert "depends on which overlapping studies are kept" in txt and "SEER only" in txt
    assert "the inconsistency judgement depends on the selection" in txt
    same = " ".join(_selection_statements(rep, rows[:1]))
    assert "depends" not in same


def test_reproducible_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.chdir(ROOT)
    data = pd.DataFrame({"study": ["A", "B", "C"], "hr": [0.5, 0.6, 0.7], "ci_low": [0.3, 0.4, 0.5],
                         "ci_high": [0.8, 0.9, 0.98]})
    f = tmp_path / "d.csv"
    data.to_csv(f, index=False)
    a = write_report(SPEC, tmp_path / "a", data=f)
    b = write_report(SPEC, tmp_path / "b", data=f)
    s = json.loads((a / "summary.json").read_text())
    assert s["provenance"]["created"] == "2023-11-14T22:13:20+00:00"
    assert s["provenance"]["spec_path"] == "models/ptr_random_effects.toml"
    assert str(ROOT) not in (a / "summary.json").read_text()
    for name in ("summary.json", "report.md", "report.html", "figures/forest.svg", "figures/influence.svg",
                 "figures/forest.png"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
