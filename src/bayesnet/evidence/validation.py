"""Validate study rows and derive (log_hr, se) for each, collecting every problem.

`derive` reads a CSV file or a pandas DataFrame with one row per study estimate and
returns an `EvidenceTable`: the study, log_hr, se, a derivation tag and the warnings
per row, with every other column carried through unchanged. One pass collects all
problems; nothing stops at the first. Errors raise `EvidenceError` (holding every
`Problem`); warnings stay in the table.

Accepted ways to state an effect (first match wins, in this order; the list is
`bayesnet.evidence.derivations.CONVERSIONS`, the formulas are in
`bayesnet.evidence.conversions`):

{conversions}

``direction`` (``treated_vs_control``, the default, or ``control_vs_treated``) inverts.

Column names: the columns bayesnet reads (`KNOWN_COLUMNS`) are recognised whatever their
case and surrounding whitespace (``HR``, `` hr ``, ``CI_low``, ``Log_HR``, ``SE``; inner
spaces or hyphens count as ``_``): they are renamed with a warning. Two columns that read
as the same name are an error, and so is a column named like one bayesnet adds to its
outputs (`OUTPUT_COLUMNS`: warnings, derivation, shrunken_hr, shrunken_low, shrunken_high,
shrunken_log_hr_mean), whatever its case.

Rows: every message names the row of the file, the 1-based data row counted after the
header (row N is spreadsheet row N + 1), also after a selection removed rows (the input
column ``_row`` carries it; without it rows are numbered 1, 2, ... in table order). A
study id that is empty, ``NA``, ``N/A``, ``None``, ``nan`` or ``null`` is an error.

Plausible values (outside them is an error, never a silent result): a hazard ratio (``hr``,
``ci_low``, ``ci_high``) in [`HR_MIN`, `HR_MAX`] = [1e-4, 1e4]; ``|log_hr|`` <= ln 1e4 =
9.21; a standard error of the log HR (given or derived) in [`SE_MIN`, `SE_MAX`] = [1e-6,
10]; every number finite. A row stating both hr and/or its CI and log_hr + se must
agree within the rounding of the reported digits (log_hr vs ln HR, se vs the CI's
(ln U - ln L) / 2z, with 1% slack on the se): otherwise an error names both values.

Reading a file: see `bayesnet.evidence.reading` (regular files only, 50 MB, UTF-8 with or
without BOM or UTF-16/32 with BOM, ``;`` or tab separators with a warning, decimal commas
in ``;`` files with a warning).
"""

from __future__ import annotations

import heapq
import math
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import EvidenceError
from . import conversions as cv
from . import derivations
from .reading import NUMERIC_COLUMNS, ROW_COLUMN, read_table
from .selection import _links, _text
from .table import EvidenceTable, Problem, is_blank

__all__ = ["derive", "read_evidence", "normalise_columns",
           "NUMERIC_COLUMNS", "KNOWN_COLUMNS", "OUTPUT_COLUMNS"]

if __doc__:  # the list of accepted inputs, from the one table (absent under python -OO)
    __doc__ = __doc__.replace("{conversions}", derivations.text_table())

DIRECTIONS = ("treated_vs_control", "control_vs_treated")
STUDY_COLUMNS = ("study", "study_id")
DERIVED_COLUMNS = ("study", "log_hr", "se", "derivation", "warnings")
#: Columns bayesnet reads: recognised whatever their case and surrounding whitespace.
KNOWN_COLUMNS = (*STUDY_COLUMNS, *NUMERIC_COLUMNS, "p_value", "direction", "overlap_group", "overlaps_with", "label")
#: Columns bayesnet adds to its outputs: an input column with one of these names is an error.
OUTPUT_COLUMNS = ("warnings", "derivation", "shrunken_hr", "shrunken_low", "shrunken_high", "shrunken_log_hr_mean")
#: Values of a ``design`` column meaning a single-arm series (an HR row with one is warned about).
CASE_SERIES = ("case_series", "case_series_study", "single_arm", "single_arm_series")
#: Plausible range of a hazard ratio (hr, ci_low, ci_high).
HR_MIN, HR_MAX = 1e-4, 1e4
#: Plausible range of the standard error of a log hazard ratio (given or derived).
SE_MIN, SE_MAX = 1e-6, 10.0
LOG_HR_MAX = math.log(HR_MAX)


