"""The table of accepted effect statements (`bayesnet.evidence.derivations.CONVERSIONS`)
is the one source of the dispatch, the "no usable effect" fix and the README table."""

import re
from pathlib import Path

import pandas as pd
import pytest

from bayesnet.evidence import conversions as cv
from bayesnet.evidence import derive
from bayesnet.evidence.derivations import CONVERSIONS, choose, fix_message, markdown_table

from ..conftest import TOL

README = Path(__file__).resolve().parents[2] / "README.md"

#: One example row per conversion (its required columns only) and the effect it gives,
#: computed with the formula functions of `bayesnet.evidence.conversions`.
EXAMPLES = {
    "log_hr_se": ({"log_hr": -0.5, "se": 0.2}, cv.from_log_hr_se(-0.5, 0.2)),
    "hr_ci": ({"hr": 0.5, "ci_low": 0.3, "ci_high": 0.8}, cv.from_hr_ci(0.5, 0.3, 0.8)),
    "imputed_point_estimate": ({"ci_low": 0.3, "ci_high": 0.8}, cv.from_ci_only(0.3, 0.8)),
    "se_from_p": ({"hr": 0.5, "p_value": "0.01"}, cv.from_hr_p(0.5, 0.01)),
    "logrank_peto": ({"o_minus_e": -5.0, "v": 20.0}, cv.from_logrank(-5.0, 20.0)),
    "from_survival_proportions": ({"surv_treated": 0.5, "surv_control": 0.4, "n_treated": 60, "n_control": 60},
                                  cv.from_survival_proportions(0.5, 0.4, 60, 60)),
    "from_medians": ({"median_treated": 12.0, "median_control": 8.0, "events_treated": 30, "events_control": 35},
                     cv.from_medians(12.0, 8.0, 30, 35)),
    "from_medians_events_approx": ({"median_treated": 12.0, "median_control": 8.0, "n_treated": 60, "n_control": 60},
                                   cv.from_medians(12.0, 8.0, 30, 30, tag="from_medians_events_approx")),
}


def test_readme_table_is_the_generated_one():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"<!-- conversions-table[^>]*-->\n(.*?)<!-- /conversions-table -->", text, re.S)
    assert m, "README.md lacks the <!-- conversions-table --> ... <!-- /conversions-table --> markers"
    assert m.group(1) == markdown_table(), ("the README table of accepted inputs differs from "
                                            "bayesnet.evidence.derivations.markdown_table(): paste its output")


def test_every_conversion_is_reachable_by_its_own_columns():
    # no conversion is shadowed by an earlier one with a subset of its columns
    for c in CONVERSIONS:
        assert choose(set(c.required)) is c, c.tags


def test_priority_order():
    assert choose({"log_hr", "se", "hr", "ci_low", "ci_high"}).tags == ("log_hr_se",)
    assert choose({"hr", "ci_low", "ci_high", "p_value"}).tags == ("hr_ci",)
    assert choose({"hr", "ci_high", "p_value"}).tags[0] == "se_from_p"
    assert choose({"median_treated", "median_control", "events_treated", "events_control",
                   "n_treated", "n_control"}).tags == ("from_medians",)
    assert choose({"hr", "ci_high", "median_treated", "n_treated", "n_control"}) is None


def test_fix_message_lists_every_accepted_set_of_columns():
    fix = fix_message()
    for c in CONVERSIONS:
        assert " + ".join(c.required) in fix
    assert fix.startswith("give one of: ") and fix.endswith("; or exclude the row")


@pytest.mark.parametrize("c", CONVERSIONS, ids=lambda c: c.tags[0])
def test_each_conversion_gives_its_tag_and_formula(c):
    values, expected = EXAMPLES[c.tags[0]]
    assert set(values) == set(c.required)
    t = derive(pd.DataFrame({"study": ["a"], **{k: [v] for k, v in values.items()}})).table
    assert t.loc[0, "derivation"] == expected.derivation
    assert t.loc[0, "derivation"] in c.tags
    assert t.loc[0, "log_hr"] == pytest.approx(expected.log_hr, rel=TOL["float"])
    assert t.loc[0, "se"] == pytest.approx(expected.se, rel=TOL["float"])


def test_p_bound_tag():
    t = derive(pd.DataFrame({"study": ["a"], "hr": [0.5], "p_value": ["<0.001"]})).table
    assert t.loc[0, "derivation"] == "se_from_p_bound"
    assert t.loc[0, "se"] == pytest.approx(cv.from_hr_p(0.5, 0.001, bound=True).se, rel=TOL["float"])


def test_is_derived_reads_the_conversions_table():
    """An interval is 'reported' for the conversions marked reported (log_hr + se, HR + CI)
    and 'derived' for every other tag, with or without the +inverted suffix; a blank tag
    (None, NaN, "") is not derived."""
    from bayesnet.evidence.derivations import CONVERSIONS, is_derived

    for c in CONVERSIONS:
        for tag in c.tags:
            assert is_derived(tag) is (not c.reported) is is_derived(tag + "+inverted")
    assert {t for c in CONVERSIONS if c.reported for t in c.tags} == {"log_hr_se", "hr_ci"}
    for blank in (None, float("nan"), "", "  "):
        assert not is_derived(blank)
