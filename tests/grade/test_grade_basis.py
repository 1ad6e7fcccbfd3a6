"""The GRADE draft on one basis (issue 15 item 3): every domain judged on the analysis as
reported, the bias-adjusted result and the tipping point only in risk of bias; the bracketed
rating follows from its sentence; large effect on the as-reported estimate; one study makes
inconsistency "not assessable"; indirectness only from the curated column."""

import re
from pathlib import Path

import pandas as pd
import pytest

from bayesnet import datasets
from bayesnet.errors import BayesnetError
from bayesnet.grade import grade_draft, indirectness_from_table, parse_indirectness

ROOT = Path(__file__).resolve().parents[2]


def _draft(**kw):
    args = dict(pooled_hr=0.51, pooled_ci95=[0.31, 0.75], predictive_ci95=[0.18, 1.29], thresholds=[1.0, 0.8],
                prob_pooled={1.0: 0.997, 0.8: 0.985},
                tipping_point=[{"threshold": 1.0, "probability": 0.95, "ratio": 0.694, "prob_without_bias": 0.997}],
                adjusted={"hr": 0.63, "ci95": [0.37, 0.97], "prob": {1.0: 0.981}}, assumed_bias_range=(0.66, 1.06),
                k=5)
    args.update(kw)
    return grade_draft(**args)


def _verdict(sentence: str) -> str:
    """The rating a sentence states (its last ': serious' / ': not serious' clause)."""
    m = re.findall(r"(not serious|serious)", sentence)
    return m[-1] if m else ""


def test_basis_is_stated_once_at_the_top():
    g = _draft()
    assert g["basis"].startswith("Basis of this draft: GRADE rates the evidence as reported")
    assert "0.51 (95% CrI 0.31 to 0.75)" in g["basis"] and "0.63" in g["basis"]
    assert "risk-of-bias domain only" in g["basis"]
    # the adjusted result appears in risk of bias and (labelled) in large effect, nowhere else
    for name in ("inconsistency", "imprecision", "indirectness"):
        assert "0.63" not in g["domains"][name]["sentence"] and "0.37" not in g["domains"][name]["sentence"]
    assert "0.63" in g["domains"]["risk_of_bias"]["sentence"]


def test_bracket_always_matches_the_sentence():
    # before: "the interval spans the threshold 0.8 ... [not serious]" (rated on 1 only)
    for pci, pred in (([0.31, 0.75], [0.18, 1.29]), ([0.55, 0.9], [0.5, 0.95]), ([0.3, 0.7], [0.35, 0.75]),
                      ([0.7, 1.05], [0.6, 1.2])):
        g = _draft(pooled_ci95=pci, predictive_ci95=pred)
        for name in ("imprecision", "inconsistency", "risk_of_bias"):
            d = g["domains"][name]
            assert _verdict(d["sentence"]) == d["concern"], (name, d)
            if "spans the threshold" in d["sentence"]:
                assert d["concern"] == "serious"
    g = _draft(pooled_ci95=[0.55, 0.9])
    assert "spans the threshold(s) 0.8" in g["domains"]["imprecision"]["sentence"]
    assert g["domains"]["imprecision"]["concern"] == "serious"


def test_large_effect_names_the_as_reported_estimate():
    s = _draft(pooled_hr=0.45)["large_effect"]["sentence"]
    assert "pooled HR as reported (no bias adjustment), 0.45 (under the stated bias 0.63)" in s
    assert "not appropriate" in s
    assert "as reported (no bias adjustment), 0.51" in _draft()["large_effect"]["sentence"]


def test_one_study_inconsistency_not_assessable():
    g = _draft(k=1, predictive_ci95=[0.05, 5.0])
    d = g["domains"]["inconsistency"]
    assert d["concern"] == "not assessable (one study)" and "not assessable (one study)" in d["sentence"]
    assert "inconsistency" not in [r for r in g["overall"]["reasons"] if r.startswith("rated down")]
    assert not any("inconsistency" in r and r.startswith("rated down") for r in g["overall"]["reasons"])


def test_indirectness_without_the_column_is_not_assessed():
    d = _draft(indirectness=None)["domains"]["indirectness"]
    assert d["concern"] != "not serious" and "not assessed: the panel judges" in d["sentence"]
    t = pd.DataFrame({"study": ["a", "b"], "notes": ["mixed tumour sites", "metastatic_site_not_restricted_to_liver"]})
    assert indirectness_from_table(t) is None  # never read from notes or flags


def test_indirectness_from_the_curated_column():
    t = pd.DataFrame({"study": ["a", "b", "c"], "label": ["A 2020", "", "C"],
                      "indirectness": ["population: hepatectomy patients only", "none", ""]})
    ind = indirectness_from_table(t)
    assert ind["concerns"] == [{"study": "a", "label": "A 2020", "domain": "population",
                                "reason": "hepatectomy patients only"}]
    assert ind["not_assessed"] == ["c"]
    d = _draft(indirectness=ind)["domains"]["indirectness"]
    assert d["concern"] == "possible (panel to judge)"
    assert "A 2020 - population: hepatectomy patients only" in d["sentence"] and "not assessed for 1 study (c)" in d["sentence"]
    ok = indirectness_from_table(t.assign(indirectness=["none", "none", "none"]))
    assert _draft(indirectness=ok)["domains"]["indirectness"]["concern"] == "not serious"
    assert parse_indirectness("outcome: DSS; population: pancreas only") == [
        {"domain": "outcome", "reason": "DSS"}, {"domain": "population", "reason": "pancreas only"}]