# --------------------------------------------------------------------------- parsing

_P_RE = re.compile(r"^\s*(p\s*)?(?P<op><=|<|=|≤)?\s*(?P<num>[0-9.eE+-]+)\s*$", re.IGNORECASE)


def _decimals(text: str) -> int:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return 6
    exp = d.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 6




def _as_text(v) -> str:
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v).strip()


def parse_p(v) -> tuple[float, bool, int]:
    """Parse a p-value: 0.002, '0.002', '<0.001', 'p < .05'. Returns (value, is_bound,
    decimals). Raises ValueError with a readable reason."""
    if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool):
        return float(v), False, _decimals(_as_text(v))
    m = _P_RE.match(str(v))
    if not m:
        raise ValueError(f"'{v}' is not a p-value")
    num = m.group("num")
    value = float(num)
    return value, m.group("op") in ("<", "<=", "≤"), _decimals(num)


# --------------------------------------------------------------------------- reading

def read_evidence(path: str | Path) -> pd.DataFrame:
    """Read an evidence CSV as text, so that ids and reported decimals survive (see
    `bayesnet.evidence.reading.read_table`, whose warnings this drops; `derive` and
    `load_evidence` keep them). Raises `EvidenceError` naming the file."""
    df, _ = read_table(path)
    return df.drop(columns=[ROW_COLUMN])


def _column_key(name) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip()).casefold()


def normalise_columns(df: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[Problem]]:
    """See `_normalise`; returns (table, problems)."""
    table, problems, _ = _normalise(df, source)
    return table, problems


def _normalise(df: pd.DataFrame, source: str) -> tuple[pd.DataFrame, list[Problem], bool]:
    """Rename the columns bayesnet reads (`KNOWN_COLUMNS`) written in another case or with
    surrounding whitespace ("HR", " hr ", "CI_low") to their canonical name, with a warning
    naming the rename. Errors: two columns that read as the same name (or a duplicated
    label in a DataFrame), and a column named like an output column (`OUTPUT_COLUMNS`).
    Returns (table with renamed columns, problems, whether two columns share a name)."""
    problems: list[Problem] = []
    rename: dict = {}
    for c in df.columns:
        if c == ROW_COLUMN:
            continue
        key = _column_key(c)
        if key in OUTPUT_COLUMNS:
            problems.append(Problem("error", source, None, None, str(c),
                                    f"the column '{c}' has the name of a column bayesnet adds to its outputs",
                                    f"rename the column (e.g. '{str(c).strip()}_source'); bayesnet never overwrites "
                                    f"an input column"))
        elif key in KNOWN_COLUMNS and c != key:
            rename[c] = key
    new = [rename.get(c, c) for c in df.columns]
    duplicated = False
    for name in dict.fromkeys(new):
        originals = [str(c) for c, n in zip(df.columns, new) if n == name]
        if len(originals) > 1:
            shown = " and ".join(f"'{o}'" for o in originals)
            problems.append(Problem("error", source, None, None, str(name),
                                    f"the columns {shown} both read as '{name}'" if len(set(originals)) > 1 else
                                    f"the column name '{name}' appears {len(originals)} times",
                                    "rename or delete all but one of them"))
            duplicated = True
    if duplicated:
        return df, problems, True
    for old, key in rename.items():
        problems.append(Problem("warning", source, None, None, key,
                                f"column '{old}' read as '{key}'", f"name the column '{key}' to silence this warning"))
    return df.rename(columns=rename), problems, False


# --------------------------------------------------------------------------- deriving

