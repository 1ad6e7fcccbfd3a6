"""The render layer (issue 9): templates shipped as package data, escaping by the
template default, content blocks rendered by both renderers, one formatting module."""

import fnmatch
import html
import re
import tomllib
from pathlib import Path

import pytest

from bayesnet import format as fmt
from bayesnet.report import Bullets, Figure, Heading, Notes, Paragraph, Table, render_html, render_markdown
from bayesnet.report.render import ARM_MD, CSS, template_files

ROOT = Path(__file__).resolve().parents[2]
EVIL = "<script>alert(1)</script> & Co"


def test_templates_are_package_data_and_found_by_importlib_resources():
    from importlib import resources

    names = template_files()
    assert {"report.html", "blocks.html", "report.css", "whatif.js"} <= set(names)
    base = resources.files("bayesnet.report").joinpath("templates")
    assert "<!DOCTYPE html>" in base.joinpath("report.html").read_text(encoding="utf-8")
    assert CSS and CSS == base.joinpath("report.css").read_text(encoding="utf-8").rstrip("\n")
    # every shipped template matches a package-data glob, so the wheel carries it
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["bayesnet"]
    for name in names:
        assert any(fnmatch.fnmatch(f"report/templates/{name}", g) for g in globs), name


def _blocks():
    return [Heading(1, "Title " + EVIL), Paragraph("para " + EVIL), Heading(2, "1. Section"),
            Bullets(["item " + EVIL, "second"]), Table(["study", "HR"], [[EVIL, 0.5]], "caption " + EVIL),
            Notes(["[1] note " + EVIL]), Figure("forest", "fig " + EVIL)]


def test_user_text_is_escaped_by_the_template_default(tmp_path):
    png = tmp_path / "forest.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    page = render_html(_blocks(), {"forest": png})
    assert "<script>" not in page and "& Co" not in page
    # title tag, h1, p, li, td, caption, notes, img alt, figcaption
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co") == 9
    assert 'alt="fig &lt;script&gt;' in page
    assert "data:image/png;base64," in page
    assert "Content-Security-Policy" in page and CSS in page


def test_blocks_round_trip_into_both_renderers(tmp_path):
    blocks = _blocks()
    page = render_html(blocks, {})
    md = render_markdown(blocks, {})
    # every text of every block appears in both renderings (escaped for each)
    texts = ["Title " + EVIL, "para " + EVIL, "1. Section", "item " + EVIL, "second", "caption " + EVIL,
             "[1] note " + EVIL, "study", "0.5"]
    for t in texts:
        assert html.escape(t, quote=True).replace("&#x27;", "&#39;") in page, t
        # in Markdown only what could open markup is an entity: "<" before a letter or "/"
        assert t.replace("<s", "&lt;s").replace("</", "&lt;/").replace("[", "\\[").replace("]", "\\]") in md, t
    assert "<figure>" not in page and "![" not in md  # no figure file: left out of both
    assert md.startswith("# Title &lt;script>") and "\n## 1. Section\n" in md and "\n- item " in md
    assert "| study | HR |\n|---|---|\n| &lt;script>alert(1)&lt;/script> & Co | 0.5 |" in md
    assert "<ul><li>item " in page and "<th>study</th><th>HR</th>" in page


def test_blocks_are_frozen_and_normalise_cells():
    t = Table(["a", 1], [[1, None]], "c")
    assert t.header == ("a", "1") and t.rows == (("1", "None"),)
    with pytest.raises(AttributeError):
        t.caption = "x"
    assert Bullets(["x"]).items == ("x",)


def test_arm_markdown_layout():
    md = render_markdown([Heading(2, "Studies"), Table(["study"], [["case_series"]], "cap"),
                          Figure("arm_forest", "per arm")], style=ARM_MD)
    assert md == "## Studies\n\n| study |\n|---|\n| case\\_series |\n\ncap\n\n![per arm](figures/arm_forest.svg)\n\n"


def test_render_markdown_refuses_other_objects():
    with pytest.raises(TypeError):
        render_markdown([("p", "a tuple is not a block")], {})


@pytest.mark.parametrize("x, cell, after", [(None, "n/a", "= n/a"), (0.9995, ">0.999", "> 0.999"),
                                            (0.0004, "<0.001", "< 0.001"), (0.5, "0.500", "= 0.500"),
                                            (0.999, "0.999", "= 0.999"), (0.001, "0.001", "= 0.001")])
def test_probability_formats(x, cell, after):
    assert fmt.p(x) == cell and fmt.p_eq(x) == after


def test_number_formats():
    assert fmt.hr(0.6731) == "0.67" and fmt.hr(None) == "n/a" and fmt.hr(0.0412, 3) == "0.041"
    assert fmt.ci([0.41, 0.934]) == "0.41-0.93" and fmt.ci([None, 0.9]) == "n/a-0.90"
    assert fmt.ci([0.41, 0.93], sep=" to ") == "0.41 to 0.93"
    assert fmt.hr_cri(0.67, [0.41, 0.93]) == "0.67 (95% CrI 0.41 to 0.93)"
    assert fmt.hr_cri(0.67, [0.41, 0.93], label="") == "0.67 (0.41 to 0.93)"
    assert fmt.prob_label("p_hr_lt_0.8") == "P(HR < 0.8)" and fmt.prob_label("p_hr_gt_1.25") == "P(HR > 1.25)"
    assert fmt.prob_label("p_pred_hr_lt_1") == "P(new HR < 1)"
    assert [fmt.threshold(t) for t in (1.0, 0.8, 1.25, 1)] == ["1", "0.8", "1.25", "1"]
    assert fmt.threshold(0.1234567) == "0.1234567"  # "g" would round to 0.123457: the key must round-trip
    assert [fmt.p_words(x) for x in (0.9995, 0.995, 0.87, 0.005, 0.0001)] == ["> 0.999", "0.995", "0.87", "0.005",
                                                                               "< 0.001"]


def test_report_escapes_a_study_label_and_the_title(tmp_path):
    import pandas as pd

    from bayesnet.report import write_report

    label = 'Smith <script>alert("l")</script> & Jones'
    data = pd.DataFrame({"study": ["A", "B", "C"], "label": [label, "", ""], "hr": [0.5, 0.6, 0.7],
                         "ci_low": [0.3, 0.4, 0.5], "ci_high": [0.8, 0.9, 0.98]})
    spec = tmp_path / "s.toml"
    spec.write_text('[report]\ntitle = "R&D <script>t()</script>"\nthresholds = [1.0, 0.8]\n')
    out = write_report(spec, tmp_path / "r", data=data)
    page = (out / "report.html").read_text(encoding="utf-8")
    # the what-if panel's own two script elements (JSON data, and its code allowed by hash) aside
    ours = re.compile(r'<script type="application/json" id="wi-data">[^<]*</script>\n<script>.*?</script>', re.S)
    assert len(ours.findall(page)) == 1
    assert "<script" not in ours.sub("", page)
    assert "<title>R&amp;D &lt;script&gt;t()&lt;/script&gt;</title>" in page
    assert "<h1>R&amp;D &lt;script&gt;t()&lt;/script&gt;</h1>" in page
    assert "<td>Smith &lt;script&gt;alert(&#34;l&#34;)&lt;/script&gt; &amp; Jones</td>" in page