def test_bad_indirectness_cell_is_a_clear_error():
    with pytest.raises(BayesnetError) as e:
        parse_indirectness("setting: rural", study="s1", source="my.csv")
    msg = str(e.value)
    assert "my.csv" in msg and "s1" in msg and "'indirectness'" in msg and "population" in msg


def test_shipped_dataset_is_curated():
    df = datasets.load("gepnet_ptr")
    assert "indirectness" in df.columns and not df["indirectness"].eq("").any()
    ind = indirectness_from_table(df)
    by = {}
    for c in ind["concerns"]:
        by.setdefault(c["study"], []).append((c["domain"], c["reason"]))
    assert ("population", "metastatic site not restricted to the liver (47.9% liver)") in \
        by["Unattributed_JGastrointestSurg_SEERMedicare"]
    assert by["Xiang2018"][0][0] == "population" and "hepatectomy patients only" in by["Xiang2018"][0][1]
    assert "Unattributed_HPB2024 [OS] #1" not in by  # liver-only metastases, PTR vs none, OS


def test_shipped_draft_is_on_one_basis():
    from bayesnet.api import fit, load_spec

    s = fit(load_spec(ROOT / "models" / "ptr_bias_adjusted.toml"), engine="exact").summary()
    g, u = s["grade_draft"], s["unadjusted"]
    lo, hi = u["pooled"]["hr"]["ci95"]
    assert f"{lo:.2f} to {hi:.2f}" in g["domains"]["imprecision"]["sentence"]
    plo, phi = u["predictive"]["hr"]["ci95"]
    assert f"{plo:.2f} to {phi:.2f}" in g["domains"]["inconsistency"]["sentence"]
    ind = g["domains"]["indirectness"]
    assert ind["concern"] == "possible (panel to judge)" and "47.9% liver" in ind["sentence"]
    assert "hepatectomy patients only" in ind["sentence"]
    for d in g["domains"].values():
        if d["concern"] in ("serious", "not serious"):
            assert _verdict(d["sentence"]) == d["concern"], d


def test_arm_level_table_is_curated_per_study():
    """Arm-level data have one row per arm: indirectness is per study (the union of its
    rows), and the shipped liver-resection arms are curated."""
    df = datasets.load("liver_resection_arms") if "liver_resection_arms" in datasets.names() else None
    t = pd.read_csv(datasets.path("liver_resection_arms"), dtype=str, keep_default_na=False)
    assert "indirectness" in t.columns and not t["indirectness"].eq("").any()
    ind = indirectness_from_table(t)
    assert ind["k"] == t["study"].nunique() and not ind["not_assessed"]
    musu = [c for c in ind["concerns"] if c["study"] == "Musunuru2006"]
    assert len(musu) == 1 and musu[0]["domain"] == "intervention"  # 3 arm rows, one concern
    assert df is None or len(df) == len(t)


def test_curation_step_reproduces_the_shipped_column():
    """The indirectness column is built by the documented curation step (bayesnet.datasets
    .curate, from gepnet_ptr_indirectness.csv), never by hand: re-curating the shipped file
    without the column gives the shipped file byte for byte; a row without a curated entry
    is refused."""
    import csv
    import io

    from bayesnet.datasets.curate import curate_gepnet_ptr

    shipped = datasets.path("gepnet_ptr").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(shipped)))
    fields = [c for c in rows[0] if c != "indirectness"]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    assert curate_gepnet_ptr(buf.getvalue()) == shipped
    with pytest.raises(ValueError, match="curate every row"):
        curate_gepnet_ptr(buf.getvalue(), indirectness={})


def test_one_study_end_to_end(tmp_path):
    """A one-study fit: the draft and the GRADE-ready statements say inconsistency is not
    assessable instead of reading the prior-only predictive interval."""
    from bayesnet.api import fit, load_spec
    from bayesnet.report.text import grade_statements

    f = tmp_path / "one.csv"
    pd.DataFrame({"study": ["A"], "hr": [0.6], "ci_low": [0.4], "ci_high": [0.9]}).to_csv(f, index=False)
    s = fit(load_spec({"data": {"path": str(f)}}), engine="exact").summary()
    d = s["grade_draft"]["domains"]["inconsistency"]
    assert d["concern"] == "not assessable (one study)"
    assert "not assessable (one study)" in " ".join(grade_statements(s))
    assert s["grade_draft"]["domains"]["indirectness"]["concern"] == "not assessed (panel to judge)"


def test_no_bias_model_and_already_below_is_imprecision_not_risk_of_bias():
    """Without [bias], P(HR < 1) already below 0.95 with no bias at all is an imprecision
    question: risk of bias is not rated down for it (it would count the wide interval twice),
    and the basis does not speak of a bias-adjusted result that was never computed."""
    g = _draft(pooled_hr=0.8, pooled_ci95=[0.5, 1.3], prob_pooled={1.0: 0.896, 0.8: 0.5}, adjusted=None,
               assumed_bias_range=None, k=1,
               tipping_point=[{"threshold": 1.0, "probability": 0.95, "ratio": None, "prob_without_bias": 0.896,
                               "reason": "P(HR < 1) is 0.896 without any bias, already below 0.95"}])
    rob = g["domains"]["risk_of_bias"]
    assert rob["concern"] == "not assessed (panel to judge)" and "imprecision" in rob["sentence"]
    assert "bias-adjusted" not in g["basis"] and "No bias was assumed" in g["basis"]
    assert g["domains"]["imprecision"]["concern"] == "serious"