class _Record(dict):
    """One input row as a dict with a Series-like ``index`` (its column names): reading a
    row this way is linear in k, where ``df.iloc[i]`` per row dominates for large tables."""

    @property
    def index(self):
        return self.keys()


class _Row:
    """Numeric access to one input row, with problems recorded as they are found."""

    def __init__(self, row: _Record, rowno: int, study: str | None, source: str, sink: list[Problem]):
        self.row, self.rowno, self.study, self.source, self.sink = row, rowno, study, source, sink
        self.values: dict[str, float] = {}
        self.decimals: dict[str, int] = {}
        self.bad = False
        self.warnings: list[str] = []
        self.check_range = True  # the HR plausibility bounds (HR_MIN..HR_MAX, SE_MIN..SE_MAX)

    def problem(self, level: str, column: str | None, message: str, fix: str) -> None:
        self.sink.append(Problem(level, self.source, self.rowno, self.study, column, message, fix))
        if level == "error":
            self.bad = True
        else:
            self.warnings.append(message if column is None else f"{column}: {message}")

    def parse_numeric(self, columns) -> None:
        for col in columns:
            if col not in self.row.index:
                continue
            raw = self.row[col]
            if is_blank(raw):
                continue
            text = _as_text(raw)
            try:
                val = float(text.replace("\u2212", "-"))
            except ValueError:
                if re.fullmatch(r"[+\-\u2212]?\d*,\d+", text):
                    self.problem("error", col, f"'{raw}' has a decimal comma",
                                 f"write a decimal point ({text.replace(',', '.')}); decimal commas are read only in "
                                 "files separated by semicolons")
                else:
                    self.problem("error", col, f"'{raw}' is not a number",
                                 "write a plain number with a decimal point (e.g. 0.45) or leave the cell empty")
                continue
            if not math.isfinite(val):
                self.problem("error", col, f"'{raw}' is not a finite number", "write a finite number or leave the cell empty")
                continue
            self.values[col] = val
            self.decimals[col] = _decimals(text)

    def has(self, *cols: str) -> bool:
        return all(c in self.values for c in cols)

    def half_unit(self, col: str) -> float:
        return 0.5 * 10.0 ** (-self.decimals.get(col, 6))


def _study_label(row: _Record) -> str | None:
    """The study id, or None when it is missing (empty, NA, N/A, None, nan, null)."""
    for c in STUDY_COLUMNS:
        if c in row.index and not is_blank(row[c]):
            return str(row[c]).strip()
    return None


def _check_hr_positive(r: _Row, col: str) -> bool:
    if col in r.values and r.values[col] <= 0:
        v = r.values[col]
        hint = (" A negative value is almost surely a log hazard ratio mislabelled as an HR"
                if v < 0 else "")
        r.problem("error", col, f"hazard ratio {v:g} is not positive.{hint}",
                  "give the HR on the ratio scale (exp of the log HR), or put log-scale values "
                  "in the columns log_hr and se")
        return False
    return True


