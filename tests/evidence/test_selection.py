"""Overlap selection over the conflict graph (overlap_group + overlaps_with), its rules
(KEEP_RULES), tie-breaking, reasons, missing columns, and one registry family at a time."""

import itertools

import pandas as pd
import pytest

from bayesnet import datasets
from bayesnet.errors import SelectionError
from bayesnet.evidence import (
    KEEP_RULES,
    Selection,
    select,
    select_family,
    select_overlap,
)
from bayesnet.evidence.selection import adjustment_rank, display_labels, load_selection


def _table(**over):
    d = {"study": ["allsites", "pancreas", "bowel", "calif", "inst"],
         "overlap_group": ["SEER_all", "SEER_panc", "SEER_sb", "CCR", ""],
         "overlaps_with": ["SEER_panc;SEER_sb;CCR", "SEER_all, CCR", "SEER_all", "SEER_all;SEER_panc", ""],
         "design": ["cohort", "propensity_matched_cohort", "cohort", "cohort", "cohort"],
         "adjusted": ["unknown", "yes", "yes", "yes", "no"],
         "n_total": ["3000", "500", "800", "900", "100"],
         "year": ["2021", "2015", "2026", "2019", "2018"]}
    d.update(over)
    return pd.DataFrame(d)


def _conflicts(t, a, b):
    ga, gb = t.loc[a, "overlap_group"], t.loc[b, "overlap_group"]
    la = {x.strip() for x in t.loc[a, "overlaps_with"].replace(",", ";").split(";") if x.strip()}
    lb = {x.strip() for x in t.loc[b, "overlaps_with"].replace(",", ";").split(";") if x.strip()}
    return bool(ga and ga == gb) or gb in la or ga in lb


def test_keep_rules_constant():
    assert KEEP_RULES == ("best_adjusted", "largest", "most_recent", "all")


def test_adjustment_rank():
    assert adjustment_rank("propensity_weighted_cohort", "yes") == 3
    assert adjustment_rank("propensity_matched_cohort", "") == 3
    assert adjustment_rank("cohort", "yes") == 2
    assert adjustment_rank("cohort", "unknown") == adjustment_rank("cohort", "no") == 1


def test_overlaps_with_creates_conflicts_across_groups():
    # before: only identical overlap_group values conflicted, all four SEER rows were kept
    t = _table()
    kept, ex = select_overlap(t, "largest")
    assert set(kept["study"]) == {"allsites", "inst"}
    assert set(ex["study"]) == {"pancreas", "bowel", "calif"}


@pytest.mark.parametrize("rule", ["best_adjusted", "largest", "most_recent"])
def test_kept_set_is_conflict_free_and_maximal(rule):
    t = _table()
    kept, ex = select_overlap(t, rule)
    for a, b in itertools.combinations(kept.index, 2):
        assert not _conflicts(t, a, b)
    for i in ex.index:  # every dropped row conflicts with a kept row (maximal)
        assert any(_conflicts(t, i, k) for k in kept.index)
    assert len(kept) + len(ex) == len(t)


def test_best_adjusted_prefers_propensity_then_multivariable_then_size():
    kept, ex = select_overlap(_table(), "best_adjusted")
    # propensity pancreas first; bowel (multivariable, no conflict with pancreas) kept too
    assert set(kept["study"]) == {"pancreas", "bowel", "inst"}
    r = ex.set_index("study")["reason"]
    assert r["allsites"].startswith("shares patients with pancreas, which is kept")
    assert "rule best_adjusted: propensity-score adjusted (matched or weighted) preferred to unadjusted" in r["allsites"]
    assert "pancreas" in r["calif"] and "best_adjusted" in r["calif"]


def test_most_recent_rule_and_reason():
    kept, ex = select_overlap(_table(), "most_recent")
    assert set(kept["study"]) == {"bowel", "calif", "inst"}  # pancreas conflicts with calif (2019 > 2015)
    r = ex.set_index("study")["reason"]
    assert "rule most_recent: more recent year (2026 vs 2021)" in r["allsites"]


