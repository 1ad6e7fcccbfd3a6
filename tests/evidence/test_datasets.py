"""The shipped datasets load, and the primary selection gives the documented rows and
exclusions (models/selections/gepnet_ptr_primary.toml)."""

from pathlib import Path

import pandas as pd
import pytest

from bayesnet import datasets
from bayesnet.evidence import EvidenceError, derive, load_evidence, select_overlap

ROOT = Path(__file__).resolve().parents[2]

PRIMARY = {
    "Unattributed_NFpNET_SEER2004-2015 [OS]": "hr_ci+inverted",
    "Lewis2019 [OS] #1": "se_from_p_bound",
    "Polcz_yearNA": "hr_ci",
    "Pu2021 [unspecified] #1": "hr_ci",
    "Unattributed_AnnSurgOncol2026 [unspecified] #1": "hr_ci",
    "Xiang2018": "hr_ci",
    "Schreckenbach2018 [OS] #1": "hr_ci+inverted",
    "Kaemmerer2019": "se_from_p_bound+inverted",
    "Unattributed_NCDBpanNET_abstract": "se_from_p_bound",
}


def test_gepnet_ptr_loads_with_provenance():
    df = datasets.load("gepnet_ptr")
    assert len(df) == 36 and df["study_id"].nunique() == 24
    assert df["study"].is_unique
    for col in ("source_url", "source_quote", "doi", "overlap_group", "design", "data_source"):
        assert col in df.columns


def test_whole_dataset_reports_every_unusable_row():
    with pytest.raises(EvidenceError) as exc:
        derive(datasets.load("gepnet_ptr"), source="gepnet_ptr")
    errs = [p for p in exc.value.problems if p.level == "error"]
    studies = {p.study for p in errs}
    assert "Keutgen2016" in studies and "Tao2017" in studies
    assert any("unknown direction 'unclear'" in p.message and p.study == "Shah_yearNA" for p in errs)


def test_primary_selection_rows_and_exclusions():
    ev = load_evidence(dataset="gepnet_ptr", select_="primary", base_dir=ROOT / "models")
    assert dict(zip(ev.table["study"], ev.table["derivation"])) == PRIMARY
    ex = ev.excluded.set_index("study")["reason"]
    assert len(ex) == 36 - 9
    assert ex["Huttner2015 [OS]"].startswith("same source population 'SEER_pancreas'")
    assert ex["Shaib2021"].startswith("same source population 'NCDB' as Polcz_yearNA")
    assert "include_primary = 'no'" in ex["Keutgen2016"]
    assert "include_primary = 'yes(secondary)'" in ex["Unattributed_HPB2024 [OS] #2"]
    # the NFpNET row was reported as control vs treated: 2.514 -> 1/2.514
    row = ev.table.set_index("study").loc["Unattributed_NFpNET_SEER2004-2015 [OS]"]
    assert row["log_hr"] == pytest.approx(-0.921875, abs=1e-6)


def test_shipped_selection_equals_models_copy():
    shipped = datasets.selection_path("gepnet_ptr", "primary").read_text()
    assert (ROOT / "models" / "selections" / "gepnet_ptr_primary.toml").read_text() == shipped


def test_select_overlap_rules():
    df = pd.DataFrame({"study": ["a", "b", "c", "d"], "overlap_group": ["g", "g", "g", ""],
                       "n_total": [100, 300, 200, 5], "year": [2020, 2010, 2024, 2000]})
    kept, ex = select_overlap(df, "largest")
    assert list(kept["study"]) == ["b", "d"] and len(ex) == 2
    kept, _ = select_overlap(df, "most_recent")
    assert list(kept["study"]) == ["c", "d"]
    kept, _ = select_overlap(df, "all")
    assert len(kept) == 4


def test_nlm_liver_resection_study_level():
    ev = derive(datasets.load("nlm_liver_resection"))
    t = ev.table.set_index("study")
    assert len(t) == 10
    assert t.loc["Mayo2011", "control_arm"] == "intra_arterial_therapy"
    assert t.loc["Mayo2011", "derivation"] == "from_survival_proportions"
    assert t.loc["Chamberlain2000", "control_arm"] == "embolization"  # conservative arm has 3-year OS only
    assert t.loc["Saxena2012", "derivation"] == "from_medians_events_approx"
    assert "not the reported total 17" in t.loc["Saxena2012", "data_note"]
    assert (t["log_hr"] < 0).all()  # resection looks better in every crude comparison