def _derive_row(r: _Row) -> cv.Effect | None:
    v = r.values
    if r.bad:  # a non-numeric cell was already reported; no second, derived message
        return None
    ok = all(_check_hr_positive(r, c) for c in ("hr", "ci_low", "ci_high"))
    level = v.get("ci_level", 0.95)
    if "ci_level" in v and not 0.0 < level < 1.0:
        r.problem("error", "ci_level", f"confidence level {level:g} is not between 0 and 1",
                  "write the level as a proportion, e.g. 0.95 for a 95% interval")
        ok = False
    if "se" in v and v["se"] <= 0:
        r.problem("error", "se", f"standard error {v['se']:g} is not positive",
                  "give the standard error of the log HR (> 0)")
        ok = False
    elif "se" in v and r.check_range and not SE_MIN <= v["se"] <= SE_MAX:
        r.problem("error", "se", f"standard error {v['se']:g} is outside the plausible range {SE_MIN:g} to {SE_MAX:g} "
                  "for the log hazard ratio",
                  "give the standard error of the log HR (not of the HR, not a variance, not in percent)")
        ok = False
    for col in ("hr", "ci_low", "ci_high"):
        if ok and r.check_range and col in v and not HR_MIN <= v[col] <= HR_MAX:
            r.problem("error", col, f"hazard ratio {v[col]:g} is outside the plausible range {HR_MIN:g} to {HR_MAX:g}",
                      "check the value against the paper (a log HR belongs in the column log_hr)")
            ok = False
    if "log_hr" in v and r.check_range and abs(v["log_hr"]) > LOG_HR_MAX:
        r.problem("error", "log_hr", f"log hazard ratio {v['log_hr']:g} is outside the plausible range "
                  f"+/-{LOG_HR_MAX:.2f} (HR {HR_MIN:g} to {HR_MAX:g})",
                  "check the value; an HR on the ratio scale belongs in the column hr")
        ok = False
    if r.has("ci_low", "ci_high") and ok and v["ci_low"] >= v["ci_high"]:
        r.problem("error", "ci_low", f"lower CI bound {v['ci_low']:g} is not below the upper bound {v['ci_high']:g}",
                  "check that the bounds are not swapped or mistyped")
        ok = False
    if r.has("hr", "ci_low", "ci_high") and ok and not (v["ci_low"] <= v["hr"] <= v["ci_high"]):
        r.problem("error", "hr", f"point estimate {v['hr']:g} lies outside its CI {v['ci_low']:g}-{v['ci_high']:g}",
                  "check the HR and the CI against the paper (an inverted HR needs direction = control_vs_treated "
                  "with its CI as reported)")
        ok = False
    for col in ("surv_treated", "surv_control"):
        if col in v and not 0.0 < v[col] < 1.0:
            hint = " (it looks like a percentage)" if 1.0 < v[col] <= 100.0 else ""
            r.problem("error", col, f"survival proportion {v[col]:g} is not strictly between 0 and 1{hint}",
                      "give survival as a proportion, e.g. 0.74 for 74%")
            ok = False
    for col in ("n_treated", "n_control", "events_treated", "events_control", "median_treated",
                "median_control", "v"):
        if col in v and v[col] <= 0:
            r.problem("error", col, f"{col} = {v[col]:g} must be positive", f"give a positive {col}")
            ok = False
    if not ok or not _check_both_statements(r, level):
        return None

    p_info = None
    if "p_value" in r.row.index and not is_blank(r.row["p_value"]):
        try:
            p_info = parse_p(r.row["p_value"])
            if not 0.0 < p_info[0] <= 1.0:
                raise ValueError(f"{p_info[0]:g} is not in (0, 1]")
        except ValueError as exc:
            r.problem("error", "p_value", f"cannot read the p-value ({exc})",
                      "write an exact p (0.002) or a bound (<0.001)")
            return None

    eff = derivations.effect(r, level, p_info)
    if eff is not None and not (math.isfinite(eff.log_hr) and math.isfinite(eff.se) and eff.se > 0 and (
            not r.check_range or (SE_MIN <= eff.se <= SE_MAX and abs(eff.log_hr) <= LOG_HR_MAX))):
        r.problem("error", None, f"the values give log HR {eff.log_hr:.4g} with standard error {eff.se:.4g} "
                  f"({eff.derivation}), outside the plausible ranges (|log HR| <= {LOG_HR_MAX:.2f}, "
                  f"se {SE_MIN:g} to {SE_MAX:g})", "check the numbers against the paper")
        return None
    return eff