def test_ties_are_broken_by_rule_not_file_order():
    t = pd.DataFrame({"study": ["zeta", "alpha", "mid"], "overlap_group": ["g", "g", "g"],
                      "n_total": ["100", "100", "100"], "year": ["2020", "2020", "2019"]})
    for order in (t, t.iloc[::-1]):
        kept, ex = select_overlap(order, "largest")
        assert list(kept["study"]) == ["alpha"]
        r = ex.set_index("study")["reason"]
        assert "tied on every key of the rule, broken by study id in alphabetical order" in r["zeta"]
        assert "more recent year (2020 vs 2019)" in r["mid"]


def test_missing_rule_column_raises_naming_it():
    t = _table().drop(columns=["n_total"])
    with pytest.raises(SelectionError, match="'n_total'"):
        select_overlap(t, "largest")
    with pytest.raises(SelectionError, match="'design'"):
        select_overlap(_table().drop(columns=["design"]), "best_adjusted")
    with pytest.raises(SelectionError, match="'year'"):
        select_overlap(_table().drop(columns=["year"]), "most_recent")
    with pytest.raises(SelectionError, match="'overlap_group'"):
        select_overlap(_table().drop(columns=["overlap_group"]), "largest")
    with pytest.raises(SelectionError, match="'overlaps_with'"):
        select_overlap(_table().drop(columns=["overlaps_with"]), "largest", overlaps_column="overlaps_with")
    with pytest.raises(SelectionError, match="best_adjusted"):
        select_overlap(_table(), "biggest")
    kept, _ = select_overlap(_table().drop(columns=["n_total"]), "all")  # 'all' needs nothing
    assert len(kept) == 5


def test_missing_values_rank_last_and_are_said():
    t = pd.DataFrame({"study": ["a", "b"], "overlap_group": ["g", "g"], "n_total": ["", "50"], "year": ["", ""]})
    kept, ex = select_overlap(t, "largest")
    assert list(kept["study"]) == ["b"]
    assert "larger n_total (50 vs missing)" in ex["reason"].iloc[0]


def test_selection_toml_overlap_keys_and_errors(tmp_path):
    s = Selection.from_dict({"overlap": {"column": "overlap_group", "overlaps_column": "overlaps_with",
                                         "keep": "best_adjusted"}})
    kept, _ = select(_table(), s)
    assert set(kept["study"]) == {"pancreas", "bowel", "inst"}
    for bad, word in (({"filter": 5}, "filter"), ({"filter": [{"column": "x", "values": "OS"}]}, "values"),
                      ({"overlap": {"keep": "biggest"}}, "keep"), ({"overlap": 3}, "overlap"),
                      ({"include": "a"}, "include"), ({"name": 1}, "name")):
        with pytest.raises(SelectionError, match=word):
            Selection.from_dict(bad)
    p = tmp_path / "s.toml"
    p.write_text("filter = [")
    with pytest.raises(SelectionError, match="s.toml"):
        load_selection(p)
    with pytest.raises(SelectionError, match="not in the data"):
        select(_table(), Selection.from_dict({"filter": [{"column": "nope", "values": ["x"]}]}))


def test_select_family():
    t = _table(registry_family=["SEER", "SEER", "SEER", "SEER", ""])
    t.loc[1, "registry_family"] = "NCDB"
    kept, ex = select_family(t, "NCDB")
    assert list(kept["study"]) == ["pancreas", "inst"]
    assert "another registry family (registry_family = 'SEER')" in ex["reason"].iloc[0]
    with pytest.raises(SelectionError, match="registry_family"):
        select_family(t.drop(columns=["registry_family"]), "SEER")
    with pytest.raises(SelectionError, match="families: NCDB, SEER"):
        select_family(t, "SEER-Medicare")


def test_select_family_on_shipped_data():
    df = datasets.load("gepnet_ptr")
    seer, _ = select_family(df, "SEER")
    assert set(seer["registry_family"]) == {"SEER", ""}
    assert "Lewis2019 [OS] #1" in set(seer["study"]) and "Xiang2018" in set(seer["study"])


def test_display_labels():
    t = pd.DataFrame({"study": ["a1", "a2", "b"], "label": ["A et al.", "A et al.", ""]})
    assert display_labels(t) == ["A et al. [a1]", "A et al. [a2]", "b"]
    assert display_labels(t.drop(columns=["label"])) == ["a1", "a2", "b"]
