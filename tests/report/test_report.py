"""The panel report: numbers follow the data, user text is escaped, the page renders in a
real headless browser."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from bayesnet.report import write_report

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "gepnet_ptr"
    assert write_report(SPEC, out) == out
    return out, json.loads((out / "summary.json").read_text())


def test_outputs_exist(shipped):
    out, rep = shipped
    for f in ("report.html", "report.md", "summary.json", "studies.csv", "sweep.csv", "influence.csv"):
        assert (out / f).stat().st_size > 0, f
    for fig in ("forest", "density", "sweep", "influence"):
        assert (out / "figures" / f"{fig}.png").stat().st_size > 0
        assert (out / "figures" / f"{fig}.svg").stat().st_size > 0
    s = json.loads((out / "summary.json").read_text())
    for key in ("engine", "k", "pooled", "tau", "predictive", "prob", "strata", "coefficients", "studies",
                "frequentist", "diagnostics", "provenance"):
        assert key in s


def test_sections_in_panel_order(shipped):
    out, _ = shipped
    md = (out / "report.md").read_text()
    heads = [line for line in md.splitlines() if line.startswith("## ") and not line.startswith("## Appendix")]
    assert [h.split(". ", 1)[0] for h in heads] == [f"## {i}" for i in range(1, len(heads) + 1)]
    titles = [h.split(". ", 1)[1] for h in heads]
    # the question, the summary of findings (headline and its assumptions), then the evidence, then details
    order = ["The question", "Summary of findings", "Could bias explain the benefit?",
             "Absolute effects and the probability of benefit at any threshold", "The studies analysed",
             "By study design", "Forest plot", "GRADE-ready statements", "GRADE certainty: a draft for the panel",
             "Methods"]
    assert [t for t in titles if t in order] == order
    assert "MCMC diagnostics" not in titles  # the exact engine has none: no filler section
    pos = md.index("## 2. Summary of findings")
    assert md.index("Pooled HR ", pos) < md.index("## 3. ")  # the headline sits under Summary of findings
    # the excluded rows are an appendix, after every numbered section
    assert md.index("## Appendix: rows excluded by the selection") > md.index(heads[-1])
    assert md.index("rows excluded by the selection, and why") > md.index(heads[-1])
    assert "Imprecision (threshold HR 0.8)" in md and "Inconsistency:" in md and "Robustness to the prior" in md


def test_text_numbers_come_from_summary(shipped):
    out, rep = shipped
    md = (out / "report.md").read_text()
    p = rep["pooled"]["hr"]
    assert f"Pooled HR {p['median']:.2f} (95% credible interval {p['ci95'][0]:.2f}-{p['ci95'][1]:.2f})" in md


def test_text_follows_the_data(tmp_path):
    data = pd.DataFrame({"study": ["A", "B", "C", "D"], "hr": [1.6, 1.4, 1.9, 1.5], "ci_low": [1.1, 0.9, 1.2, 1.0],
                         "ci_high": [2.3, 2.2, 3.0, 2.25], "design": ["cohort", "cohort", "case_series", "case_series"]})
    f = tmp_path / "harm.csv"
    data.to_csv(f, index=False)
    out = write_report(SPEC, tmp_path / "r", data=f)
    rep = json.loads((out / "summary.json").read_text())
    md = (tmp_path / "r" / "report.md").read_text()
    p = rep["pooled"]["hr"]
    assert p["median"] > 1.2
    assert f"Pooled HR {p['median']:.2f}" in md
    assert "does not hold under every prior" in md
    assert "Mean HR by design" in md and "| case series" in md  # design strata from the auxiliary regression


def test_html_escapes_user_data(tmp_path):
    evil = '<script>alert("x")</script> "quoted" & <b>bold</b>'
    data = pd.DataFrame({"study": [evil, "B", "C"], "hr": [0.5, 0.6, 0.7], "ci_low": [0.3, 0.4, 0.5],
                         "ci_high": [0.8, 0.9, 0.98]})
    f = tmp_path / "evil.csv"
    data.to_csv(f, index=False)
    write_report(SPEC, tmp_path / "r", data=f)
    page = (tmp_path / "r" / "report.html").read_text()
    # no script but the what-if panel's own two elements (its JSON data and its code, allowed by hash)
    assert page.count("<script") == 2 and page.count('<script type="application/json" id="wi-data">') == 1
    assert "<script" not in page.split('<script type="application/json" id="wi-data">')[0].lower()
    # Jinja2's autoescape (markupsafe) spells the quote &#34; (html.escape wrote &quot;)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &#34;quoted&#34; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "<b>bold</b>" not in page


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("no Chromium installed (Debian package 'chromium'; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright (Python) is not installed")
    return chromium, sync_playwright


def _open(**page_kw):
    """Start headless Chromium (Debian's) through Playwright; returns (playwright, browser,
    page). The page is empty until `_load`, so handlers can be attached first."""
    chromium, sync_playwright = _browser()
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=chromium, args=ARGS)
    page = b.new_page(**page_kw)
    return pw, b, page


def _load(page, html_path):
    page.goto(Path(html_path).as_uri())


ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def test_report_renders_in_headless_chromium(shipped, tmp_path):
    out, _ = shipped
    pw, b, page = _open(viewport={"width": 1100, "height": 1400})
    try:
        _load(page, out / "report.html")
        sizes = page.evaluate("Array.from(document.images).map(i => [i.naturalWidth, i.naturalHeight, i.complete])")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        b.close()
        pw.stop()
    n_img = (out / "report.html").read_text().count("<img ")
    assert len(sizes) == n_img >= 4  # every figure of the report loaded (forest, density, sweep, influence, ...)
    assert all(w > 0 and h > 0 and ok for w, h, ok in sizes)
    assert shot.stat().st_size > 10_000


def test_malicious_page_stays_inert_in_browser(tmp_path):
    _browser()
    evil = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'
    data = pd.DataFrame({"study": [evil, "B", "C"], "hr": [0.5, 0.6, 0.7], "ci_low": [0.3, 0.4, 0.5],
                         "ci_high": [0.8, 0.9, 0.98]})
    f = tmp_path / "evil.csv"
    data.to_csv(f, index=False)
    write_report(SPEC, tmp_path / "r", data=f)
    pw, b, page = _open()
    try:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        _load(page, tmp_path / "r" / "report.html")
        page.wait_for_timeout(300)
        title = page.title()
        n_scripts = page.evaluate("document.scripts.length")
        text = page.evaluate("document.body.innerText")
    finally:
        b.close()
        pw.stop()
    # the only scripts are the what-if panel's data (JSON, not run) and its code, the one script
    # the Content-Security-Policy allows (by hash): the injected markup stayed text
    assert title != "pwned" and not dialogs and n_scripts == 2
    assert "<script>document.title" in text
    page_src = (tmp_path / "r" / "report.html").read_text()
    assert page_src.count("<script") == 2 and "'unsafe-inline'; script-src 'sha256-" in page_src
    assert "script-src 'unsafe-inline'" not in page_src


def test_what_if_slider_shows_the_grid(shipped):
    """Drive the what-if panel in headless Chromium as a reader would (keyboard on the
    slider, the threshold menu): the page shows the grid's numbers, offline."""
    from bayesnet import format as fmt

    out, rep = shipped
    g = rep["what_if"]
    pw, b, page = _open(viewport={"width": 1280, "height": 900})
    try:
        errors, requests = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        _load(page, out / "report.html")

        def shown():
            return {k: page.text_content(f"#wi-{k}") for k in ("ratio-out", "p-pooled", "p-predictive",
                                                                "abs-0-pooled", "abs-0-predictive")}

        def want(i, t):
            a = g["absolute"][0]
            diff = lambda x: (f"{abs(round(x['median']))} {'more' if round(x['median']) >= 0 else 'fewer'} alive per "
                              f"1000 ({abs(round(x['ci95'][0]))} {'more' if round(x['ci95'][0]) >= 0 else 'fewer'} "
                              f"to {abs(round(x['ci95'][1]))} {'more' if round(x['ci95'][1]) >= 0 else 'fewer'})")
            return {"ratio-out": f"{g['ratio'][i]:.2f}", "p-pooled": fmt.p(g["pooled"][t][i]),
                    "p-predictive": fmt.p(g["predictive"][t][i]), "abs-0-pooled": diff(a["pooled"][i]),
                    "abs-0-predictive": diff(a["predictive"][i])}

        first = shown()
        page.focus("#wi-ratio")
        for _ in range(30):  # 30 steps of 0.01 down from R = 1
            page.keyboard.press("ArrowLeft")
        at_070 = shown()
        page.select_option("#wi-t", "0.8")
        at_070_08 = shown()
        page.keyboard.press("End")  # no bias again; then all the way down
        page.focus("#wi-ratio")
        page.keyboard.press("Home")
        at_050 = shown()
    finally:
        b.close()
        pw.stop()
    i70 = min(range(len(g["ratio"])), key=lambda i: abs(g["ratio"][i] - 0.7))
    assert first == want(len(g["ratio"]) - 1, "1")
    assert at_070 == want(i70, "1") and at_070 != first
    assert at_070_08 == want(i70, "0.8")
    assert at_050 == want(0, "0.8")
    assert not errors
    assert all(u.startswith(("file:", "data:")) for u in requests), requests  # works offline


