"""Issue 16: the report's tables read as a panel expects: readable column names and
values (one vocabulary), no empty columns, a header on every column, and numbers that never
wrap inside a cell."""

import re

import pytest

from bayesnet import vocabulary as words
from bayesnet.report import CSS, Table, render_html
from bayesnet.report.blocks import numeric_cell
from bayesnet.report.render import keep_numbers


def test_empty_columns_are_not_printed_and_every_column_has_a_header():
    t = Table(["study", "flags", "status", "HR"], [["A", "", "", "0.5"], ["B", " ", "", "0.7"]], "cap")
    assert t.header == ("study", "HR") and t.rows == (("A", "0.5"), ("B", "0.7"))
    with pytest.raises(ValueError, match="every column needs a header"):
        Table(["study", ""], [["A", "most influential"]], "cap")
    with pytest.raises(ValueError, match="2 cells"):
        Table(["a", "b"], [["only one"]], "cap")
    # a header-only table (no rows) keeps its header
    assert Table(["a", "b"], [], "cap").header == ("a", "b")


def test_numeric_cells_never_wrap():
    for c in ("0.63", "0.37-0.97", "<0.001", ">0.999", "0.65 (0.56-0.76)\u2020", "n/a", "65%", "-143 to 459"):
        assert numeric_cell(c), c
    for c in ("5 years", "z = -2.03, p = 0.042", "half-normal(0.25)", "registry", ""):
        assert not numeric_cell(c), c
    t = Table(["study", "HR (95% CI)", "time", "note"],
              [["Xiang et al. 2018 (multicentre, a long label)", "0.70 (0.40-1.21)", "5 years",
                "171 more alive per 1000 (11 more to 341 more); SEER-Medicare"]], "cap")
    assert t.numeric == (False, True, False, False) and t.nowrap == (False, True, True, False)
    page = render_html([t], {})
    assert '<td class="nw">0.70 (0.40-1.21)</td><td class="nw">5 years</td>' in page
    # inside wrapping text, intervals and hyphenated words are kept on one line
    assert '<span class="nw">(11 more to 341 more);</span> <span class="nw">SEER-Medicare</span>' in page
    # headers wrap only between words; no rule lets a browser break inside a word or a number
    assert "anywhere" not in CSS and "break-all" not in CSS
    assert re.search(r"td\.nw,span\.nw\{white-space:nowrap", CSS)


def test_keep_numbers_escapes_first():
    out = str(keep_numbers('<img src=x onerror="a(1-2)"> 0.1-0.2 & (1 to 2)'))
    assert "<img" not in out and "&lt;img" in out
    assert '<span class="nw">0.1-0.2</span>' in out and '<span class="nw">(1 to 2)</span>' in out
    assert out.count("<span") == out.count("</span>") == len(re.findall(r"<span", out))
    assert "<" not in re.sub(r'</?span( class="nw")?>', "", out)


def test_vocabulary():
    assert words.column_name("data_source") == "data source" and words.column_name("source_type") == "source"
    assert words.value("propensity_weighted_cohort") == "propensity-weighted cohort"
    assert words.value("single_center") == "single centre" and words.value("NCDB") == "NCDB"
    assert words.value("SEER_all_sites") == "SEER all sites"  # not in the table: underscores as spaces
    assert words.derivation("se_from_p_bound+inverted") == ("SE from a p-value bound; inverted (reported as "
                                                            "control vs treated)")
    assert words.derivation("hr_ci") == "HR and CI as reported" and words.derivation("") == ""
    assert words.left_out("design=case_series", "level") == "without design: case series"
    assert words.left_out("S1", "study", {"S1": "Smith 2001"}) == "without Smith 2001"
    assert words.left_out("(none)", "full") == "all studies"


def test_every_derivation_tag_has_words():
    from bayesnet.evidence.derivations import CONVERSIONS

    for c in CONVERSIONS:
        for tag in c.tags:
            assert tag in words.WORDS, tag
