"""Validate study rows and derive (log_hr, se) for each, collecting every problem.

`derive` reads a CSV file or a pandas DataFrame with one row per study estimate and
returns an `EvidenceTable`: the study, log_hr, se, a derivation tag and the warnings
per row, with every other column carried through unchanged. One pass collects all
problems; nothing stops at the first. Errors raise `EvidenceError` (holding every
`Problem`); warnings stay in the table.

Accepted ways to state an effect (first match wins, in this order):

========================  ================================================  ==========================
columns                   formula (see `bayesnet.evidence.conversions`)     derivation tag
========================  ================================================  ==========================
log_hr, se                as given                                          log_hr_se
hr, ci_low, ci_high       ln HR, (ln U - ln L) / 2z                         hr_ci
ci_low, ci_high           (ln L + ln U) / 2, as above                       imputed_point_estimate
hr, p_value               |ln HR| / Phi^-1(1 - p/2)                         se_from_p / se_from_p_bound
o_minus_e, v              (O-E)/V, 1/sqrt(V)                                logrank_peto
surv_treated/control + n  ln(-ln S_t) - ln(-ln S_c), sqrt(1/E_t + 1/E_c)    from_survival_proportions
median_treated/control    ln(M_c/M_t), events or n/2 per arm                from_medians[_events_approx]
========================  ================================================  ==========================

``direction`` (``treated_vs_control``, the default, or ``control_vs_treated``) inverts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr

from . import conversions as cv

__all__ = ["Problem", "EvidenceError", "EvidenceTable", "derive", "read_evidence", "NUMERIC_COLUMNS"]

NUMERIC_COLUMNS = (
    "hr", "ci_low", "ci_high", "ci_level", "log_hr", "se", "o_minus_e", "v",
    "surv_treated", "surv_control", "n_treated", "n_control", "n_total",
    "median_treated", "median_control", "events_treated", "events_control",
)
DIRECTIONS = ("treated_vs_control", "control_vs_treated")
STUDY_COLUMNS = ("study", "study_id")
DERIVED_COLUMNS = ("study", "log_hr", "se", "derivation", "warnings")


@dataclass(frozen=True)
class Problem:
    """One problem found in the input: where it is, what is wrong and how to fix it."""

    level: str  # "error" | "warning"
    source: str
    row: int | None  # 1-based data row (the header is not counted)
    study: str | None
    column: str | None
    message: str
    fix: str

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.study:
            where.append(f"study '{self.study}'")
        if self.column:
            where.append(f"column '{self.column}'")
        return f"{self.level}: {', '.join(where)}: {self.message}. Fix: {self.fix}"


class EvidenceError(ValueError):
    """Raised when the evidence has errors; `.problems` holds all of them (and the
    warnings found in the same pass)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.level == "error"]
        super().__init__(
            f"{len(errors)} error(s) in the evidence table:\n" + "\n".join(str(p) for p in errors)
        )


@dataclass
class EvidenceTable:
    """A validated evidence table.

    ``table`` has one row per study estimate with columns study, log_hr, se, derivation,
    warnings and every input column carried through; ``problems`` lists the warnings
    (errors never reach an EvidenceTable); ``excluded`` lists rows a selection removed,
    with the reason."""

    table: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    source: str = "<DataFrame>"
    excluded: pd.DataFrame | None = None

    @property
    def k(self) -> int:
        return len(self.table)

    @property
    def studies(self) -> list[str]:
        return list(self.table["study"])

    def display_table(self, level: float = 0.95) -> pd.DataFrame:
        """Study, HR with its CI at `level`, log_hr, se, derivation, warnings."""
        t = self.table
        z = cv.z_for_level(level)
        return pd.DataFrame({
            "study": t["study"],
            "hr": np.exp(t["log_hr"]),
            "ci_low": np.exp(t["log_hr"] - z * t["se"]),
            "ci_high": np.exp(t["log_hr"] + z * t["se"]),
            "log_hr": t["log_hr"],
            "se": t["se"],
            "derivation": t["derivation"],
            "warnings": t["warnings"],
        })


