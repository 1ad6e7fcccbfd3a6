"""Each error and warning of the evidence checks, triggered by a fixture, asserting on the
message text (file, row, study, column, what is wrong and the fix)."""

import pandas as pd
import pytest

from bayesnet.evidence import EvidenceError, derive

from ..conftest import TOL


def errors_of(df, **kw):
    with pytest.raises(EvidenceError) as exc:
        derive(df, **kw)
    return [p for p in exc.value.problems if p.level == "error"]


def one(df, needle, level="error"):
    if level == "error":
        probs = errors_of(df)
    else:
        probs = derive(df).problems
    hits = [p for p in probs if needle in str(p)]
    assert hits, f"'{needle}' not in: {[str(p) for p in probs]}"
    return hits[0]


def test_negative_hr_is_called_a_log_hr():
    p = one(pd.DataFrame({"study": ["Gong"], "hr": [-1.1], "ci_low": [-1.43], "ci_high": [-0.71]}),
            "almost surely a log hazard ratio")
    assert p.study == "Gong" and p.column == "hr" and p.row == 1
    assert "log_hr" in p.fix


def test_zero_hr():
    one(pd.DataFrame({"study": ["a"], "hr": [0.0], "p_value": [0.01]}), "hazard ratio 0 is not positive")


def test_ci_low_not_below_high():
    p = one(pd.DataFrame({"study": ["a"], "hr": [0.5], "ci_low": [0.8], "ci_high": [0.3]}),
            "lower CI bound 0.8 is not below the upper bound 0.3")
    assert "swapped" in p.fix


def test_point_outside_ci():
    p = one(pd.DataFrame({"study": ["a"], "hr": [0.9], "ci_low": [0.3], "ci_high": [0.8]}),
            "point estimate 0.9 lies outside its CI 0.3-0.8")
    assert p.column == "hr"


def test_se_not_positive():
    one(pd.DataFrame({"study": ["a"], "log_hr": [-0.5], "se": [0.0]}), "standard error 0 is not positive")


def test_no_usable_effect():
    p = one(pd.DataFrame({"study": ["a"], "hr": [0.5]}), "no usable effect")
    assert "hr + ci_low + ci_high" in p.fix