def test_tables_read_in_plain_words(shipped):
    out, _ = shipped
    md = (out / "report.md").read_text()
    tables = [ln for ln in md.splitlines() if ln.startswith("| ")]
    text = "\n".join(tables)
    # codes become words through bayesnet.vocabulary; the appendix's row ids stay ids
    for raw in ("propensity_weighted_cohort", "se_from_p_bound", "hr_ci", "single_center", "source_type",
                "data_source"):
        assert raw not in text.split("Appendix")[0], raw
    assert "propensity-weighted cohort" in text and "SE from a p-value bound" in text
    studies = next(ln for ln in tables if ln.startswith("| study |"))
    assert "flags" not in studies  # no study has a flag: the empty column is not printed
    lines = md.splitlines()
    headers = [lines[i - 1] for i, ln in enumerate(lines) if ln.startswith("|---")]
    assert len(headers) >= 8 and all("|  |" not in h for h in headers)  # every column has a header
    assert not any(h.endswith("| status |") for h in headers)  # every refit was possible: no status column
    assert any(h.startswith("| analysis | k |") and "| note |" in h for h in headers)


BROKEN_WORDS_JS = """() => {
  const lines = (r) => new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size;
  const bad = [];
  document.querySelectorAll("th, td").forEach(cell => {
    const w = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = w.nextNode())) {
      const re = /\\S+/g;
      let m;
      while ((m = re.exec(n.data))) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        if (lines(r) > 1) bad.push("word broken: " + m[0]);
      }
    }
  });
  document.querySelectorAll("td.nw, span.nw").forEach(c => {
    const r = document.createRange();
    r.selectNodeContents(c);
    if (lines(r) > 1) bad.push("wrapped: " + c.textContent);
  });
  return bad;
}"""


def test_tables_never_break_a_word_or_a_number_in_the_browser(shipped):
    """At a laptop's width (1280 px) no header or cell breaks inside a word, and no number
    (a numeric cell, an interval, a hyphenated word) wraps."""
    out, _ = shipped
    pw, b, page = _open(viewport={"width": 1280, "height": 800})
    try:
        _load(page, out / "report.html")
        bad = page.evaluate(BROKEN_WORDS_JS)
        n_nw = page.evaluate("document.querySelectorAll('td.nw, span.nw').length")
    finally:
        b.close()
        pw.stop()
    assert n_nw > 50  # the check saw the numbers
    assert not bad, bad
