"""The ways a paper can state a study effect, as one table: `CONVERSIONS`.

Each `Conversion` names the columns it needs (all holding a number; ``p_value`` a
readable p), the columns it also reads, the function that turns them into (log_hr, se)
on the treated-vs-control log-HR scale, the derivation tags it writes, the formula and
its reference. The table is in priority order: a row uses the first conversion whose
required columns it has (`choose`), so a row with log_hr + se and an HR with its CI uses
log_hr + se. From this one table come the dispatch (`effect`), the fix of the "no usable
effect" error (`fix_message`), the list in the docstring of `bayesnet.evidence.validation`
(`text_table`) and the table of accepted inputs in the README (`markdown_table`; a test
checks that the README shows exactly this table).

The formulas themselves are in `bayesnet.evidence.conversions`; references:
Tierney JF et al. (2007), Trials 8:16. Parmar MKB et al. (1998), Stat Med 17:2815-34.
Collett D (2015), Modelling Survival Data in Medical Research, 3rd ed. Brookmeyer R,
Crowley J (1982), Biometrics 38:29-41.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from scipy.special import ndtr

from . import conversions as cv

__all__ = ["CONVERSIONS", "Conversion", "choose", "effect", "fix_message", "is_derived", "markdown_table",
           "text_table"]

#: A parsed p-value: (value, is a bound such as "<0.001", reported decimals).
PInfo = tuple[float, bool, int]


class RowInput(Protocol):
    """What a converter reads from one validated input row (`bayesnet.evidence.validation`):
    the numeric cells by column, their reported rounding, and a sink for problems."""

    values: dict[str, float]

    def has(self, *cols: str) -> bool: ...

    def half_unit(self, col: str) -> float: ...

    def problem(self, level: str, column: str | None, message: str, fix: str) -> None: ...


@dataclass(frozen=True)
class Conversion:
    """One accepted way to state an effect.

    required : the columns that must all be given (numbers; ``p_value`` a readable p).
    optional : (column, what it does) for the other columns this conversion reads.
    convert : (row, CI level, parsed p-value or None) -> `Effect`, or None after
        recording an error on the row. May raise ValueError or ZeroDivisionError, which
        `effect` reports as an error of the row.
    tags : the derivation tags it can write (before a ``+inverted`` suffix).
    formula : log_hr; se, in words a biostatistician checks against the paper.
    reference : where the formula comes from ("" when the values are used as given).
    reported : True when the study's own interval is used (log_hr + se, HR + CI), False
        when bayesnet constructs it (from a p-value, survival proportions, medians, ...):
        the report and the forest plot mark the constructed ones (`is_derived`).
    """

    required: tuple[str, ...]
    optional: tuple[tuple[str, str], ...]
    convert: Callable[[RowInput, float, PInfo | None], cv.Effect | None]
    tags: tuple[str, ...]
    formula: str
    reference: str
    reported: bool = False

    def applies(self, available: Collection[str]) -> bool:
        """Whether a row with the columns `available` can use this conversion."""
        return all(c in available for c in self.required)


# --------------------------------------------------------------------------- converters

def _log_hr_se(r: RowInput, level: float, p: PInfo | None) -> cv.Effect:
    return cv.from_log_hr_se(r.values["log_hr"], r.values["se"])


def _hr_ci(r: RowInput, level: float, p: PInfo | None) -> cv.Effect:
    v = r.values
    eff = cv.from_hr_ci(v["hr"], v["ci_low"], v["ci_high"], level)
    _check_symmetry(r)
    if p is not None:
        _check_p_consistency(r, p, level)
    return eff


def _ci_only(r: RowInput, level: float, p: PInfo | None) -> cv.Effect:
    return cv.from_ci_only(r.values["ci_low"], r.values["ci_high"], level)


def _hr_p(r: RowInput, level: float, p: PInfo | None) -> cv.Effect | None:
    assert p is not None  # required column: `effect` passes the parsed p
    hr = r.values["hr"]
    value, bound, _ = p
    if hr == 1.0 or value >= 1.0:
        r.problem("error", "p_value", f"HR = {hr:g} with p = {value:g} gives no standard error",
                  "find the CI or the standard error in the paper, or exclude the row")
        return None
    return cv.from_hr_p(hr, value, bound)


def _logrank(r: RowInput, level: float, p: PInfo | None) -> cv.Effect:
    return cv.from_logrank(r.values["o_minus_e"], r.values["v"])


def _survival(r: RowInput, level: float, p: PInfo | None) -> cv.Effect:
    v = r.values
    return cv.from_survival_proportions(v["surv_treated"], v["surv_control"], v["n_treated"], v["n_control"])


def _medians_events(r: RowInput, level: float, p: PInfo | None) -> cv.Effect:
    v = r.values
    return cv.from_medians(v["median_treated"], v["median_control"], v["events_treated"], v["events_control"],
                           n_treated=v.get("n_treated"), n_control=v.get("n_control"))


def _medians_arm_sizes(r: RowInput, level: float, p: PInfo | None) -> cv.Effect:
    v = r.values
    r.problem("warning", None, "events not reported: approximated as half of each arm "
              "(at least half the patients have died by the median)",
              "give events_treated and events_control when the paper reports them")
    return cv.from_medians(v["median_treated"], v["median_control"], v["n_treated"] / 2.0, v["n_control"] / 2.0,
                           tag="from_medians_events_approx")


_TIERNEY = "Tierney et al. 2007"
_MEDIAN_VAR = "V = 1 / ((ln 2)^2 2 d) per arm, d = deaths before the median"

#: Every accepted way to state an effect, in priority order (the first that applies wins).
CONVERSIONS: tuple[Conversion, ...] = (
    Conversion(("log_hr", "se"), (), _log_hr_se, ("log_hr_se",),
               "as given", "", reported=True),
    Conversion(("hr", "ci_low", "ci_high"), (("ci_level", "default 0.95"), ("p_value", "checked against the CI")),
               _hr_ci, ("hr_ci",),
               "ln HR; (ln U - ln L) / 2z, z = Phi^-1((1 + ci_level) / 2)", f"{_TIERNEY}, method 1", reported=True),
    Conversion(("ci_low", "ci_high"), (("ci_level", "default 0.95"),), _ci_only, ("imputed_point_estimate",),
               "(ln L + ln U) / 2 (the point estimate imputed); (ln U - ln L) / 2z", f"{_TIERNEY}, method 1"),
    Conversion(("hr", "p_value"), (), _hr_p, ("se_from_p", "se_from_p_bound"),
               "ln HR; abs(ln HR) / Phi^-1(1 - p/2) (Wald test), p exact (0.002) or a bound (<0.001: the se is "
               "then an upper bound, used as the se)", f"{_TIERNEY}; Parmar et al. 1998"),
    Conversion(("o_minus_e", "v"), (), _logrank, ("logrank_peto",),
               "(O-E)/V; 1/sqrt(V) (Peto)", f"{_TIERNEY}, method 2"),
    Conversion(("surv_treated", "surv_control", "n_treated", "n_control"), (), _survival,
               ("from_survival_proportions",),
               "ln(-ln S_t) - ln(-ln S_c); sqrt(v_t + v_c), v = (1 - S) / (n S (ln S)^2) per arm (delta method; "
               "calibrated by simulation in the tests)", "Collett 2015, section 2.2.3"),
    Conversion(("median_treated", "median_control", "events_treated", "events_control"),
               (("n_treated", "caps d at n/2"), ("n_control", "caps d at n/2")), _medians_events,
               ("from_medians",),
               f"ln(M_c / M_t) (exponential survival); sqrt(V_t + V_c), {_MEDIAN_VAR} = min(events, n/2), "
               "or the events when n is not given (calibrated by simulation in the tests)",
               "Brookmeyer & Crowley 1982; Collett 2015, section 2.4"),
    Conversion(("median_treated", "median_control", "n_treated", "n_control"), (), _medians_arm_sizes,
               ("from_medians_events_approx",),
               f"ln(M_c / M_t); sqrt(V_t + V_c), {_MEDIAN_VAR} = n/2 (with a warning: events not reported)",
               "Brookmeyer & Crowley 1982; Collett 2015, section 2.4"),
)


#: The derivation tags of the conversions that use the study's own interval.
REPORTED_TAGS = frozenset(t for c in CONVERSIONS if c.reported for t in c.tags)


def is_derived(tag) -> bool:
    """True when a row's derivation tag names an interval bayesnet constructed (from a
    p-value or a p bound, log-rank statistics, survival proportions, medians or an imputed
    point estimate) rather than one the study reported: any tag, before a "+inverted"
    suffix, that is not a tag of a `reported` conversion ("se_from_p",
    "from_medians+inverted"). False for "log_hr_se", "hr_ci" (with or without the suffix)
    and for a blank tag (`table.is_blank`: None, NaN, "")."""
    from .table import is_blank

    if is_blank(tag):
        return False
    t = str(tag).strip().split("+")[0]
    return bool(t) and t not in REPORTED_TAGS


def choose(available: Collection[str]) -> Conversion | None:
    """The first conversion in `CONVERSIONS` whose required columns are all `available`."""
    return next((c for c in CONVERSIONS if c.applies(available)), None)


def fix_message() -> str:
    """The fix of the "no usable effect" error: every accepted set of columns, in order."""
    return "give one of: " + "; ".join(" + ".join(c.required) for c in CONVERSIONS) + "; or exclude the row"


def effect(r: RowInput, level: float, p: PInfo | None) -> cv.Effect | None:
    """(log_hr, se) of one validated row by the first conversion that applies, at CI
    level `level`, with `p` the row's parsed p-value (None when it gives none). Returns
    None after recording an error on the row: no conversion applies ("no usable
    effect", whose fix lists `CONVERSIONS`), or the chosen one cannot compute."""
    available = set(r.values) | ({"p_value"} if p is not None else set())
    conversion = choose(available)
    if conversion is not None:
        try:
            return conversion.convert(r, level, p)
        except (ValueError, ZeroDivisionError) as exc:  # defensive: reported, never a traceback
            r.problem("error", None, f"the effect cannot be computed ({exc})", "check the numbers against the paper")
            return None
    missing_hint = ("an HR with a p-value but the p-value is missing" if r.has("hr") else "no effect columns")
    r.problem("error", None, f"no usable effect ({missing_hint})", fix_message())
    return None


# --------------------------------------------------------------------------- rendering

def _also(c: Conversion, code: str) -> str:
    return ", ".join(f"{code}{col}{code} ({what})" for col, what in c.optional)


def markdown_table() -> str:
    """The README table of accepted inputs (one row per conversion, in priority order)."""
    lines = ["| columns | also read | log_hr; se | derivation tag | reference |", "|---|---|---|---|---|"]
    for c in CONVERSIONS:
        cols = ", ".join(f"`{x}`" for x in c.required)
        tags = ", ".join(f"`{t}`" for t in c.tags)
        lines.append(f"| {cols} | {_also(c, '`')} | {c.formula} | {tags} | {c.reference} |")
    return "\n".join(lines) + "\n"


def text_table() -> str:
    """The same table as numbered plain text, for docstrings."""
    out = []
    for i, c in enumerate(CONVERSIONS, 1):
        also = " (also: " + "; ".join(f"{col}, {what}" for col, what in c.optional) + ")" if c.optional else ""
        ref = f" [{c.reference}]" if c.reference else ""
        out.append(f"{i}. {' + '.join(c.required)}{also} -> {' / '.join(c.tags)}: {c.formula}{ref}")
    return "\n".join(out)


# --------------------------------------------------------------------------- checks of an HR with its CI

def _check_symmetry(r: RowInput) -> None:
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


def _implied_p_range(r: RowInput, level: float) -> tuple[float, float]:
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


def _check_p_consistency(r: RowInput, p_info: PInfo, level: float) -> None:
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
