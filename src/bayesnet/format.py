"""How numbers are written for people: hazard ratios, intervals, probabilities and
threshold labels, in the report, the figures, the arm-level report and the CLI.

One module so that a probability reads the same everywhere: three decimals, with the
ends written as bounds (">0.999", "<0.001") because a posterior probability computed
by quadrature or from draws is never exactly 0 or 1 to the precision shown.
"""

from __future__ import annotations

import math

__all__ = ["hr", "num", "p", "p_eq", "p_words", "ci", "hr_ci", "hr_cri", "cri_label", "is_prob_key", "prior",
           "parse_prob_key", "prob_key", "prob_label", "ratio_prob_key", "threshold"]

MISSING = "n/a"


def num(x, digits: int = 2) -> str:
    """A number with `digits` decimals (a log-HR, a standard error, tau, a test
    statistic), e.g. num(-0.39612, 4) -> "-0.3961"; None, NaN or an infinite value ->
    "n/a" (a value too large to represent is never printed as "inf")."""
    if x is None:
        return MISSING
    x = float(x)
    return f"{x:.{digits}f}" if math.isfinite(x) else MISSING


def hr(x, digits: int = 2) -> str:
    """A hazard ratio (or any ratio on the HR scale) with `digits` decimals, e.g.
    0.6731 -> "0.67"; None, NaN or infinite -> "n/a" (as `num`)."""
    return num(x, digits)


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
    "0.006"), else two ("0.87"); never "1.00" or "0.00". None -> "n/a" (as `p`)."""
    if x is None:
        return MISSING
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


def hr_ci(median, pair, label: str = "", digits: int = 2) -> str:
    """A median with its interval for a table cell, a figure or a terminal line:
    "0.67 (0.41-0.93)"; with label=cri_label() it is "0.67 (95% CrI 0.41-0.93)". Also
    for tau (same two decimals)."""
    return f"{hr(median, digits)} ({label}{ci(pair, digits)})"


def cri_label(ci_prob: float = 0.95) -> str:
    """The label before a credible interval with probability `ci_prob`, with its
    trailing space: 0.95 -> "95% CrI ", 0.9 -> "90% CrI "."""
    return f"{100 * ci_prob:g}% CrI "


def hr_cri(median, pair, label: str = "95% CrI ") -> str:
    """A median with its interval in words, e.g. "0.67 (95% CrI 0.41 to 0.93)"; with
    label="" it is "0.67 (0.41 to 0.93)" (label=cri_label(ci_prob) for another
    probability)."""
    return f"{hr(median)} ({label}{hr(pair[0])} to {hr(pair[1])})"


def threshold(t) -> str:
    """A threshold in its canonical short form: 1.0 -> "1", 0.8 -> "0.8", 1.25 -> "1.25"
    (Python's "g" format; the shortest round-tripping repr when "g" would round). Used in
    probability keys ("p_hr_lt_1") and in sentences."""
    t = float(t)
    s = f"{t:g}"
    return s if float(s) == t else repr(t)


_SIDES = {"lt": "<", "gt": ">"}


def prob_key(t, side: str = "lt", predictive: bool = False) -> str:
    """The one spelling of a probability, used as summary.json key, sweep/influence CSV
    column, tidy-table column and xarray variable: P(HR < t) is "p_hr_lt_<t>", P(HR > t)
    "p_hr_gt_<t>", and for the predictive HR (a new study) "p_pred_hr_lt_<t>", with <t>
    in the canonical short form of `threshold` (0.8 -> "p_hr_lt_0.8", 1.0 -> "p_hr_lt_1")."""
    if side not in _SIDES:
        raise ValueError(f"side must be 'lt' or 'gt', not {side!r}")
    return f"p_{'pred_' if predictive else ''}hr_{side}_{threshold(t)}"


def ratio_prob_key(t=1.0, side: str = "lt") -> str:
    """The key of a probability about a meta-regression coefficient, in the scheme of
    `prob_key`: the coefficient is the log of a ratio of HRs (the HR at a level over the
    HR at the reference level), and "p_ratio_lt_1" is P(ratio of HRs < 1) =
    P(coefficient < 0) (the level shows the larger benefit); "p_ratio_gt_<t>" is
    P(ratio > t). `parse_prob_key` and `is_prob_key` read HR keys only (a ratio is not an
    HR); `prob_label` reads both."""
    if side not in _SIDES:
        raise ValueError(f"side must be 'lt' or 'gt', not {side!r}")
    return f"p_ratio_{side}_{threshold(t)}"


def parse_prob_key(key: str) -> tuple[str, float, bool]:
    """(side, threshold, predictive) of a key written by `prob_key`: "p_hr_lt_0.8" ->
    ("lt", 0.8, False), "p_pred_hr_gt_1.25" -> ("gt", 1.25, True). Raises ValueError for
    anything else (a change column "d_p_hr_lt_1" is "d_" + a key)."""
    rest, predictive = key, False
    if not rest.startswith("p_"):
        raise ValueError(f"not a probability key: {key!r}")
    rest = rest[2:]
    if rest.startswith("pred_"):
        rest, predictive = rest[5:], True
    for side in _SIDES:
        head = f"hr_{side}_"
        if rest.startswith(head):
            try:
                return side, float(rest[len(head):]), predictive
            except ValueError:
                break
    raise ValueError(f"not a probability key: {key!r}")


def is_prob_key(key, side: str | None = None, predictive: bool | None = None) -> bool:
    """True when `key` is a probability key written by `prob_key` (False for anything
    else, including non-strings); with `side` ("lt"/"gt") and/or `predictive` given, only
    for such a key: is_prob_key(c, "lt", predictive=False) picks the pooled P(HR < t)
    columns ("p_hr_lt_0.8", not "p_pred_hr_lt_0.8" or "d_p_hr_lt_0.8")."""
    if not isinstance(key, str):
        return False
    try:
        s, _, pred = parse_prob_key(key)
    except ValueError:
        return False
    return (side is None or s == side) and (predictive is None or pred == predictive)


def prob_label(key: str) -> str:
    """A probability key read aloud: "p_hr_lt_0.8" -> "P(HR < 0.8)", "p_hr_gt_1.25" ->
    "P(HR > 1.25)", "p_pred_hr_lt_1" -> "P(new HR < 1)" (the HR of a new study),
    "p_ratio_lt_1" -> "P(HR ratio < 1)" (`ratio_prob_key`)."""
    for side, rel in _SIDES.items():
        head = f"p_ratio_{side}_"
        if key.startswith(head):
            try:
                return f"P(HR ratio {rel} {threshold(float(key[len(head):]))})"
            except ValueError:
                break
    side, t, predictive = parse_prob_key(key)
    return f"P({'new ' if predictive else ''}HR {_SIDES[side]} {threshold(t)})"


def bf(x: float | None) -> str:
    """A Bayes factor for reading: two decimals from 0.01 to 1000, "> 10^6" / "< 10^-6"
    beyond a million-fold, else in powers of ten ("3.2 x 10^4")."""
    if x is None or not math.isfinite(x):
        return MISSING if x is None or math.isnan(x) else ("> 10^6" if x > 0 else MISSING)
    if x > 1e6:
        return "> 10^6"
    if x < 1e-6:
        return "< 10^-6"
    if 0.01 <= x < 1000:
        return f"{x:.2f}"
    e = math.floor(math.log10(x))
    return f"{x / 10**e:.1f} x 10^{e}"


def ratio_digits(values, min_digits: int = 2, max_digits: int = 4) -> int:
    """Decimals for a row of ratios (an HR and its interval) so that the smallest has two
    significant digits, at least `min_digits` and at most `max_digits`: HR 0.65 (0.56-0.76)
    keeps 2 decimals; 0.0956 (0.0171-0.534) gets 3 -> "0.096 (0.017-0.534)", so a reported
    value is never printed as a rounder number than the study gave."""
    vals = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v)) and float(v) != 0]
    if not vals:
        return min_digits
    need = 1 - math.floor(math.log10(min(vals)))
    return int(min(max(min_digits, need), max_digits))
def _g(x) -> str:
    return f"{float(x):g}"


def prior(pr, name: str | None = None) -> str:
    """A prior as a statistician writes it: "Normal(0, 1^2)" (mean, SD squared),
    "Half-Normal(0.5)" (scale), "Half-Cauchy(0.5)", "Student-t(0, 0.13^2, 3 df)",
    "Half-t(0.5, 3 df)", "Log-Normal(-1.5, 1^2)" (of log tau), "Inverse-Gamma(2.42, 0.3)"
    (shape, scale), "Uniform(0, 2)", "flat (improper)"; with `name` it reads "mu ~
    Normal(0, 1^2)". A named prior (a spec's `label`) keeps its name in brackets:
    "Inverse-Gamma(2.42, 0.3) [Bartos 2023]". `pr` is a `bayesnet.priors.Prior` (or
    anything with .dist, .params and .label)."""
    p, d = pr.params, pr.dist
    if d == "normal":
        s = f"Normal({_g(p.get('mu', 0.0))}, {_g(p['sigma'])}^2)"
    elif d == "student_t":
        s = f"Student-t({_g(p.get('mu', 0.0))}, {_g(p['sigma'])}^2, {_g(p['nu'])} df)"
    elif d == "half_normal":
        s = f"Half-Normal({_g(p['sigma'])})"
    elif d == "half_cauchy":
        s = f"Half-Cauchy({_g(p['scale'])})"
    elif d == "half_t":
        s = f"Half-t({_g(p['sigma'])}, {_g(p['nu'])} df)"
    elif d == "lognormal":
        s = f"Log-Normal({_g(p['mu'])}, {_g(p['sigma'])}^2)"
    elif d == "inv_gamma":
        s = f"Inverse-Gamma({_g(p['alpha'])}, {_g(p['beta'])})"
    elif d == "uniform":
        s = f"Uniform({_g(p.get('lower', 0.0))}, {_g(p['upper'])})"
    elif d == "flat":
        s = "flat (improper)"
    else:
        s = f"{d}(" + ", ".join(f"{k} = {_g(v)}" for k, v in p.items()) + ")"
    if getattr(pr, "label", None):
        s += f" [{pr.label}]"
    return f"{name} ~ {s}" if name else s
