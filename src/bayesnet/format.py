"""How numbers are written for people: hazard ratios, intervals, probabilities and
threshold labels, in the report, the figures, the arm-level report and the CLI.

One module so that a probability reads the same everywhere: three decimals, with the
ends written as bounds (">0.999", "<0.001") because a posterior probability computed
by quadrature or from draws is never exactly 0 or 1 to the precision shown.
"""

from __future__ import annotations

import math

__all__ = ["hr", "p", "p_eq", "p_words", "ci", "hr_cri", "prob_label", "threshold", "threshold_as_written"]

MISSING = "n/a"


def hr(x, digits: int = 2) -> str:
    """A hazard ratio (or any ratio on the HR scale) with `digits` decimals, e.g.
    0.6731 -> "0.67"; None -> "n/a"."""
    return MISSING if x is None else f"{x:.{digits}f}"


def p(x) -> str:
    """A probability for a table cell: ">0.999" above 0.999, "<0.001" below 0.001,
    else three decimals ("0.957"); None -> "n/a". The bounds have no space after the
    sign (a cell holds the number alone)."""
    if x is None:
        return MISSING
    if x > 0.999:
        return ">0.999"
    if x < 0.001:
        return "<0.001"
    return f"{x:.3f}"


def p_eq(x) -> str:
    """A probability after its label, as in "P(HR < 1) = 0.957": "= 0.957", "> 0.999"
    or "< 0.001" (the same rule as `p`, with the relation spelt out and spaced);
    None -> "= n/a"."""
    v = p(x)
    return v[0] + " " + v[1:] if v[:1] in "<>" else "= " + v


def p_words(x) -> str:
    """A probability inside a sentence for clinicians (the GRADE draft): "> 0.999" and
    "< 0.001" at the ends (spaced), three decimals within 0.01 of either end ("0.994",
    "0.006"), else two ("0.87"); never "1.00" or "0.00"."""
    if x > 0.999:
        return "> 0.999"
    if x < 0.001:
        return "< 0.001"
    return f"{x:.3f}" if (x > 0.99 or x < 0.01) else f"{x:.2f}"


def ci(pair, digits: int = 2, sep: str = "-") -> str:
    """An interval as "low-high" on the HR scale, e.g. [0.41, 0.93] -> "0.41-0.93";
    a missing end is "n/a" ("n/a-0.93")."""
    lo, hi = pair
    return f"{hr(lo, digits)}{sep}{hr(hi, digits)}"


def hr_cri(median, pair, label: str = "95% CrI ") -> str:
    """A median with its interval in words, e.g. "0.67 (95% CrI 0.41 to 0.93)"; with
    label="" it is "0.67 (0.41 to 0.93)"."""
    return f"{hr(median)} ({label}{hr(pair[0])} to {hr(pair[1])})"


def prob_label(key: str) -> str:
    """A probability key of summary.json as read aloud: "hr<0.8" -> "HR < 0.8",
    "hr>1.25" -> "HR > 1.25" (wrap it in P(...) for a column header)."""
    return key.replace("hr<", "HR < ").replace("hr>", "HR > ")


def threshold(t) -> str:
    """A threshold in its shortest form (Python's "g" format): 1.0 -> "1", 0.8 ->
    "0.8", 1.25 -> "1.25". Used in summary.json keys ("hr<1") and in sentences."""
    return f"{float(t):g}"


def threshold_as_written(t, written=None) -> str:
    """A threshold as the spec writes it, for the sweep/influence column names
    ("p_hr_lt_1.0"): the entry of `written` (the spec's raw [report].thresholds) equal to
    `t`, else str(t) (1.0 -> "1.0", 0.8 -> "0.8")."""
    for r in written or []:
        if math.isclose(float(r), float(t)):
            return str(r)
    return str(t)