def _check_both_statements(r: _Row, level: float) -> bool:
    """A row giving log_hr + se and also hr (and/or its CI) must agree within the rounding
    of the reported digits: |log_hr - ln HR| <= half a unit of each; se vs (ln U - ln L) / 2z
    within the rounding of se and of the bounds plus 1%. Returns False after an error."""
    v = r.values
    if not r.has("log_hr", "se") or not any(c in v for c in ("hr", "ci_low", "ci_high")):
        return True
    ok = True
    fix = ("check both statements against the paper and keep one of them in this row (empty the other cells); "
           "log_hr + se is used when both are given")
    if "hr" in v:
        tol = r.half_unit("log_hr") + r.half_unit("hr") / v["hr"] + 1e-9
        if abs(v["log_hr"] - math.log(v["hr"])) > tol:
            r.problem("error", "log_hr", f"log_hr {v['log_hr']:g} (HR {math.exp(v['log_hr']):.3g}) disagrees with "
                      f"hr {v['hr']:g} (log {math.log(v['hr']):.4f}) beyond rounding", fix)
            ok = False
    if r.has("ci_low", "ci_high"):
        z = cv.z_for_level(level)
        lo, hi = v["ci_low"], v["ci_high"]
        se_ci = (math.log(hi) - math.log(lo)) / (2 * z)
        tol = (r.half_unit("se") + (r.half_unit("ci_low") / lo + r.half_unit("ci_high") / hi) / (2 * z)
               + 0.01 * se_ci + 1e-9)
        if abs(v["se"] - se_ci) > tol:
            r.problem("error", "se", f"se {v['se']:g} disagrees with the CI {lo:g}-{hi:g}, which implies se "
                      f"{se_ci:.4f}", fix)
            ok = False
        est = math.exp(v["log_hr"])
        est_lo, est_hi = (math.exp(v["log_hr"] + d * r.half_unit("log_hr")) for d in (-1, 1))
        if "hr" not in v and (est_hi < lo - r.half_unit("ci_low") or est_lo > hi + r.half_unit("ci_high")):
            r.problem("error", "log_hr", f"log_hr {v['log_hr']:g} (HR {est:.3g}) lies outside the CI {lo:g}-{hi:g}",
                      fix)
            ok = False
    return ok


