"""Build the shipped arm-level dataset `liver_resection_arms` (issue 11) from the curated
sources in ../shared/data (not needed at run time: the output CSV is committed).

    python scripts/build_liver_resection_arms.py [SHARED_DATA_DIR]

Comparative studies (nlm_review_table1_arms.csv, Lesurtel et al. HPB 2015 Table 1): the
liver-resection arm (treated) and every non-surgical arm measured at the same time point
(3- or 5-year overall survival). Left out, with the reason written to
liver_resection_arms_exclusions.csv: arms with only medians or means, arms measured at
another time point than the study's resection arm, arms that include resection.
Single-arm case series (nlm_resection_case_series.csv): rows with include_primary = yes;
the others are listed with their flags (duplicates of comparative studies, median only,
different population, 4-year survival with possible overlap).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "bayesnet" / "datasets" / "data"
# RFA alone is quasi-surgical (as in bayesnet.datasets' comparator preference): not a comparator
NON_SURGICAL = {"radioembolization", "systemic_chemotherapy", "conservative", "embolization",
                "intra_arterial_therapy", "no_liver_resection", "tace"}
TREATED = ("liver_resection", "cytoreduction")
# curated `indirectness` (bayesnet.grade: "<PICO domain>: <reason>" or "none") against the
# question "liver resection vs non-surgical treatment, overall survival", from each row's
# arm label and flags (any non-surgical comparator answers the question)
INDIRECTNESS = {
    "Mayo2011": "none",
    "Landry2008": "intervention: liver resection with or without ablation",
    "Musunuru2006": "intervention: liver resection with or without radiofrequency ablation",
    "Touzios2005": "intervention: liver resection with or without ablation",
    "Yao2011": "none", "Chamberlain2000": "none", "Chen1998": "none",
    "Glazer2010": "intervention: includes 18 patients treated by radiofrequency ablation only",
    "Sarmiento2003": "intervention: complete resection in only 75 of 170 patients",
    "Elias2003": "intervention: 36 patients also had extrahepatic resection",
    "AmJClinOncol2012_cryo": "intervention: resection plus cryoablation",
    "Chambers2008": "intervention: debulking (at least 70% of the tumour), not complete resection",
    "GraffBaker2014": "intervention: debulking (at least 70% of the tumour), not complete resection",
    "Boudreaux2014": "intervention: debulking (at least 70% of the tumour), not complete resection",
    "HPB2013_rfa": "intervention: resection plus intra-operative ablation",
    "Cheung2014": "none",
}


def main(src: Path) -> None:
    arms = pd.read_csv(src / "nlm_review_table1_arms.csv", dtype=str, keep_default_na=False)
    series = pd.read_csv(src / "nlm_resection_case_series.csv", dtype=str, keep_default_na=False)
    rows, excl = [], []
    for sid, g in arms.groupby("study_id", sort=False):
        tr = g[g["arm"].str.startswith(TREATED)].iloc[0]
        col = "os_5y_pct" if tr["os_5y_pct"] else ("os_3y_pct" if tr["os_3y_pct"] else None)
        if col is None:
            excl.append(dict(study=sid, arm="(all)", reason="no 3- or 5-year survival for the resection arm "
                             "(medians or means only): not usable in the arm-level model"))
            continue
        years = 5 if col == "os_5y_pct" else 3
        kept = []
        for _, a in g.iterrows():
            if a["arm"] == tr["arm"]:
                kept.append((a, True))
            elif a["arm"] not in NON_SURGICAL:
                excl.append(dict(study=sid, arm=a["arm"], reason="arm includes resection; not a non-surgical comparator"))
            elif not a[col]:
                other = "os_3y_pct" if col == "os_5y_pct" else "os_5y_pct"
                why = (f"survival at {3 if years == 5 else 5} years, not at the resection arm's {years} years"
                       if a[other] else "no survival proportion")
                excl.append(dict(study=sid, arm=a["arm"], reason=why))
            else:
                kept.append((a, False))
        if not any(not t for _, t in kept):
            excl.append(dict(study=sid, arm="(all)", reason="no non-surgical arm at the same time point"))
            continue
        for a, t in kept:
            rows.append(dict(study=sid, label=f"{sid[:-4]} {sid[-4:]}", arm=a["arm"], treated=str(t).lower(),
                             n=a["n"], surv=f"{float(a[col]) / 100:g}", surv_time_years=years, design="cohort",
                             source="Lesurtel et al. HPB 2015, Table 1", notes=a["notes"],
                             indirectness=INDIRECTNESS.get(sid, "")))
    for _, s in series.iterrows():
        if s["include_primary"] != "yes":
            excl.append(dict(study=s["study_id"], arm=s["arm"],
                             reason=f"case series not in the primary set ({s['include_primary']}): {s['flags']}"))
            continue
        rows.append(dict(study=s["study_id"], label=s["label"], arm=s["arm"], treated="true", n=s["n"],
                         surv=s["surv"], surv_time_years=f"{float(s['surv_time_years']):g}", design="case_series",
                         source=s["source_url"], notes=s["flags"], indirectness=INDIRECTNESS.get(s["study_id"], "")))
    pd.DataFrame(rows).to_csv(OUT / "liver_resection_arms.csv", index=False)
    pd.DataFrame(excl).to_csv(OUT / "liver_resection_arms_exclusions.csv", index=False)
    print(f"{len(rows)} arm rows, {len(excl)} exclusions")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