# --------------------------------------------------------------------------- parsing

_P_RE = re.compile(r"^\s*(p\s*)?(?P<op><=|<|=|≤)?\s*(?P<num>[0-9.eE+-]+)\s*$", re.IGNORECASE)


def _decimals(text: str) -> int:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return 6
    exp = d.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 6


def _is_missing(v) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, str) and v.strip() in ("", "NA", "NaN", "nan", "N/A", "n/a", "None", "null")


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
    """Read a CSV as text, so that reported decimals and non-numeric values survive."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"evidence file not found: {path}")
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])


# --------------------------------------------------------------------------- deriving

class _Row:
    """Numeric access to one input row, with problems recorded as they are found."""

    def __init__(self, row: pd.Series, idx: int, study: str, source: str, sink: list[Problem]):
        self.row, self.idx, self.study, self.source, self.sink = row, idx, study, source, sink
        self.values: dict[str, float] = {}
        self.decimals: dict[str, int] = {}
        self.bad = False
        self.warnings: list[str] = []

    def problem(self, level: str, column: str | None, message: str, fix: str) -> None:
        self.sink.append(Problem(level, self.source, self.idx + 1, self.study, column, message, fix))
        if level == "error":
            self.bad = True
        else:
            self.warnings.append(message if column is None else f"{column}: {message}")

    def parse_numeric(self, columns) -> None:
        for col in columns:
            if col not in self.row.index:
                continue
            raw = self.row[col]
            if _is_missing(raw):
                continue
            text = _as_text(raw)
            try:
                val = float(text.replace("\u2212", "-"))
            except ValueError:
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


def _study_label(row: pd.Series, idx: int) -> str:
    for c in STUDY_COLUMNS:
        if c in row.index and not _is_missing(row[c]):
            return str(row[c]).strip()
    return f"<row {idx + 1}>"


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
    if not ok:
        return None

    p_info = None
    if "p_value" in r.row.index and not _is_missing(r.row["p_value"]):
        try:
            p_info = parse_p(r.row["p_value"])
            if not 0.0 < p_info[0] <= 1.0:
                raise ValueError(f"{p_info[0]:g} is not in (0, 1]")
        except ValueError as exc:
            r.problem("error", "p_value", f"cannot read the p-value ({exc})",
                      "write an exact p (0.002) or a bound (<0.001)")
            return None

    try:
        if r.has("log_hr", "se"):
            return cv.from_log_hr_se(v["log_hr"], v["se"])
        if r.has("hr", "ci_low", "ci_high"):
            eff = cv.from_hr_ci(v["hr"], v["ci_low"], v["ci_high"], level)
            _check_symmetry(r)
            if p_info is not None:
                _check_p_consistency(r, p_info, level)
            return eff
        if r.has("ci_low", "ci_high"):
            return cv.from_ci_only(v["ci_low"], v["ci_high"], level)
        if r.has("hr") and p_info is not None:
            p, bound, _ = p_info
            if v["hr"] == 1.0 or p >= 1.0:
                r.problem("error", "p_value", f"HR = {v['hr']:g} with p = {p:g} gives no standard error",
                          "find the CI or the standard error in the paper, or exclude the row")
                return None
            return cv.from_hr_p(v["hr"], p, bound)
        if r.has("o_minus_e", "v"):
            return cv.from_logrank(v["o_minus_e"], v["v"])
        if r.has("surv_treated", "surv_control", "n_treated", "n_control"):
            return cv.from_survival_proportions(v["surv_treated"], v["surv_control"], v["n_treated"], v["n_control"])
        if r.has("median_treated", "median_control"):
            if r.has("events_treated", "events_control"):
                return cv.from_medians(v["median_treated"], v["median_control"],
                                       v["events_treated"], v["events_control"])
            if r.has("n_treated", "n_control"):
                r.problem("warning", None, "events not reported: approximated as half of each arm "
                          "(at least half the patients have died by the median)",
                          "give events_treated and events_control when the paper reports them")
                return cv.from_medians(v["median_treated"], v["median_control"],
                                       v["n_treated"] / 2.0, v["n_control"] / 2.0,
                                       tag="from_medians_events_approx")
    except (ValueError, ZeroDivisionError) as exc:  # defensive: reported, never a traceback
        r.problem("error", None, f"the effect cannot be computed ({exc})", "check the numbers against the paper")
        return None

    missing_hint = ("an HR with a p-value but the p-value is missing" if r.has("hr") else "no effect columns")
    r.problem("error", None, f"no usable effect ({missing_hint})",
              "give one of: hr + ci_low + ci_high; ci_low + ci_high; hr + p_value; log_hr + se; "
              "o_minus_e + v; surv_treated + surv_control + n_treated + n_control; "
              "median_treated + median_control with events or arm sizes; or exclude the row")
    return None


def _check_symmetry(r: _Row) -> None:
    """Warn when the CI is asymmetric around ln HR beyond what rounding explains."""
    v = r.values
    a = math.log(v["hr"]) - math.log(v["ci_low"])
    b = math.log(v["ci_high"]) - math.log(v["hr"])
    tol = (2 * r.half_unit("hr") / v["hr"] + r.half_unit("ci_low") / v["ci_low"]
           + r.half_unit("ci_high") / v["ci_high"]) + 0.02 * (a + b)
    if abs(a - b) > tol:
        r.problem("warning", "ci_low",
                  f"CI {v['ci_low']:g}-{v['ci_high']:g} is asymmetric around HR {v['hr']:g} on the log scale "
                  f"(half-widths {a:.3f} below, {b:.3f} above) beyond rounding",
                  "check the numbers against the paper; the CI may not be a Wald interval on the log scale")


def _implied_p_range(r: _Row, level: float) -> tuple[float, float]:
    v = r.values
    z = cv.z_for_level(level)
    ps = []
    for dh in (-1, 1):
        for dl in (-1, 1):
            for du in (-1, 1):
                h = v["hr"] + dh * r.half_unit("hr")
                lo = v["ci_low"] + dl * r.half_unit("ci_low")
                hi = v["ci_high"] + du * r.half_unit("ci_high")
                if min(h, lo, hi) <= 0 or hi <= lo:
                    continue
                se = (math.log(hi) - math.log(lo)) / (2 * z)
                ps.append(2 * ndtr(-abs(math.log(h)) / se))
    if not ps:
        p = cv.p_from_log_hr_se(math.log(v["hr"]), (math.log(v["ci_high"]) - math.log(v["ci_low"])) / (2 * z))
        return p, p
    return min(ps), max(ps)


def _check_p_consistency(r: _Row, p_info: tuple[float, bool, int], level: float) -> None:
    """Warn when the reported p cannot be reconciled with the CI, even allowing for the
    rounding of the HR, the CI bounds and the p-value itself."""
    p, bound, dec = p_info
    p_lo, p_hi = _implied_p_range(r, level)
    implied = cv.p_from_log_hr_se(math.log(r.values["hr"]),
                                  (math.log(r.values["ci_high"]) - math.log(r.values["ci_low"])) / (2 * cv.z_for_level(level)))
    if bound:
        inconsistent = p_lo > p * 1.0000001
    else:
        half = 0.5 * 10.0 ** (-dec)
        inconsistent = p_hi < p - half or p_lo > p + half
    if inconsistent:
        rep = f"p {'<' if bound else '='} {p:g}"
        r.problem("warning", "p_value",
                  f"reported {rep} is inconsistent with the CI {r.values['ci_low']:g}-{r.values['ci_high']:g}, "
                  f"which implies p = {implied:.2g}",
                  "check both against the paper; the CI is used for the standard error")


def derive(data: pd.DataFrame | str | Path, source: str | None = None) -> EvidenceTable:
    """Validate every row and derive (log_hr, se) on the treated-vs-control log-HR scale.

    Parameters
    ----------
    data : a CSV path or a DataFrame, one row per study estimate, with a ``study`` (or
        ``study_id``) column and any one of the effect statements listed in the module
        docstring.
    source : the name used in messages (defaults to the file name).

    Returns an `EvidenceTable`. Raises `EvidenceError` listing every error (with the
    file, row, study, column and fix); warnings are kept in the table's ``warnings``
    column and in ``EvidenceTable.problems``.
    """
    if isinstance(data, (str, Path)):
        source = source or str(data)
        df = read_evidence(data)
    else:
        source = source or "<DataFrame>"
        df = data.copy()
    df = df.reset_index(drop=True)
    problems: list[Problem] = []

    if not any(c in df.columns for c in STUDY_COLUMNS):
        problems.append(Problem("error", source, None, None, "study",
                                "there is no study column", "add a column 'study' with a unique id per row"))
        raise EvidenceError(problems)
    if len(df) == 0:
        problems.append(Problem("error", source, None, None, None, "the table has no rows", "add study rows"))
        raise EvidenceError(problems)

    studies = [_study_label(df.iloc[i], i) for i in range(len(df))]
    out_log, out_se, out_tag, out_warn = [], [], [], []
    first_seen: dict[str, int] = {}
    for i in range(len(df)):
        row = df.iloc[i]
        r = _Row(row, i, studies[i], source, problems)
        if studies[i] in first_seen:
            r.problem("error", "study", f"duplicate study id (also row {first_seen[studies[i]] + 1})",
                      "give every row its own id (e.g. add the outcome or subgroup), or select one of them")
        else:
            first_seen[studies[i]] = i
        r.parse_numeric(NUMERIC_COLUMNS)
        direction = "treated_vs_control"
        if "direction" in row.index and not _is_missing(row["direction"]):
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
        out_log.append(np.nan if eff is None else eff.log_hr)
        out_se.append(np.nan if eff is None else eff.se)
        out_tag.append("" if eff is None else eff.derivation)
        out_warn.append("; ".join(r.warnings))

    if "overlap_group" in df.columns:
        groups: dict[str, list[int]] = {}
        for i, g in enumerate(df["overlap_group"]):
            if not _is_missing(g):
                groups.setdefault(str(g).strip(), []).append(i)
        for g, rows in groups.items():
            if len(rows) > 1:
                for i in rows:
                    others = ", ".join(studies[j] for j in rows if j != i)
                    msg = f"shares source population '{g}' with {len(rows) - 1} other row(s) ({others})"
                    problems.append(Problem("warning", source, i + 1, studies[i], "overlap_group", msg,
                                            "keep one row per population (select_overlap) or model a population effect"))
                    out_warn[i] = "; ".join(x for x in (out_warn[i], f"overlap_group: {msg}") if x)

    if any(p.level == "error" for p in problems):
        raise EvidenceError(problems)

    table = df.copy()
    for c in NUMERIC_COLUMNS:  # numeric columns become numbers
        if c in table.columns:
            table[c] = pd.to_numeric(table[c].map(lambda x: np.nan if _is_missing(x) else x), errors="coerce")
    if "study_id" in table.columns and "study" not in table.columns:
        table.insert(0, "study", studies)
    else:
        table["study"] = studies
    for name, vals in (("log_hr", out_log), ("se", out_se), ("derivation", out_tag), ("warnings", out_warn)):
        table[name] = vals
    ordered = list(DERIVED_COLUMNS) + [c for c in table.columns if c not in DERIVED_COLUMNS]
    table = table[ordered]
    return EvidenceTable(table=table, problems=[p for p in problems if p.level == "warning"], source=source)