def derive(data: pd.DataFrame | str | Path, source: str | None = None,
           notes: list[Problem] | None = None, plausible_range: bool = True) -> EvidenceTable:
    """Validate every row and derive (log_hr, se) on the treated-vs-control log-HR scale.

    Parameters
    ----------
    data : a CSV path (read by `bayesnet.evidence.reading.read_table`) or a DataFrame, one
        row per study estimate, with a ``study`` (or ``study_id``) column and any one of the
        effect statements listed in the module docstring. An optional column ``_row`` gives
        each row's 1-based data row in the file, used in every message (else 1, 2, ...).
    source : the name used in messages (defaults to the file name).
    notes : problems already found for this input (e.g. the reading warnings), kept in
        front of the ones found here.
    plausible_range : check that HRs, log-HRs and standard errors lie in the plausible
        ranges for hazard ratios (see the module docstring). Set False only for effects on
        another scale given as log_hr/se (e.g. the eight-schools example of the tests);
        positivity and finiteness are always checked.

    Returns an `EvidenceTable` (without ``_row``). Raises `EvidenceError` listing every
    error (with the file, row, study, column and fix); warnings are kept in the table's
    ``warnings`` column and in ``EvidenceTable.problems``.
    """
    problems: list[Problem] = list(notes or [])
    if isinstance(data, (str, Path)):
        source = source or str(data)
        df, read_warnings = read_table(data, source)
        problems += read_warnings
    else:
        source = source or "<DataFrame>"
        df = data.copy()
    df = df.reset_index(drop=True)
    df, col_problems, duplicated = _normalise(df, source)
    problems += col_problems
    if duplicated:
        raise EvidenceError(problems)  # duplicated columns: no row can be read unambiguously
    if ROW_COLUMN in df.columns:
        rownos = [int(x) for x in df[ROW_COLUMN]]
        df = df.drop(columns=[ROW_COLUMN])
    else:
        rownos = list(range(1, len(df) + 1))

    if not any(c in df.columns for c in STUDY_COLUMNS):
        problems.append(Problem("error", source, None, None, "study",
                                "there is no study column", "add a column 'study' with a unique id per row"))
        raise EvidenceError(problems)
    if len(df) == 0:
        problems.append(Problem("error", source, None, None, None, "the table has no rows", "add study rows"))
        raise EvidenceError(problems)
    if any(str(c).strip().lower() == "treatment" for c in df.columns):  # a network (bayesnet.network)
        problems.append(Problem("error", source, None, None, "treatment",
                                "the table has a 'treatment' column: its rows are the arms or contrasts of a network "
                                "of treatments, not one effect per study",
                                "analyse it as a network meta-analysis: bayesnet fit/report SPEC routes it, or in "
                                "Python bayesnet.network.analyse_network(spec); or drop the column for a pairwise "
                                "analysis of one row per study"))
        raise EvidenceError(problems)

    studies: list[str | None] = []
    out_log, out_se, out_tag, out_warn = [], [], [], []
    first_seen: dict[str, int] = {}
    records = [_Record(zip(df.columns, vals)) for vals in df.itertuples(index=False, name=None)]
    for i, row in enumerate(records):
        studies.append(_study_label(row))
        r = _Row(row, rownos[i], studies[i], source, problems)
        r.check_range = plausible_range
        if studies[i] is None:
            col = "study" if "study" in df.columns else "study_id"
            raw = str(row[col]).strip() if col in row.index and row[col] is not None else ""
            r.problem("error", col, f"row {rownos[i]} has no study id" + (f" ('{raw}' is read as missing)" if raw else ""),
                      "give every row a study id (e.g. 'Smith 2019'); empty, NA, N/A, None, nan and null are "
                      "read as missing")
        elif studies[i] in first_seen:
            r.problem("error", "study", f"duplicate study id (also row {first_seen[studies[i]]})",
                      "give every row its own id (e.g. add the outcome or subgroup), or select one of them")
        else:
            first_seen[studies[i]] = rownos[i]
        r.parse_numeric(NUMERIC_COLUMNS)
        direction = "treated_vs_control"
        if "direction" in row.index and not is_blank(row["direction"]):
            direction = str(row["direction"]).strip()
            if direction not in DIRECTIONS:
                r.problem("error", "direction", f"unknown direction '{direction}'",
                          "use treated_vs_control (HR < 1 favours treatment) or control_vs_treated")
        eff = _derive_row(r)
        if eff is not None and direction == "control_vs_treated":
            eff = cv.invert(eff)
        if r.has("n_treated", "n_control", "n_total"):
            tot = r.values["n_treated"] + r.values["n_control"]
            if abs(tot - r.values["n_total"]) > 0.5:
                r.problem("warning", "n_total",
                          f"arm sizes {r.values['n_treated']:g} + {r.values['n_control']:g} = {tot:g} "
                          f"do not add up to the reported total {r.values['n_total']:g}",
                          "check the counts (a matched or subgroup analysis may use part of the cohort)")
        if "design" in row.index and not is_blank(row["design"]) and \
                re.sub(r"[\s-]+", "_", str(row["design"]).strip().lower()) in CASE_SERIES:
            r.problem("warning", "design",
                      f"the design is '{str(row['design']).strip()}', but a case series has no comparison group, so "
                      "its hazard ratio compares nothing stated",
                      "check the design (a cohort with a comparator?) or give the series as one arm row (arm, "
                      "treated, n, surv, surv_time_years) for the arm-level model with a [bias.by.design] prior")
        out_log.append(np.nan if eff is None else eff.log_hr)
        out_se.append(np.nan if eff is None else eff.se)
        out_tag.append("" if eff is None else eff.derivation)
        out_warn.append("; ".join(r.warnings))

    for i, column, msg in _overlap_warnings(df, studies):
        problems.append(Problem("warning", source, rownos[i], studies[i], column, msg,
                                "keep one row per population (select_overlap) or model a population effect"))
        out_warn[i] = "; ".join(x for x in (out_warn[i], f"{column}: {msg}") if x)

    if any(p.level == "error" for p in problems):
        raise EvidenceError(problems)

    table = df.copy()
    for c in NUMERIC_COLUMNS:  # numeric columns become numbers
        if c in table.columns:
            table[c] = pd.to_numeric(table[c].map(lambda x: np.nan if is_blank(x) else x), errors="coerce")
    if "study_id" in table.columns and "study" not in table.columns:
        table.insert(0, "study", studies)
    else:
        table["study"] = studies
    for name, vals in (("log_hr", out_log), ("se", out_se), ("derivation", out_tag), ("warnings", out_warn)):
        table[name] = vals
    ordered = list(DERIVED_COLUMNS) + [c for c in table.columns if c not in DERIVED_COLUMNS]
    table = table[ordered]
    return EvidenceTable(table=table, problems=[p for p in problems if p.level == "warning"], source=source)


