"""Arm-level survival rows: validation and the observed log cumulative hazard per arm.

An arm row states the survival of one study arm at one time point:

============  =====================================================================
column        meaning
============  =====================================================================
study         study id (every arm of a study shares it)
arm           arm label, unique within a study
treated       true for the treatment arm (true/false, yes/no, 1/0)
n             patients in the arm (a positive integer)
surv          overall survival at ``surv_time_years`` as a proportion in (0, 1)
surv_time_years  the time point in years (one time point per study)
events        optional: deaths by the time point (not used by the likelihood; checked)
============  =====================================================================

A comparative study has two or more arm rows (at least one treated, at least one not); a
single-arm case series has exactly one, which must be the treated arm. Each arm gives,
under proportional hazards,

    L = ln(-ln S),   var(L) = (1 - S) / (n S (ln S)^2)

(the delta method applied to the binomial variance S (1 - S) / n of S; Collett D (2015)
Modelling Survival Data in Medical Research, 3rd ed., section 2.3; censoring before t
makes the true variance larger). The contrast of two arms' L is the log-HR estimate of
`bayesnet.evidence.conversions` for survival proportions, with the same variance.

Every problem is collected in one pass and raised together as an `EvidenceError`; each
names the file, the row of the file (1-based data row), the study, the column and the fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import EvidenceError
from .table import Problem, is_blank

__all__ = ["ARM_COLUMNS", "ArmTable", "derive_arms", "is_arm_table", "split_mixed", "arm_log_cumhaz"]

ARM_COLUMNS = ("study", "arm", "treated", "n", "surv", "surv_time_years")
_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}


def arm_log_cumhaz(surv, n) -> tuple[np.ndarray, np.ndarray]:
    """(L, var L) for survival proportions `surv` of arms of size `n`:
    L = ln(-ln S), var = (1 - S) / (n S (ln S)^2) (delta method, binomial variance of S)."""
    s = np.asarray(surv, float)
    n = np.asarray(n, float)
    ls = np.log(s)
    return np.log(-ls), (1.0 - s) / (n * s * ls**2)


@dataclass
class ArmTable:
    """Validated arm rows: one row per arm with study, arm, treated (bool), n, surv,
    surv_time_years, L (= ln(-ln surv)), v (its variance), n_arms (arms of the study) and
    every other input column carried through."""

    table: pd.DataFrame
    problems: list = field(default_factory=list)
    source: str = "<DataFrame>"

    @property
    def studies(self) -> list[str]:
        return list(dict.fromkeys(self.table["study"]))

    @property
    def single_arm_studies(self) -> list[str]:
        t = self.table
        return [s for s in self.studies if int((t["study"] == s).sum()) == 1]




def is_arm_table(df: pd.DataFrame) -> bool:
    """True when the frame has the arm-level columns (``arm`` and ``surv``)."""
    cols = {str(c).strip().lower() for c in df.columns}
    return {"arm", "surv"} <= cols


def split_mixed(df: pd.DataFrame, source: str = "<DataFrame>") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split an evidence table holding both HR rows and arm rows: a row with a non-empty
    ``arm`` is an arm row, every other row an HR row. A study may be one or the other,
    never both (EvidenceError naming the study)."""
    if "arm" not in df.columns:
        return df, df.iloc[0:0]
    is_arm = ~df["arm"].map(is_blank)
    hr, arms = df[~is_arm], df[is_arm]
    both = sorted(set(hr["study"].astype(str)) & set(arms["study"].astype(str)))
    if both:
        probs = [Problem("error", source, None, s, "arm",
                         "the study has both HR rows and arm rows",
                         "give a study either as an HR (hr + CI, log_hr + se, ...) or as arms, not both")
                 for s in both]
        raise EvidenceError(probs)
    return hr, arms


