"""Shipped, curated datasets (real published numbers, provenance columns kept).

``load(name)`` returns a pandas DataFrame ready for `bayesnet.evidence.derive`:

- ``gepnet_ptr``: primary tumour resection vs none in liver-metastatic GEP-NETs,
  36 rows from 24 studies (``gepnet_ptr_studies.csv``). A unique ``study`` label is
  built from ``study_id`` (plus outcome, then a running number, where a study has several
  rows); ``direction`` is read from ``hr_direction``; ``p_value`` from ``p_reported``;
  ``source_type`` is "registry" (SEER, SEER-Medicare, NCDB, regional registries) or
  "institutional" (multicentre and single-centre series); ``design_class`` is
  "propensity" (matched or weighted) or "cohort".
- ``nlm_liver_resection``: liver resection vs the non-surgical arm, one row per study,
  from the arm-level survival table of Lesurtel et al. (HPB 2015), Table 1
  (``nlm_review_table1_arms.csv``); effects are crude (survival proportions, medians or
  means) and tagged so.
- ``nlm_arms``: that arm-level table as shipped.
- ``gepnet_meta_analyses``: published pooled results, for context (not for pooling).
- ``gepnet_baseline_survival``: survival without primary/liver resection (registries and
  series), for absolute effects; ``metric`` and ``caveats`` say what each value is.
- ``nlm_case_series``: single-arm case series of hepatic resection (no control arm).
- ``liver_resection_arms``: arm-level rows for the arm-level model
  (`bayesnet.engines.arms`): the comparative studies' resection and non-surgical arms at
  one time point (from ``nlm_review_table1_arms.csv``) and the usable single-arm series
  (from ``nlm_resection_case_series.csv``, ``include_primary = yes``); built by
  ``scripts/build_liver_resection_arms.py``, exclusions with reasons in
  ``liver_resection_arms_exclusions.csv``.

``gepnet_ptr`` carries ``label`` (a readable citation for tables and figures; ids stay in
``study``), ``overlaps_with`` (other overlap groups a row's patients share) and
``registry_family`` ("SEER", "NCDB" or empty), used by `bayesnet.evidence.select_overlap`
and `bayesnet.evidence.select_family`. Rows the curators marked as not usable
(``include_primary = no``) that cannot be pooled at all are documented exclusions
(`documented_exclusions`), not errors.

Provenance: ``data/PROVENANCE.md``; every row keeps its ``source_url`` and
``source_quote``.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SelectionError

__all__ = ["documented_exclusions", "load", "names", "path", "selection_path", "sha256"]

_FILES = {
    "gepnet_ptr": "gepnet_ptr_studies.csv",
    "nlm_arms": "nlm_review_table1_arms.csv",
    "nlm_liver_resection": "nlm_review_table1_arms.csv",
    "gepnet_meta_analyses": "gepnet_published_meta_analyses.csv",
    "gepnet_baseline_survival": "gepnet_baseline_survival.csv",
    "nlm_case_series": "nlm_resection_case_series.csv",
    "liver_resection_arms": "liver_resection_arms.csv",
}

# Datasets whose curators mark rows that cannot be pooled: (column, value, explanation column).
_CURATION = {"gepnet_ptr": ("include_primary", "no", "flags")}

# Non-surgical comparator preference for the arm-level table: untreated first, then
# liver-directed non-surgical therapies. Ablation alone (RFA) is treated as quasi-surgical.
_CONTROL_PREFERENCE = ("conservative", "no_liver_resection", "embolization", "intra_arterial_therapy",
                       "tace", "tace_with_or_without_resection", "systemic_chemotherapy", "radioembolization")


def names() -> list[str]:
    return sorted(_FILES)


def path(name: str) -> Path:
    """The path of the CSV file behind a dataset."""
    if name not in _FILES:
        raise SelectionError(f"unknown dataset '{name}'; available: {', '.join(names())}")
    return Path(str(resources.files(__package__) / "data" / _FILES[name]))


def sha256(name: str) -> str:
    return hashlib.sha256(path(name).read_bytes()).hexdigest()


def selection_path(dataset: str, selection: str) -> Path:
    """The shipped selection file `<dataset>_<selection>.toml`."""
    p = Path(str(resources.files(__package__) / "selections" / f"{dataset}_{selection}.toml"))
    if not p.exists():
        raise SelectionError(f"no shipped selection '{selection}' for dataset '{dataset}'")
    return p


def _read_text_csv(name: str) -> pd.DataFrame:
    return pd.read_csv(path(name), dtype=str, keep_default_na=False, na_values=[])


def _unique_labels(df: pd.DataFrame) -> list[str]:
    ids = df["study_id"].tolist()
    counts = pd.Series(ids).value_counts()
    labels = []
    for sid, outcome in zip(ids, df["outcome"]):
        labels.append(sid if counts[sid] == 1 else f"{sid} [{outcome}]")
    dup = pd.Series(labels).value_counts()
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        if dup[lab] > 1:
            seen[lab] = seen.get(lab, 0) + 1
            out.append(f"{lab} #{seen[lab]}")
        else:
            out.append(lab)
    return out


def _load_gepnet_ptr() -> pd.DataFrame:
    df = _read_text_csv("gepnet_ptr")
    df.insert(0, "study", _unique_labels(df))
    raw = df["hr_direction"].str.strip()
    df["direction"] = [(r.split()[0] if r else "treated_vs_control") for r in raw]
    df["p_value"] = df["p_reported"]
    # derived design columns (documented in the module docstring)
    registry = {"SEER", "SEER-Medicare", "NCDB", "regional_registry"}
    df["source_type"] = ["registry" if v in registry else "institutional" for v in df["data_source"]]
    df["design_class"] = ["propensity" if v.startswith("propensity") else "cohort" for v in df["design"]]
    return df


def _load_nlm_liver_resection() -> pd.DataFrame:
    arms = _read_text_csv("nlm_arms")
    num = lambda s: pd.to_numeric(s.replace("", np.nan), errors="coerce")
    for c in ("n", "os_median_months", "os_mean_months", "os_3y_pct", "os_5y_pct", "reported_total_n"):
        arms[c] = num(arms[c])
    rows = []
    for sid, g in arms.groupby("study_id", sort=False):
        treated = g[g["arm"].str.startswith("liver_resection") | (g["arm"] == "cytoreduction")].iloc[0]
        measures = [("os_5y_pct", "surv"), ("os_3y_pct", "surv"), ("os_median_months", "median"),
                    ("os_mean_months", "mean")]
        chosen = None
        for arm_name in _CONTROL_PREFERENCE:
            cand = g[g["arm"] == arm_name]
            if cand.empty:
                continue
            c = cand.iloc[0]
            for col, kind in measures:
                if pd.notna(treated[col]) and pd.notna(c[col]):
                    chosen = (c, col, kind)
                    break
            if chosen:
                break
        row = {"study": sid, "study_id": sid, "year": g["year"].iloc[0], "treated_arm": treated["arm"],
               "n_treated": treated["n"], "reported_total_n": g["reported_total_n"].iloc[0],
               "arms_total_n": g["n"].sum(), "design": "cohort", "data_source": "single_center",
               "comparison": "liver_resection_vs_nonsurgical", "outcome": "OS"}
        if chosen is None:
            row.update(control_arm="", n_control=np.nan, measure="none comparable")
        else:
            c, col, kind = chosen
            row.update(control_arm=c["arm"], n_control=c["n"], measure=col)
            if kind == "surv":
                row.update(surv_treated=treated[col] / 100.0, surv_control=c[col] / 100.0)
            else:
                row.update(median_treated=treated[col], median_control=c[col])
        note = ""
        if abs(row["arms_total_n"] - row["reported_total_n"]) > 0.5:
            note = (f"arm sizes add up to {row['arms_total_n']:g}, not the reported total "
                    f"{row['reported_total_n']:g}")
        row["data_note"] = note
        row["source"] = "Lesurtel et al. HPB 2015, Table 1 (arm-level survival)"
        rows.append(row)
    return pd.DataFrame(rows)


def load(name: str) -> pd.DataFrame:
    """Load a shipped dataset as a DataFrame (see the module docstring)."""
    if name == "gepnet_ptr":
        return _load_gepnet_ptr()
    if name == "nlm_liver_resection":
        return _load_nlm_liver_resection()
    if name in _FILES:
        return _read_text_csv(name)
    raise SelectionError(f"unknown dataset '{name}'; available: {', '.join(names())}")


def documented_exclusions(name: str, raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a shipped dataset into the rows that can be derived and the rows the curators
    documented as not usable (``include_primary = no``) that cannot be pooled (no effect,
    unclear direction). Returns (rest, excluded); ``excluded`` has a ``reason`` naming the
    curation, its flags and what is missing. Rows that fail but were not marked unusable
    stay in ``rest`` (their errors are reported by `derive`). Datasets without a curation
    column are returned unchanged."""
    empty = raw.iloc[0:0].assign(reason=pd.Series(dtype=str))
    if name not in _CURATION or len(raw) == 0:
        return raw, empty
    col, value, why = _CURATION[name]
    if col not in raw.columns:
        return raw, empty
    from ..errors import EvidenceError
    from ..evidence.validation import derive

    try:
        derive(raw.reset_index(drop=True), source=f"dataset '{name}'")
        return raw, empty
    except EvidenceError as exc:
        failing: dict[int, list[str]] = {}
        for p in exc.problems:
            if p.level == "error" and p.row is not None:
                failing.setdefault(raw.index[p.row - 1], []).append(p.message)
    drop = [i for i in failing if str(raw.loc[i, col]).strip() == value]
    reasons = []
    for i in drop:
        flags = str(raw.loc[i, why]).strip() if why in raw.columns else ""
        reasons.append(f"documented as not usable by the curators ({col} = '{value}'"
                       + (f"; {why}: {flags}" if flags else "") + f"); cannot be pooled: {'; '.join(failing[i])}")
    return raw.drop(index=drop), raw.loc[drop].assign(reason=reasons)
