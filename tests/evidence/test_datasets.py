"""The shipped datasets load, and the primary selection gives the documented rows and
exclusions (models/selections/gepnet_ptr_primary.toml)."""

from pathlib import Path

import pandas as pd
import pytest

from bayesnet import datasets
from bayesnet.evidence import EvidenceError, derive, load_evidence, select_overlap

ROOT = Path(__file__).resolve().parents[2]

# best_adjusted over the conflict graph (overlap_group + overlaps_with): the SEER-Medicare
# all-site cohort (multivariable, n 2219) wins every SEER-family conflict, the IPTW NCDB
# cohort (HPB 2024) every NCDB conflict; the institutional series share no patients.
PRIMARY = {
    "Unattributed_JGastrointestSurg_SEERMedicare": "hr_ci",
    "Unattributed_HPB2024 [OS] #1": "hr_ci",
    "Xiang2018": "hr_ci",
    "Schreckenbach2018 [OS] #1": "hr_ci+inverted",
    "Kaemmerer2019": "se_from_p_bound+inverted",
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
    ev = load_evidence(dataset="gepnet_ptr", select="primary", base_dir=ROOT / "models")
    assert dict(zip(ev.table["study"], ev.table["derivation"])) == PRIMARY
    ex = ev.excluded.set_index("study")["reason"]
    assert len(ex) == 36 - 5
    assert ex["Huttner2015 [OS]"].startswith("shares patients with Unattributed_JGastrointestSurg_SEERMedicare")
    assert "larger n_total (2219 vs 442)" in ex["Huttner2015 [OS]"]
    assert "propensity-score adjusted (matched or weighted) preferred to multivariable-adjusted" in ex["Shaib2021"]
    assert "same source population 'NCDB'" in ex["Shaib2021"]
    assert "multivariable-adjusted preferred to unadjusted" in ex["Pu2021 [unspecified] #1"]
    assert "include_primary = 'no'" in ex["Keutgen2016"]
    assert "include_primary = 'yes(secondary)'" in ex["Unattributed_HPB2024 [OS] #2"]
    # no two kept rows share patients
    kept, _ = select_overlap(ev.table, "best_adjusted")
    assert len(kept) == len(ev.table)


def test_conflict_graph_blocks_every_double_count_in_the_primary_selection():
    """Before: Pu 2021 (SEER all sites) was kept with the SEER pancreas and small-bowel
    cohorts and the California registry."""
    ev = load_evidence(dataset="gepnet_ptr", select="primary", base_dir=ROOT / "models")
    t = ev.table
    groups = [g for g in t["overlap_group"] if g]
    assert len(groups) == len(set(groups))
    for links in t["overlaps_with"]:
        assert not set(filter(None, links.split(";"))) & set(groups)


def test_curated_copy_has_the_new_columns():
    df = datasets.load("gepnet_ptr")
    for col in ("label", "overlaps_with", "registry_family", "direction", "source_type", "design_class"):
        assert col in df.columns
    fam = dict(zip(df["study"], df["registry_family"]))
    assert fam["Lewis2019 [OS] #1"] == "SEER"  # California Cancer Registry is a SEER registry
    assert fam["Unattributed_JGastrointestSurg_SEERMedicare"] == "SEER"
    assert fam["Shaib2021"] == "NCDB" and fam["Xiang2018"] == "" and fam["Bennett2020"] == ""
    assert not df["year"].str.endswith(".0").any() and not df["n_total"].str.endswith(".0").any()


def test_curation_step_is_reproducible_on_the_shipped_copy():
    """The shipped file is a fixed point of the documented curation step."""
    from bayesnet.datasets.curate import curate_gepnet_ptr

    text = datasets.path("gepnet_ptr").read_text(encoding="utf-8")
    assert curate_gepnet_ptr(text) == text
    # and the step turns the source's float-formatted counts back into integers
    src = "study_id,year,data_source,n_total,overlaps_with,label\nA,2015.0,NCDB,442.0,,A et al.\n"
    # (and adds the curated indirectness column, issue 15)
    assert curate_gepnet_ptr(src, indirectness={"A": "none"}).splitlines()[1] == "A,2015,NCDB,442,,NCDB,A et al.,none"


def test_new_shared_files_are_shipped():
    base = datasets.load("gepnet_baseline_survival")
    assert len(base) == 19 and {"metric", "caveats"} <= set(base.columns)
    series = datasets.load("nlm_case_series")
    assert len(series) == 15 and "surv_time_years" in series.columns


def test_validate_dataset_lists_non_poolable_rows_as_documented_exclusions():
    ev = load_evidence(dataset="gepnet_ptr")
    ex = ev.excluded.set_index("study")["reason"]
    assert {"Keutgen2016", "Tao2017", "Shah_yearNA", "Osborne2006"} <= set(ex.index)
    assert ex["Shah_yearNA"].startswith("documented as not usable by the curators (include_primary = 'no'")
    assert "unknown direction 'unclear'" in ex["Shah_yearNA"]
    assert ev.k + len(ex) == 36


def test_validate_dataset_cli_exits_0_with_documented_exclusions(capsys):
    from bayesnet.cli import main

    assert main(["validate", "--dataset", "gepnet_ptr"]) == 0
    out = capsys.readouterr().out
    assert "Keutgen2016: documented as not usable by the curators" in out


def test_rows_that_fail_but_were_not_marked_unusable_still_error():
    raw = datasets.load("gepnet_ptr")
    raw.loc[raw["study"] == "Xiang2018", "hr"] = "abc"
    rest, ex = datasets.documented_exclusions("gepnet_ptr", raw)
    assert "Xiang2018" in set(rest["study"]) and "Xiang2018" not in set(ex["study"])
    with pytest.raises(EvidenceError):
        derive(rest.reset_index(drop=True))


def test_table_carries_display_labels_ids_stay_ids():
    ev = load_evidence(dataset="gepnet_ptr", select="primary", base_dir=ROOT / "models")
    lab = dict(zip(ev.table["study"], ev.table["label"]))
    assert lab["Xiang2018"] == "Xiang et al. 2018 (multicentre)"
    assert lab["Unattributed_HPB2024 [OS] #1"] == "HPB 2024 (NCDB, liver-only metastases)"
    ev2 = load_evidence(data=pd.DataFrame({"study": ["a", "b"], "hr": ["0.5", "0.6"], "ci_low": ["0.3", "0.4"],
                                           "ci_high": ["0.8", "0.9"]}))
    assert list(ev2.table["label"]) == ["a", "b"]


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