def derive_arms(data, source: str | None = None) -> ArmTable:
    """Validate arm rows (a CSV path or a DataFrame) and add L = ln(-ln S) and its
    delta-method variance v per arm. Raises EvidenceError with every problem found."""
    if not isinstance(data, pd.DataFrame):
        source = source or str(data)
        from .reading import read_table

        df, _notes = read_table(data, source=source)
    else:
        df = data.copy()
        source = source or "<DataFrame>"
    df.columns = [str(c).strip() for c in df.columns]
    if "study" not in df.columns and "study_id" in df.columns:
        df["study"] = df["study_id"]
    probs: list[Problem] = []

    def err(row, study, col, msg, fix):
        probs.append(Problem("error", source, row, study, col, msg, fix))

    missing = [c for c in ARM_COLUMNS if c not in df.columns]
    if missing:
        err(None, None, ", ".join(missing), f"arm-level rows need the column(s) {', '.join(missing)}",
            f"add them (arm rows need: {', '.join(ARM_COLUMNS)})")
        raise EvidenceError(probs)
    rows_no = df["_row"].tolist() if "_row" in df.columns else list(range(1, len(df) + 1))
    treated, n, surv, t = [], [], [], []
    for r, (_, rec) in zip(rows_no, df.iterrows()):
        st = str(rec["study"]).strip()
        if is_blank(rec["study"]):
            err(r, None, "study", "the row has no study id", "give every arm its study's id")
        if is_blank(rec["arm"]):
            err(r, st, "arm", "the arm label is empty", "name the arm (e.g. liver_resection)")
        tv = str(rec["treated"]).strip().lower()
        if tv in _TRUE:
            treated.append(True)
        elif tv in _FALSE:
            treated.append(False)
        else:
            treated.append(None)
            err(r, st, "treated", f"'{rec['treated']}' is not true or false",
                "write true for the treatment arm and false for a comparator arm")

        def num(col):
            raw = rec[col]
            if is_blank(raw):
                return None
            try:
                v = float(str(raw).strip())
            except ValueError:
                err(r, st, col, f"'{raw}' is not a number", f"give {col} as a plain number")
                return None
            if not math.isfinite(v):
                err(r, st, col, f"{raw} is not finite", f"give a finite {col}")
                return None
            return v

        nv = num("n")
        if nv is None and is_blank(rec["n"]):
            err(r, st, "n", "the arm size is missing", "give the number of patients in the arm")
        elif nv is not None and (nv < 1 or nv != int(nv)):
            err(r, st, "n", f"{nv:g} is not a positive whole number of patients", "give the arm size")
            nv = None
        n.append(nv)
        sv = num("surv")
        if sv is None and is_blank(rec["surv"]):
            err(r, st, "surv", "survival at the time point is missing",
                "give the proportion alive at surv_time_years (e.g. 0.45)")
        elif sv is not None:
            if 1.0 < sv <= 100.0:
                err(r, st, "surv", f"{sv:g} looks like a percentage",
                    f"give survival as a proportion: {sv / 100:g}, not {sv:g}")
                sv = None
            elif not 0.0 < sv < 1.0:
                err(r, st, "surv", f"{sv:g} is outside (0, 1)",
                    "survival must be a proportion strictly between 0 and 1 (0 and 1 give no log cumulative hazard)")
                sv = None
        surv.append(sv)
        tv_ = num("surv_time_years")
        if tv_ is None and is_blank(rec["surv_time_years"]):
            err(r, st, "surv_time_years", "the time point is missing", "give the time point in years (e.g. 5)")
        elif tv_ is not None and tv_ <= 0:
            err(r, st, "surv_time_years", f"{tv_:g} is not a positive time", "give the time point in years")
            tv_ = None
        t.append(tv_)
        if "events" in df.columns and not is_blank(rec["events"]):
            ev = num("events")
            if ev is not None and nv is not None and not 0 <= ev <= nv:
                err(r, st, "events", f"{ev:g} deaths in an arm of {nv:g}", "check the events and the arm size")
    df["study"] = df["study"].astype(str).str.strip()
    df["treated"], df["n"], df["surv"], df["surv_time_years"] = treated, n, surv, t
    df["_row"] = rows_no
    for st, g in df.groupby("study", sort=False):
        r0 = int(g["_row"].iloc[0])
        if st and not any(x is True for x in g["treated"]) and all(x is not None for x in g["treated"]):
            err(r0, st, "treated", "the study has arms but no treated arm",
                "mark the treatment arm treated = true (a single-arm series is the treated arm)")
        if len(g) > 1 and all(x is True for x in g["treated"]):
            err(r0, st, "treated", "every arm of this comparative study is treated",
                "mark the comparator arm(s) treated = false")
        times = {x for x in g["surv_time_years"] if x is not None}
        if len(times) > 1:
            err(r0, st, "surv_time_years",
                f"arms of one study are at different time points ({', '.join(f'{x:g}' for x in sorted(times))} years)",
                "give every arm of a study at the same time point (drop the arms measured at another time)")
        dup = g["arm"][g["arm"].duplicated()]
        if len(dup):
            err(r0, st, "arm", f"arm label '{dup.iloc[0]}' appears twice", "give each arm of a study its own label")
    if any(p.level == "error" for p in probs):
        raise EvidenceError(probs)
    df["treated"] = df["treated"].astype(bool)
    df["n"] = df["n"].astype(float)
    df["surv"] = df["surv"].astype(float)
    df["surv_time_years"] = df["surv_time_years"].astype(float)
    L, v = arm_log_cumhaz(df["surv"], df["n"])
    df["L"], df["v"] = L, v
    df["n_arms"] = df.groupby("study")["arm"].transform("count").astype(int)
    return ArmTable(table=df.reset_index(drop=True), problems=probs, source=source)