def test_non_numeric_value_names_column_and_study(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("study,hr,ci_low,ci_high\nok,0.5,0.3,0.8\nbad,0.5,0.3,abc\n")
    probs = errors_of(f)
    assert len(probs) == 1
    s = str(probs[0])
    assert str(f) in s and "row 2" in s and "study 'bad'" in s and "column 'ci_high'" in s
    assert "'abc' is not a number" in s


def test_duplicate_study_ids():
    p = one(pd.DataFrame({"study": ["a", "a"], "hr": [0.5, 0.6], "ci_low": [0.3, 0.4], "ci_high": [0.8, 0.9]}),
            "duplicate study id (also row 1)")
    assert p.row == 2


def test_unknown_direction():
    p = one(pd.DataFrame({"study": ["a"], "hr": [0.5], "ci_low": [0.3], "ci_high": [0.8],
                          "direction": ["unclear"]}), "unknown direction 'unclear'")
    assert "control_vs_treated" in p.fix


def test_all_problems_collected_in_one_pass():
    df = pd.DataFrame({"study": ["a", "b", "c"], "hr": [-0.5, 0.5, "x"],
                       "ci_low": [0.1, 0.9, 0.2], "ci_high": [0.9, 0.6, 0.8]})
    probs = errors_of(df)
    assert {p.study for p in probs} == {"a", "b", "c"}


def test_p_inconsistent_with_ci_states_both():
    # Ann Surg Oncol 2026, small bowel: 0.31 (0.20-0.49), p = 0.01
    p = one(pd.DataFrame({"study": ["SB"], "hr": [0.31], "ci_low": [0.20], "ci_high": [0.49], "p_value": ["0.01"]}),
            "inconsistent with the CI", level="warning")
    assert "p = 0.01" in p.message and "implies p = 3e-07" in p.message


def test_p_consistent_within_rounding_is_quiet():
    # Xiang 2018: 0.7 (0.4-1.2), p = 0.195 -- consistent once one-decimal rounding is allowed
    ev = derive(pd.DataFrame({"study": ["X"], "hr": [0.7], "ci_low": [0.4], "ci_high": [1.2], "p_value": ["0.195"]}))
    assert ev.problems == []
    ev = derive(pd.DataFrame({"study": ["H"], "hr": [0.41], "ci_low": [0.25], "ci_high": [0.66], "p_value": ["<0.001"]}))
    assert ev.problems == []


def test_p_bound_inconsistent():
    one(pd.DataFrame({"study": ["a"], "hr": [0.8], "ci_low": [0.6], "ci_high": [1.07], "p_value": ["<0.001"]}),
        "reported p < 0.001 is inconsistent", level="warning")


def test_asymmetric_ci_warning():
    p = one(pd.DataFrame({"study": ["a"], "hr": [0.5], "ci_low": [0.2], "ci_high": [0.6]}),
            "asymmetric around HR 0.5 on the log scale", level="warning")
    assert p.column == "ci_low"


def test_arm_sizes_do_not_add_up():
    one(pd.DataFrame({"study": ["a"], "hr": [0.5], "ci_low": [0.3], "ci_high": [0.8],
                      "n_treated": [10], "n_control": [15], "n_total": [17]}),
        "arm sizes 10 + 15 = 25 do not add up to the reported total 17", level="warning")


def test_overlap_group_warning_and_warnings_column():
    df = pd.DataFrame({"study": ["a", "b", "c"], "hr": [0.5, 0.6, 0.7], "ci_low": [0.3, 0.4, 0.5],
                       "ci_high": [0.8, 0.9, 0.98], "overlap_group": ["SEER", "SEER", ""]})
    ev = derive(df)
    p = [x for x in ev.problems if x.column == "overlap_group"]
    assert len(p) == 2 and "shares source population 'SEER' with 1 other row(s) (b)" in p[0].message
    assert "overlap_group" in ev.table.loc[0, "warnings"] and ev.table.loc[2, "warnings"] == ""


def test_direction_inverts_and_columns_carry_through():
    df = pd.DataFrame({"study": ["a"], "hr": [2.0], "ci_low": [1.25], "ci_high": [3.2],
                       "direction": ["control_vs_treated"], "design": ["cohort"], "data_source": ["SEER"]})
    t = derive(df).table
    assert t.loc[0, "log_hr"] == pytest.approx(-0.693147, abs=TOL["hand_6dp"])
    assert t.loc[0, "derivation"] == "hr_ci+inverted"
    assert t.loc[0, "design"] == "cohort" and t.loc[0, "data_source"] == "SEER"
    assert list(t.columns[:5]) == ["study", "log_hr", "se", "derivation", "warnings"]


def test_each_effect_statement_is_recognised():
    df = pd.DataFrame({
        "study": ["ci", "cionly", "p", "pb", "lse", "lr", "surv", "med", "medn"],
        "hr": [0.5, None, 0.5, 0.5, None, None, None, None, None],
        "ci_low": [0.3, 0.3, None, None, None, None, None, None, None],
        "ci_high": [0.8, 0.8, None, None, None, None, None, None, None],
        "p_value": [None, None, "0.01", "<0.001", None, None, None, None, None],
        "log_hr": [None, None, None, None, -0.3, None, None, None, None],
        "se": [None, None, None, None, 0.2, None, None, None, None],
        "o_minus_e": [None, None, None, None, None, -5.0, None, None, None],
        "v": [None, None, None, None, None, 12.0, None, None, None],
        "surv_treated": [None] * 6 + [0.7, None, None],
        "surv_control": [None] * 6 + [0.4, None, None],
        "n_treated": [None] * 6 + [50, 40, 40],
        "n_control": [None] * 6 + [60, 50, 50],
        "median_treated": [None] * 7 + [60.0, 60.0],
        "median_control": [None] * 7 + [30.0, 30.0],
        "events_treated": [None] * 7 + [20, None],
        "events_control": [None] * 7 + [30, None],
    })
    t = derive(df).table.set_index("study")
    assert t["derivation"].to_dict() == {
        "ci": "hr_ci", "cionly": "imputed_point_estimate", "p": "se_from_p", "pb": "se_from_p_bound",
        "lse": "log_hr_se", "lr": "logrank_peto", "surv": "from_survival_proportions",
        "med": "from_medians", "medn": "from_medians_events_approx"}
    assert "approximated as half of each arm" in t.loc["medn", "warnings"]


def test_survival_given_as_percent_is_an_error():
    one(pd.DataFrame({"study": ["a"], "surv_treated": [74], "surv_control": [30], "n_treated": [10], "n_control": [10]}),
        "it looks like a percentage")


# ------------------------------------------------------------------ hostile input (issue 8)

@pytest.mark.parametrize("names", [("HR", "CI_low", "ci_high"), (" hr ", " ci_low", "CI_HIGH "),
                                   ("Hr", "ci low", "ci-high")])
def test_column_name_variants_are_recognised_with_a_warning(names):
    df = pd.DataFrame({"Study": ["a"], names[0]: [0.5], names[1]: [0.3], names[2]: [0.8]})
    ev = derive(df)
    assert ev.table.loc[0, "derivation"] == "hr_ci"  # not imputed from the CI
    assert ev.table.loc[0, "log_hr"] == pytest.approx(-0.693147, abs=TOL["hand_6dp"])
    renames = [p for p in ev.problems if "read as" in p.message]
    assert f"column '{names[0]}' read as 'hr'" in [p.message for p in renames]
    assert ev.studies == ["a"]


def test_log_hr_and_se_variants():
    ev = derive(pd.DataFrame({"study": ["a"], "Log_HR": [-0.3], "SE": [0.2]}))
    assert ev.table.loc[0, "derivation"] == "log_hr_se" and ev.table.loc[0, "se"] == 0.2


def test_two_columns_reading_as_the_same_name():
    p = one(pd.DataFrame({"study": ["a"], "HR": [0.5], "hr": [0.6], "ci_low": [0.3], "ci_high": [0.8]}),
            "the columns 'HR' and 'hr' both read as 'hr'")
    assert p.column == "hr" and "rename or delete" in p.fix


@pytest.mark.parametrize("missing", ["NA", "N/A", "None", "nan", "", "  ", None])
def test_missing_study_id_is_an_error(missing):
    df = pd.DataFrame({"study": ["ok", missing], "hr": [0.5, 0.6], "ci_low": [0.3, 0.4], "ci_high": [0.8, 0.9]})
    p = one(df, "row 2 has no study id")
    assert p.row == 2 and p.column == "study" and "give every row a study id" in p.fix


@pytest.mark.parametrize("name", ["warnings", "derivation", "shrunken_hr", "shrunken_low", "shrunken_high",
                                  "shrunken_log_hr_mean", "Warnings"])
def test_output_column_names_are_refused(name):
    df = pd.DataFrame({"study": ["a"], "hr": [0.5], "ci_low": [0.3], "ci_high": [0.8], name: ["mine"]})
    p = one(df, "has the name of a column bayesnet adds to its outputs")
    assert p.column == name and "rename the column" in p.fix


def test_output_column_in_a_file_is_refused_by_load_evidence(tmp_path):
    from bayesnet.evidence import load_evidence

    f = tmp_path / "d.csv"
    f.write_text("study,hr,ci_low,ci_high,derivation\na,0.5,0.3,0.8,from the paper\n")
    with pytest.raises(EvidenceError, match="column 'derivation'") as exc:
        load_evidence(path=f)
    assert str(f) in str(exc.value)


def test_hr_ci_and_log_hr_se_that_disagree():
    # log_hr 0.688 is HR 1.99; the row's own HR and CI say 0.5 (0.3-0.8)
    df = pd.DataFrame({"study": ["a"], "hr": [0.5], "ci_low": [0.3], "ci_high": [0.8],
                       "log_hr": [0.688], "se": [0.25]})
    p = one(df, "log_hr 0.688 (HR 1.99) disagrees with hr 0.5")
    assert p.column == "log_hr" and "keep one of them" in p.fix
    p = one(df.assign(log_hr=-0.693, se=0.6), "se 0.6 disagrees with the CI 0.3-0.8, which implies se 0.2502")
    assert p.column == "se"
    one(df.drop(columns="hr").assign(log_hr=0.688), "lies outside the CI 0.3-0.8")


def test_hr_ci_and_log_hr_se_that_agree_within_rounding():
    df = pd.DataFrame({"study": ["a", "b"], "hr": [0.5, 0.62], "ci_low": [0.3, 0.41], "ci_high": [0.8, 0.94],
                       "log_hr": [-0.693, -0.478], "se": [0.25, 0.21]})
    ev = derive(df)
    assert list(ev.table["derivation"]) == ["log_hr_se", "log_hr_se"] and ev.problems == []


@pytest.mark.parametrize("cols, needle", [
    ({"log_hr": [-0.3], "se": [1e-300]}, "standard error 1e-300 is outside the plausible range 1e-06 to 10"),
    ({"log_hr": [-0.3], "se": [1e3]}, "standard error 1000 is outside the plausible range"),
    ({"hr": [1e308], "p_value": ["0.01"]}, "hazard ratio 1e+308 is outside the plausible range 0.0001 to 10000"),
    ({"hr": [0.5], "ci_low": [1e-9], "ci_high": [0.8]}, "hazard ratio 1e-09 is outside the plausible range"),
    ({"log_hr": [40.0], "se": [0.2]}, "log hazard ratio 40 is outside the plausible range"),
    ({"log_hr": ["inf"], "se": [0.2]}, "'inf' is not a finite number"),
    ({"o_minus_e": [-5.0], "v": [1e20]}, "outside the plausible ranges"),
])
def test_implausible_values_are_errors(cols, needle):
    one(pd.DataFrame({"study": ["a"], **cols}), needle)


def test_overlaps_with_warns_like_the_selection_conflict_rule():
    df = pd.DataFrame({"study": ["all", "panc", "inst"], "hr": [0.5, 0.6, 0.7], "ci_low": [0.3, 0.4, 0.5],
                       "ci_high": [0.8, 0.9, 0.98], "overlap_group": ["SEER_all", "SEER_panc", "inst"],
                       "overlaps_with": ["", "SEER_all", ""]})
    ev = derive(df)
    by_study = {p.study: p for p in ev.problems if p.column == "overlaps_with"}
    assert set(by_study) == {"all", "panc"}
    assert "overlaps that of 1 other row(s) (panc ('SEER_panc'))" in by_study["all"].message
    assert "overlaps_with" in ev.table.loc[1, "warnings"] and ev.table.loc[2, "warnings"] == ""


def test_docstring_table_states_the_conversions_in_use():
    import bayesnet.evidence.validation as v

    assert "(1 - S) / (n S (ln S)^2)" in v.__doc__ and "1 / ((ln 2)^2 2 d)" in v.__doc__
    assert "1/E_t" not in v.__doc__
    assert "1e-4, 1e4" in v.__doc__ and "1e-6" in v.__doc__


def test_row_column_gives_the_file_row():
    df = pd.DataFrame({"study": ["b", "c"], "hr": [0.5, "x"], "ci_low": [0.3, 0.3], "ci_high": [0.8, 0.8],
                       "_row": [4, 7]})
    p = one(df, "is not a number")
    assert p.row == 7
    assert "_row" not in derive(df.iloc[:1]).table.columns


def test_overlap_messages_name_at_most_five_rows_and_count_the_rest():
    k = 9
    df = pd.DataFrame({"study": [f"s{i}" for i in range(k)], "hr": [0.5] * k, "ci_low": [0.3] * k,
                       "ci_high": [0.8] * k, "overlap_group": ["SEER"] * 8 + ["NCDB"],
                       "overlaps_with": [""] * 8 + ["SEER"]})
    ev = derive(df)
    msgs = {(p.study, p.column): p.message for p in ev.problems}
    assert msgs[("s0", "overlap_group")] == "shares source population 'SEER' with 7 other row(s) (s1, s2, s3, s4, s5 and 2 more)"
    assert "overlaps that of 8 other row(s) (s0 ('SEER'), s1 ('SEER'), s2 ('SEER'), s3 ('SEER'), s4 ('SEER') and 3 more)" \
        in msgs[("s8", "overlaps_with")]
    assert "overlaps that of 1 other row(s) (s8 ('NCDB'))" in msgs[("s3", "overlaps_with")]


def test_plausibility_bounds_can_be_switched_off_for_effects_on_another_scale():
    df = pd.DataFrame({"study": ["A", "B"], "log_hr": [28.0, 8.0], "se": [15.0, 10.0]})  # eight schools
    with pytest.raises(EvidenceError, match="plausible range"):
        derive(df)
    ev = derive(df, plausible_range=False)
    assert list(ev.table["se"]) == [15.0, 10.0]
    with pytest.raises(EvidenceError, match="not positive"):
        derive(df.assign(se=[15.0, -1.0]), plausible_range=False)
