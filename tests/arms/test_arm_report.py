"""The arm-level report: escaping of user text, atomic output, the with/without table."""

import json

import pandas as pd
import pytest

from bayesnet.arm_analysis import _blocks, _md, _render_html, _render_md, read_arm_spec
from bayesnet.errors import SpecError
from bayesnet.report import Figure

from ..conftest import TOL


def test_markdown_escape_neutralises_html_and_table_breakers():
    s = _md("<script>x</script> a|b\nc\r# d")
    assert "<script>" not in s and "\n" not in s and "\r" not in s and "\\|" in s and "\\#" in s


def test_spec_errors_of_bias_and_arm_model_are_collected(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[data]\ndataset = "liver_resection_arms"\n[bias.by.design]\ncase_series = { mu = -0.2 }\n'
                 '[arm_model]\nbaseline_sd = { dist = "normal", mu = 0, sigma = 1 }\nfoo = 1\n')
    with pytest.raises(SpecError) as e:
        read_arm_spec(p)
    msgs = e.value.problems
    assert len(msgs) == 3
    assert any("case_series" in m for m in msgs) and any("foo" in m for m in msgs)


def test_arm_model_unknown_key_and_wrong_type_are_reported_together_in_the_shared_style(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('[data]\ndataset = "liver_resection_arms"\n[bias.by.design]\ncase_series = { mu = -0.2, sigma = 0.3 }\n'
                 '[arm_model]\nbaseline_sd = 1\nfoo = 1\n')
    with pytest.raises(SpecError) as e:
        read_arm_spec(p)
    assert e.value.problems == [
        f"{p}: [arm_model]: unknown key(s) foo; allowed: baseline_mean, baseline_sd, time_slope",
        f"{p}: [arm_model].baseline_sd: found 1 (int); allowed: a table, e.g. "
        '{ dist = "normal", mu = 0, sigma = 1 }']


def _summary(label):
    S = {"median": 0.3, "ci95": [0.2, 0.4], "mean": 0.3, "sd": 0.05, "hpd95": [0.2, 0.4]}
    block = {"k": 3, "designs": {"hr": 0, "comparative": 2, "case_series": 1}, "pooled": {"hr": S, "log_hr": S},
             "predictive": {"hr": S, "log_hr": S}, "prob": {"pooled": {"p_hr_lt_1": 0.99, "p_hr_gt_1.25": 0.0001}},
             "diagnostics": {"problems": []}}
    return {"with_case_series": block, "without_case_series": None, "status": "ok",
            "bias_prior": {"by": {"design": {"case_series": {"mu": -0.2, "sigma": 0.3}}}, "common": None},
            "baseline_priors": {"baseline_mean": "normal(mu=0, sigma=2)"},
            "studies": [{"label": label, "design": "case_series", "arms": 1, "time_years": 5.0, "shrunken_hr": 0.3,
                         "shrunken_ci95": [0.2, 0.4]}], "provenance": {"seed": 1, "data_sha256": "ab" * 32}}


def test_user_text_is_escaped_in_both_renderings(tmp_path):
    from bayesnet.arm_analysis import ArmAnalysis
    from bayesnet.spec import ReportSpec

    class Spec:
        report = ReportSpec(title="<img src=x onerror=alert(1)>", question="q\n# injected")

    blocks = [b for b in _blocks(_summary("<script>alert(1)</script>|x"), ArmAnalysis(Spec(), {}, {}))
              if not isinstance(b, Figure)]
    md = _render_md(blocks)
    assert "<script>" not in md and "<img" not in md and "\n# injected" not in md
    h = _render_html(blocks, tmp_path)
    assert "<script>" not in h and "<img src=x" not in h
    assert "confounding by indication" in md  # the bias every observational study shares is stated


@pytest.mark.mcmc
@pytest.mark.slow
def test_shipped_liver_resection_report(tmp_path):
    from bayesnet.arm_analysis import write_arm_report

    out = write_arm_report("models/liver_resection_case_series.toml", tmp_path / "out")
    s = json.loads((out / "summary.json").read_text())
    assert s["status"] == "ok"
    assert s["with_case_series"]["designs"]["case_series"] == 9
    assert s["without_case_series"]["designs"]["case_series"] == 0
    assert (out / "figures" / "arm_forest.svg").exists()
    arms = pd.read_csv(out / "arms.csv")
    assert set(arms["design"]) == {"cohort", "case_series"}


def test_a_table_may_mix_hr_rows_and_arm_rows(tmp_path):
    from bayesnet.arm_analysis import _arm_rows
    from bayesnet.engines.arms import build_arm_model_data

    (tmp_path / "mixed.csv").write_text(
        "study,hr,ci_low,ci_high,arm,treated,n,surv,surv_time_years,design\n"
        "H1,0.5,0.3,0.8,,,,,,cohort\n"
        "C1,,,,res,true,40,0.7,5,cohort\n"
        "C1,,,,none,false,40,0.4,5,cohort\n"
        "S1,,,,res,true,90,0.8,5,case_series\n")
    (tmp_path / "s.toml").write_text('[data]\npath = "mixed.csv"\n[bias.by.design]\ncase_series = { mu = -0.2, sigma = 0.3 }\n')
    an = read_arm_spec(tmp_path / "s.toml")
    arms, hr, src, sha = _arm_rows(an)
    assert list(hr["study"]) == ["H1"] and hr["log_hr"].iloc[0] == pytest.approx(-0.6931, abs=TOL["hand_4dp"])
    assert sorted(set(arms["study"])) == ["C1", "S1"]
    assert list(arms["_row"]) == [2, 3, 4]  # rows of the file
    md = build_arm_model_data(hr, arms, bias=an.bias)
    assert md.design == ["hr", "comparative", "case_series"]


def test_arm_row_errors_name_the_row_of_the_file(tmp_path):
    from bayesnet.arm_analysis import _arm_rows
    from bayesnet.errors import EvidenceError

    (tmp_path / "a.csv").write_text("study,hr,ci_low,ci_high,arm,treated,n,surv,surv_time_years\n"
                                    "H1,0.5,0.3,0.8,,,,,\nC1,,,,res,true,40,70,5\n")
    (tmp_path / "s.toml").write_text('[data]\npath = "a.csv"\n')
    with pytest.raises(EvidenceError, match=r"row 2, study 'C1', column 'surv'.*percentage"):
        _arm_rows(read_arm_spec(tmp_path / "s.toml"))