# ----------------------------------------------------------------------------- one pipeline

ARM_FIELDS = ("arm", "treated", "n", "surv", "surv_time_years", "events", "L", "v", "_row", "notes", "source")
# the effect columns of an HR row (bayesnet.evidence.validation); on an arm row they would be ignored
HR_COLUMNS = ("hr", "ci_low", "ci_high", "hr_low", "hr_high", "log_hr", "se", "log_hr_low", "log_hr_high", "p_value",
              "o_minus_e", "surv_treated", "surv_control", "n_treated", "n_control", "median_treated",
              "median_control", "events_treated", "events_control")


def has_arm_rows(df: pd.DataFrame) -> bool:
    """True when a raw evidence frame holds arm rows (an ``arm`` column with a value)."""
    if not is_arm_table(df):
        return False
    col = next(c for c in df.columns if str(c).strip().lower() == "arm")
    return bool((~df[col].map(is_blank)).any())


def is_arm_evidence(ev) -> bool:
    """True when an EvidenceTable came from `arm_evidence` (its rows carry their arms)."""
    t = getattr(ev, "table", None)
    return t is not None and "arms" in t.columns and bool(t["arms"].map(lambda a: isinstance(a, list) and len(a) > 0).any())


def _crude(arms: pd.DataFrame) -> tuple[float, float]:
    """(log-HR, se) of a comparative study from its arms: mean L of the treated arms minus
    mean L of the comparator arms, var = sum v / count^2 per group (the survival-proportion
    conversion of `bayesnet.evidence.conversions` for two arms)."""
    t, c = arms[arms["treated"]], arms[~arms["treated"]]
    y = float(t["L"].mean() - c["L"].mean())
    v = float(t["v"].sum() / len(t) ** 2 + c["v"].sum() / len(c) ** 2)
    return y, math.sqrt(v)


