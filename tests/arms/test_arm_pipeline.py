"""Arm rows through the one pipeline (issue 15 item 4, issue 16): recognised from the
columns by `bayesnet.fit`, `--data`, `fit`, `report`; one summary.json schema; the exact
engine by default without PyMC; refusals with exit 2 (HR columns on an arm row, no study
comparing arms); tipping points of the arm model against refits."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesnet.api import evidence_for, fit, load_spec
from bayesnet.cli import main
from bayesnet.errors import EvidenceError, ModelError, SpecError

from ..conftest import TOL

ROOT = Path(__file__).resolve().parents[2]
LIVER = ROOT / "models" / "liver_resection_case_series.toml"

MIXED = ("study,hr,ci_low,ci_high,arm,treated,n,surv,surv_time_years,design\n"
         "H1,0.5,0.3,0.8,,,,,,cohort\n"
         "C1,,,,res,true,40,0.7,5,cohort\n"
         "C1,,,,none,false,40,0.4,5,cohort\n"
         "C2,,,,res,true,60,0.6,5,cohort\n"
         "C2,,,,none,false,50,0.45,5,cohort\n"
         "S1,,,,res,true,90,0.8,5,case_series\n")
SPEC = '[data]\npath = "{f}"\n[bias.by.design]\ncase_series = {{ mu = -0.2, sigma = 0.3 }}\n'


def _write(tmp_path, csv=MIXED, spec=SPEC, name="mixed.csv"):
    (tmp_path / name).write_text(csv)
    (tmp_path / "s.toml").write_text(spec.format(f=name))
    return tmp_path / "s.toml"


def test_a_table_may_mix_hr_rows_and_arm_rows(tmp_path):
    p = _write(tmp_path)
    ev = evidence_for(load_spec(p))
    assert list(ev.table["study"]) == ["H1", "C1", "C2", "S1"]
    assert ev.table.loc[0, "log_hr"] == pytest.approx(math.log(0.5))
    post = fit(p)
    assert post.engine == "exact"
    assert post.extras["arm_model_data"].design == ["hr", "comparative", "comparative", "case_series"]
    s = post.summary()
    for key in ("pooled", "predictive", "prob", "tau", "studies", "tipping_point", "evalue", "grade_draft",
                "arm_model", "provenance"):
        assert key in s, key
    row = {r["study"]: r for r in s["studies"]}
    assert row["S1"]["hr"] is None and row["S1"]["se"] is None and row["S1"]["shrunken_hr"] is not None
    assert row["H1"]["hr"] == pytest.approx(0.5)
    assert not any("representable" in w for w in s["warnings"])


def test_summary_json_has_one_schema_for_contrast_and_arm_fits():
    """The shipped liver analysis (arm rows, [bias]) and a contrast analysis share the
    top-level schema of the README (the arm fit adds its "arm_model" block)."""
    arm = fit(LIVER).summary()
    con = fit(ROOT / "models" / "ptr_bias_adjusted.toml").summary()
    assert set(con) - set(arm) <= {"i2"}, set(con) - set(arm)
    assert set(arm) - set(con) == {"arm_model"}
    assert set(arm["unadjusted"]) >= {"pooled", "predictive", "prob"}
    assert arm["tipping_point"][0]["ratio"] is not None
    assert "with_case_series" not in arm


def test_the_exact_arm_fit_never_imports_pymc():
    code = ("import sys; from bayesnet.api import fit; p = fit(sys.argv[1]); p.summary(); "
            "assert p.engine == 'exact'; bad = [m for m in ('pymc', 'nutpie', 'pytensor') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code, str(LIVER)], check=True, cwd=ROOT)


def test_fit_and_report_with_data_accept_an_arm_csv(tmp_path, capsys):
    p = _write(tmp_path)
    plain = tmp_path / "plain.toml"
    plain.write_text('[bias.by.design]\ncase_series = { mu = -0.2, sigma = 0.3 }\n')
    assert main(["fit", str(plain), "--data", str(tmp_path / "mixed.csv"), "--out", str(tmp_path / "o")]) == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert s["k"] == 4 and s["engine"] == "exact"
    out = capsys.readouterr().out
    assert "pooled HR" in out
    assert p.exists()


def test_hr_columns_on_an_arm_row_are_refused(tmp_path, capsys):
    csv = MIXED.replace("C1,,,,res,true,40,0.7,5,cohort", "C1,3.0,,,res,true,40,0.7,5,cohort")
    p = _write(tmp_path, csv=csv)
    with pytest.raises(EvidenceError, match=r"row 2, study 'C1', column 'hr'.*ignore"):
        evidence_for(load_spec(p))
    assert main(["fit", str(p)]) == 2
    assert "column 'hr'" in capsys.readouterr().err


def test_a_ci_on_an_arm_row_is_refused_too(tmp_path):
    csv = MIXED.replace("C2,,,,res,true,60,0.6,5,cohort", "C2,,0.2,0.9,res,true,60,0.6,5,cohort")
    with pytest.raises(EvidenceError, match=r"study 'C2', column 'ci_low'"):
        evidence_for(load_spec(_write(tmp_path, csv=csv)))


def test_arm_data_that_are_all_case_series_are_refused(tmp_path, capsys):
    csv = ("study,arm,treated,n,surv,surv_time_years,design\n"
           "S1,res,true,90,0.8,5,case_series\nS2,res,true,50,0.7,5,case_series\n")
    p = _write(tmp_path, csv=csv)
    with pytest.raises(ModelError, match="no study compares arms.*baseline prior alone"):
        fit(p)
    assert main(["fit", str(p)]) == 2
    assert "no study compares arms" in capsys.readouterr().err


def test_arm_row_errors_name_the_row_of_the_file(tmp_path):
    csv = "study,hr,ci_low,ci_high,arm,treated,n,surv,surv_time_years\nH1,0.5,0.3,0.8,,,,,\nC1,,,,res,true,40,70,5\n"
    p = _write(tmp_path, csv=csv, spec='[data]\npath = "{f}"\n')
    with pytest.raises(EvidenceError, match=r"row 2, study 'C1', column 'surv'.*percentage"):
        evidence_for(load_spec(p))


def test_arm_model_unknown_key_and_wrong_type_are_reported_together(tmp_path):
    p = _write(tmp_path, spec=SPEC + '[arm_model]\nbaseline_sd = 1\nfoo = 1\n')
    with pytest.raises(SpecError) as e:
        fit(p)
    msgs = e.value.problems
    assert any("unknown key(s) foo" in m for m in msgs) and any("[arm_model].baseline_sd" in m for m in msgs)


def test_arm_model_priors_are_optional_and_used(tmp_path):
    p0 = _write(tmp_path)
    a = fit(p0)["pooled"].mean()
    p1 = _write(tmp_path, spec=SPEC + '[arm_model]\nbaseline_sd = {{ dist = "half_normal", sigma = 0.05 }}\n')
    b = fit(p1)["pooled"].mean()
    assert a != b


def test_tipping_probabilities_of_the_arm_model_equal_refits_with_a_fixed_common_bias():
    """ArmFixedBias (closed-form reweighting over the theta grid) against exact refits with
    the common bias replaced by a fixed delta."""
    import dataclasses

    from bayesnet.arm_analysis import ArmFixedBias, _priors, parse_arm_priors
    from bayesnet.engines.arms_exact import fit_arms_exact

    post = fit(LIVER)
    amd = post.extras["arm_model_data"]
    pri, ap = _priors(post.spec), parse_arm_priors(post.spec.arm_model)
    fb = ArmFixedBias(amd, pri, ap, True)
    for delta in (0.0, math.log(0.8), math.log(0.5)):
        ref = fit_arms_exact(dataclasses.replace(amd, common_bias=(delta, 0.0)), pri, ap, studies=False)
        for t in (1.0, 0.8):
            # the refit re-chooses its theta grid; the shared grid is accurate to its quadrature error
            assert fb.prob(delta, t) == pytest.approx(float(ref["pooled"].cdf(math.log(t))), abs=TOL["gaussian_grid_theta"])
            assert fb.prob(delta, t, "predictive") == pytest.approx(float(ref["predictive"].cdf(math.log(t))),
                                                                    abs=TOL["gaussian_grid_theta"])


def test_arm_evidence_studies_csv_has_no_internal_columns(tmp_path):
    p = _write(tmp_path)
    assert main(["fit", str(p), "--out", str(tmp_path / "o")]) == 0
    st = pd.read_csv(tmp_path / "o" / "studies.csv")
    assert "arms" not in st.columns and list(st["study"]) == ["H1", "C1", "C2", "S1"]
    assert np.isnan(st.loc[3, "log_hr"])


def test_validate_accepts_an_arm_csv_and_the_arm_dataset(tmp_path, capsys):
    (tmp_path / "mixed.csv").write_text(MIXED)
    assert main(["validate", str(tmp_path / "mixed.csv")]) == 0
    out = capsys.readouterr().out
    assert "4 valid row(s)" in out and "duplicate study id" not in out and "single-arm case series" in out
    assert main(["validate", "--dataset", "liver_resection_arms"]) == 0


def test_influence_leaves_each_kind_of_study_out_of_an_arm_analysis():
    """The with/without-case-series comparison of the retired arm report, as ordinary
    leave-one-kind-out rows (same [bias]); leaving the comparative studies out leaves
    nothing that compares arms: not estimable, with the reason."""
    from bayesnet.sensitivity import influence

    df = influence(LIVER)
    rows = df.set_index("omitted")
    assert rows.loc["the case series", "k"] == 7 and rows.loc["the case series", "status"] == "ok"
    assert rows.loc["the comparative studies", "status"] != "ok"
    assert "no study compares arms" in rows.loc["the comparative studies", "reason"]


def test_bayesnet_fit_takes_a_dataframe_of_arm_rows():
    import io

    df = pd.read_csv(io.StringIO(MIXED), dtype=str, keep_default_na=False)
    post = fit({"bias": {"by": {"design": {"case_series": {"mu": -0.2, "sigma": 0.3}}}}}, data=df)
    assert post.engine == "exact" and post.k == 4
    assert "liver resection" in fit(LIVER).summary()["evalue_sentence"]