def _names(studies: list, rows: list[int]) -> str:
    return ", ".join(str(studies[j]) for j in rows)


def _overlap_warnings(df: pd.DataFrame, studies: list) -> list[tuple[int, str, str]]:
    """(row position, column, message) for every row that shares patients with others:
    the same ``overlap_group``, or one row's ``overlaps_with`` naming the other's group
    (the conflict rule of `bayesnet.evidence.selection.select_overlap`, with its parser of
    ``overlaps_with``). Linear in the number of rows; messages name at most 5 rows."""
    if "overlap_group" not in df.columns:
        return []
    group = [_text(g) if not is_blank(g) else "" for g in df["overlap_group"]]
    links = [_links(x) for x in df["overlaps_with"]] if "overlaps_with" in df.columns else [set()] * len(df)
    members: dict[str, set[int]] = {}
    listed_by: dict[str, set[int]] = {}  # group -> rows whose overlaps_with names it
    for i, g in enumerate(group):
        if g:
            members.setdefault(g, set()).add(i)
        for g2 in links[i]:
            listed_by.setdefault(g2, set()).add(i)
    out = []
    empty: set[int] = set()
    first = {g: heapq.nsmallest(6, rows) for g, rows in members.items()}
    cache: dict = {}  # (group, overlaps_with) -> (number of linked rows, the first 5)
    big_cache: dict = {}
    for i in range(len(df)):
        g = group[i]
        mine = members.get(g, empty) if g else empty
        same = [j for j in first.get(g, []) if j != i][:5] if len(mine) > 1 else []
        if same:
            out.append((i, "overlap_group",
                        f"shares source population '{g}' with {len(mine) - 1} other row(s) "
                        f"({_names(studies, same)}{f' and {len(mine) - 6} more' if len(mine) > 6 else ''})"))
        # rows linked by overlaps_with: in a group this row names (big), or naming this row's
        # group (rest); never in this row's own group (mine). Cached, so that k rows naming one
        # large group cost O(k), not O(k^2).
        key = (g, frozenset(links[i]))
        if key not in cache:
            if key[1] not in big_cache:
                big = set().union(*(members.get(g2, empty) for g2 in key[1]))
                big_cache[key[1]] = (big, sorted(big))
            big, big_sorted = big_cache[key[1]]
            rest = (listed_by.get(g, empty) - big) if g else empty
            n = len(big) - len(big & mine) + len(rest) - len(rest & mine)
            first5 = []
            for j in heapq.merge(big_sorted, sorted(rest)):
                if j not in mine:
                    first5.append(j)
                    if len(first5) == 5:
                        break
            cache[key] = (n, first5)
        n_linked, linked = cache[key]
        if linked:
            others = ", ".join(f"{studies[j]} ('{group[j] or 'no group'}')" for j in linked) + (
                f" and {n_linked - 5} more" if n_linked > 5 else "")
            out.append((i, "overlaps_with",
                        f"its population overlaps that of {n_linked} other row(s) ({others}) by overlaps_with"))
    return out