def arm_evidence(raw: pd.DataFrame, source: str = "<DataFrame>", plausible_range: bool = True):
    """An EvidenceTable for a frame with arm rows (and possibly HR rows): one row per study.
    HR studies keep what `bayesnet.evidence.derive` makes of their rows; an arm study's row
    holds its study-level columns (from its first arm), ``design_arms`` ("comparative" or
    "case_series"), its arms as a list of dicts in ``arms`` (the model reads these) and, for
    a comparative study, the crude log-HR of its arms' survival at the time point with its
    se (``derivation`` says so; marked as derived wherever shown). A case series has no HR:
    log_hr and se are empty. HR columns on an arm row are refused (EvidenceError): they
    would be silently ignored."""
    from ..errors import EvidenceError
    from .table import EvidenceTable
    from .validation import derive

    df = raw.copy()
    df.columns = [str(c).strip() for c in df.columns]
    if "study" not in df.columns and "study_id" in df.columns:
        df["study"] = df["study_id"]
    if "_row" not in df.columns:
        df["_row"] = range(1, len(df) + 1)
    hr_rows, arm_rows = split_mixed(df, source)
    probs = []
    for col in HR_COLUMNS:
        if col in arm_rows.columns:
            bad = arm_rows[~arm_rows[col].map(is_blank)]
            for _, r in bad.iterrows():
                probs.append(Problem("error", source, int(r["_row"]), str(r["study"]), col,
                                     f"an arm row carries an HR column ({col} = {r[col]}), which the arm-level "
                                     "model would ignore",
                                     "give the study either as an HR row (no arm) or as arm rows without HR columns"))
    if probs:
        raise EvidenceError(probs)
    arms = derive_arms(arm_rows.reset_index(drop=True), source=source)
    rows = []
    problems = list(arms.problems)
    at = arms.table
    study_cols = [c for c in at.columns if c not in ARM_FIELDS and c not in ("n_arms",)]
    for st, g in at.groupby("study", sort=False):
        rec = {c: g[c].iloc[0] for c in study_cols}
        rec["study"] = st
        comparative = len(g) > 1
        rec["design_arms"] = "comparative" if comparative else "case_series"
        t_years = float(g["surv_time_years"].iloc[0])
        if comparative:
            rec["log_hr"], rec["se"] = _crude(g)
            rec["derivation"] = (f"crude log-HR from the arms' survival at {t_years:g} years "
                                 "(ln(-ln S) of treated minus comparator; the model uses the arms)")
        else:
            rec["log_hr"], rec["se"] = float("nan"), float("nan")
            rec["derivation"] = f"single-arm case series (survival {float(g['surv'].iloc[0]):.2f} at {t_years:g} years): no HR"
        rec["warnings"] = ""
        rec["arms"] = g[[c for c in ARM_FIELDS if c in g.columns]].to_dict(orient="records")
        rec["_row"] = int(g["_row"].iloc[0])
        rows.append(rec)
    parts = []
    if len(hr_rows):
        hr_in = hr_rows.drop(columns=[c for c in ("arm", "treated", "n", "surv", "surv_time_years")
                                      if c in hr_rows.columns]).reset_index(drop=True)
        hev = derive(hr_in, source=source, plausible_range=plausible_range)
        problems = list(hev.problems) + problems
        h = hev.table.copy()
        h["design_arms"] = "hr"
        h["arms"] = [[] for _ in range(len(h))]
        parts.append(h)
    parts.append(pd.DataFrame(rows))
    table = pd.concat(parts, ignore_index=True)
    return EvidenceTable(table=table, problems=problems, source=source)


def arm_rows_of(table: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """(HR rows, arm rows) of an `arm_evidence` table (after any selection of its study
    rows): the arm rows carry the study-level columns of their study row."""
    is_arm = table["arms"].map(lambda a: isinstance(a, list) and len(a) > 0)
    hr = table[~is_arm].reset_index(drop=True)
    recs = []
    for _, r in table[is_arm].iterrows():
        base = {c: r[c] for c in table.columns if c not in ("arms", "log_hr", "se", "derivation", "warnings",
                                                          "design_arms", "_row")}
        for a in r["arms"]:
            recs.append({**base, **a})
    arms = pd.DataFrame(recs) if recs else None
    if arms is not None:
        arms["n_arms"] = arms.groupby("study")["arm"].transform("count").astype(int)
    return (hr if len(hr) else None), arms
