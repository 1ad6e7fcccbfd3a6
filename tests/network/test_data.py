"""Reading and validating network evidence: every problem in one pass, named."""

import pandas as pd
import pytest

from bayesnet.errors import EvidenceError, ModelError
from bayesnet.network import read_network
from bayesnet.network.data import is_network_table


def _arms(rows):
    return pd.DataFrame(rows, columns=["study", "treatment", "log_hr", "se"])


def test_disconnected_network_names_its_components():
    df = _arms([("s1", "A", None, None), ("s1", "B", -0.2, 0.2), ("s2", "C", None, None), ("s2", "D", -0.1, 0.3)])
    with pytest.raises(EvidenceError) as e:
        read_network(df)
    msg = str(e.value)
    assert "disconnected" in msg and "{A, B}" in msg and "{C, D}" in msg


def test_every_problem_in_one_pass():
    df = _arms([
        ("s1", "A", None, 0.1), ("s1", "B", -0.2, 0.2), ("s1", "C", -0.3, None),   # C: se missing
        ("s2", "A", -0.1, 0.2), ("s2", "B", -0.2, 0.2),                               # no baseline row
        ("s3", "A", None, None), ("s3", "B", -0.2, 0.2), ("s3", "C", -0.1, 0.3),     # 3 arms, no baseline se
        ("s4", "A", None, None), ("s4", "A", -0.2, 0.2),                              # A twice
        ("s5", "", None, None), ("s5", "B", -0.2, 0.2),                               # no treatment
    ])
    with pytest.raises(EvidenceError) as e:
        read_network(df)
    errs = [p for p in e.value.problems if p.level == "error"]
    text = "\n".join(map(str, errs))
    assert "s1 (C)" in text                       # the contrast without an se, by study and arm
    assert "study 's2' has no baseline arm row" in text
    assert "multi-arm study 's3'" in text and "baseline arm ('A')" in text
    assert "'A' appears twice in study 's4'" in text
    assert "names no treatment" in text
    assert len(errs) >= 5


def test_baseline_se_must_be_below_the_contrast_se():
    df = _arms([("s1", "A", None, 0.3), ("s1", "B", -0.2, 0.2), ("s1", "C", -0.3, 0.4), ("s2", "B", None, None),
                ("s2", "C", -0.1, 0.2)])
    with pytest.raises(EvidenceError, match="baseline se"):
        read_network(df)


def test_events_approximate_a_missing_baseline_se_with_a_warning():
    df = _arms([("s1", "A", None, None), ("s1", "B", -0.2, 0.2), ("s1", "C", -0.3, 0.25)]).assign(events=[50, 40, 30])
    net = read_network(df)
    assert net.studies[0].cov[0, 1] == pytest.approx(1 / 50)
    assert any("approximated from the 50 baseline-arm events" in p.message for p in net.problems)


def test_single_study_treatment_is_a_warning_and_reference_default_is_alphabetical():
    df = pd.DataFrame({"study": ["a", "b", "c"], "treatment": ["tace", "tace", "rfa"],
                       "comparator": ["none", "none", "tace"], "log_hr": [-0.2, -0.3, 0.1], "se": 0.2})
    net = read_network(df)
    assert net.reference == "none" and net.treatments == ("none", "rfa", "tace")
    assert any(p.level == "warning" and "'rfa' is in one study only" in p.message for p in net.problems)
    assert read_network(df, reference="tace").reference == "tace"
    with pytest.raises(ModelError, match="'surgery' is not a treatment"):
        read_network(df, reference="surgery")


def test_hr_and_ci_rows_and_direction_are_read_by_the_shared_validator():
    df = pd.DataFrame({"study": ["a", "a"], "treatment": ["none", "ptr"], "hr": [None, 0.5],
                       "ci_low": [None, 0.25], "ci_high": [None, 1.0]})
    net = read_network(df)
    assert net.studies[0].y[0] == pytest.approx(-0.6931, abs=1e-4)
    assert is_network_table(df) and not is_network_table(df.drop(columns="treatment"))
