"""Validation of arm-level rows (bayesnet.evidence.arms): every problem in one pass."""

import math

import pandas as pd
import pytest

from bayesnet.errors import EvidenceError
from bayesnet.evidence.arms import arm_log_cumhaz, derive_arms, split_mixed


def row(**kw):
    base = dict(study="A", arm="resection", treated="true", n="50", surv="0.6", surv_time_years="5")
    base.update(kw)
    return base


def problems(rows):
    with pytest.raises(EvidenceError) as e:
        derive_arms(pd.DataFrame(rows), source="arms.csv")
    return [str(p) for p in e.value.problems]


def test_log_cumulative_hazard_and_delta_method_variance_by_hand():
    L, v = arm_log_cumhaz([0.6], [50])
    assert L[0] == pytest.approx(math.log(-math.log(0.6)))
    assert v[0] == pytest.approx(0.4 / (50 * 0.6 * math.log(0.6) ** 2))


def test_every_problem_in_one_pass_with_file_row_study_and_column():
    msgs = problems([row(surv="45"), row(study="B", n=""), row(study="C", surv="1.0"),
                     row(study="D", treated="maybe"), row(study="E", arm="x", treated="false")])
    assert len(msgs) == 5
    assert any("arms.csv, row 1, study 'A', column 'surv'" in m and "percentage" in m and "0.45" in m for m in msgs)
    assert any("row 2" in m and "column 'n'" in m and "missing" in m for m in msgs)
    assert any("study 'C'" in m and "outside (0, 1)" in m for m in msgs)
    assert any("study 'D'" in m and "column 'treated'" in m for m in msgs)
    assert any("study 'E'" in m and "no treated arm" in m for m in msgs)


def test_mixed_time_points_within_a_study_are_refused():
    msgs = problems([row(), row(arm="none", treated="false", surv_time_years="3")])
    assert any("different time points (3, 5 years)" in m for m in msgs)


def test_single_arm_series_and_comparative_study_are_recognised():
    t = derive_arms(pd.DataFrame([row(), row(arm="none", treated="false", surv="0.4"),
                                  row(study="S", n="120", surv="0.8")])).table
    assert t.set_index("arm").loc["none", "n_arms"] == 2
    assert t[t.study == "S"]["n_arms"].item() == 1


def test_a_study_cannot_be_both_hr_rows_and_arm_rows():
    df = pd.DataFrame([dict(study="A", hr="0.5", ci_low="0.3", ci_high="0.8", arm=""),
                       dict(study="A", hr="", ci_low="", ci_high="", arm="resection")])
    with pytest.raises(EvidenceError, match="both HR rows and arm rows"):
        split_mixed(df, "mixed.csv")
    hr, arms = split_mixed(df.assign(study=["A", "B"]))
    assert list(hr.study) == ["A"] and list(arms.study) == ["B"]
