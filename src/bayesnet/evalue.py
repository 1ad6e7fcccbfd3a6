"""E-values for unmeasured confounding (VanderWeele TJ, Ding P (2017) Ann Intern Med
167:268-74), for the pooled HR of a Bayesian meta-analysis.

For a risk ratio RR (RR < 1 is inverted first, RR -> 1/RR, true -> 1/true):

    E = (RR + sqrt(RR (RR - true))) / true            (RR >= true; the usual true = 1)
    E = R + sqrt(R (R - 1)),  R = true / RR             (RR < true)

An HR is first converted to a risk ratio: HR itself when the outcome is rare (< 15% by the
end of follow-up), otherwise RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) (VanderWeele
TJ (2020) Biometrics 76:746-52). For an interval, only the limit nearer the null gets an
E-value, and it is 1 when the interval crosses the null. This reproduces
``EValue::evalues.HR`` (Mathur, Smith, Ding, VanderWeele; R package EValue 4.1.4); the
tests compare against values computed by R (tests/reference/evalue_R.json).
"""

from __future__ import annotations

import math

__all__ = ["evalue_rr", "evalue_sentence", "evalue_summary", "evalues_hr", "hr_to_rr"]


def hr_to_rr(hr: float, rare: bool) -> float:
    """Risk ratio approximating an HR: HR itself for a rare outcome, else
    (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) (VanderWeele 2020)."""
    if not hr > 0:
        raise ValueError(f"an HR must be positive, got {hr!r}")
    if rare:
        return float(hr)
    return (1.0 - 0.5 ** math.sqrt(hr)) / (1.0 - 0.5 ** math.sqrt(1.0 / hr))


def evalue_rr(rr: float, true: float = 1.0) -> float:
    """E-value of a risk ratio (the EValue package's ``threshold``; VanderWeele & Ding 2017)."""
    if rr <= 1:
        rr, true = 1.0 / rr, 1.0 / true
    if true <= rr:
        return (rr + math.sqrt(rr * (rr - true))) / true
    rat = true / rr
    return rat + math.sqrt(rat * (rat - 1.0))


def evalues_hr(est: float, lo: float | None = None, hi: float | None = None, rare: bool = False,
               true: float = 1.0) -> dict:
    """As ``EValue::evalues.HR(est, lo, hi, rare, true)``: {"rr": {point, lower, upper},
    "evalue": {point, lower, upper}} with None where R gives NA (only the interval limit
    nearer `true` gets an E-value; 1 when the interval crosses `true`)."""
    if est < 0:
        raise ValueError("HR cannot be negative")
    r_est = hr_to_rr(est, rare)
    r_lo = None if lo is None else hr_to_rr(lo, rare)
    r_hi = None if hi is None else hr_to_rr(hi, rare)
    r_true = hr_to_rr(true, rare)
    if r_lo is not None and r_hi is not None and r_lo > r_hi:
        raise ValueError("Lower confidence limit should be less than upper confidence limit")
    if (r_lo is not None and r_est < r_lo) or (r_hi is not None and r_est > r_hi):
        raise ValueError("Point estimate should be inside confidence interval")
    null_ci = None
    if r_est > r_true and r_lo is not None:
        null_ci = r_lo < r_true
    if r_est < r_true and r_hi is not None:
        null_ci = r_hi > r_true
    e = [evalue_rr(v, r_true) if v is not None else None for v in (r_est, r_lo, r_hi)]
    if null_ci:
        e[1] = e[2] = 1.0
    if r_lo is not None or r_hi is not None:
        if r_est > r_true:
            e[2] = None
        if r_est < r_true:
            e[1] = None
        if r_est == r_true:
            e[1], e[2] = 1.0, None
    return {"rr": {"point": r_est, "lower": r_lo, "upper": r_hi},
            "evalue": {"point": e[0], "lower": e[1], "upper": e[2]}}


def evalue_summary(marginal, rare_outcome: bool = False, prob: float = 0.95) -> dict:
    """E-values for a log-HR posterior marginal: for the posterior median HR and for the
    equal-tailed `prob` credible limit nearer 1 (1 when the interval crosses 1).
    Returns {point, ci, rare_outcome, hr: {median, ci95}, rr: {point, ci}}."""
    q = marginal.quantile([0.5, 0.5 - prob / 2, 0.5 + prob / 2])
    med, lo, hi = (math.exp(float(v)) for v in q)
    r = evalues_hr(med, lo, hi, rare=rare_outcome)
    ci = r["evalue"]["upper"] if r["evalue"]["upper"] is not None else r["evalue"]["lower"]
    rr_ci = r["rr"]["upper"] if med < 1 else r["rr"]["lower"]
    return {"point": r["evalue"]["point"], "ci": ci, "rare_outcome": bool(rare_outcome),
            "hr": {"median": med, "ci95": [lo, hi]}, "rr": {"point": r["rr"]["point"], "ci": rr_ci}}


def evalue_sentence(ev: dict, treatment: str = "the treatment", outcome: str = "death",
                    adjusted: bool = False) -> str:
    """One plain sentence explaining the E-values of `evalue_summary`: of the HR as the
    studies report it, or (adjusted=True) of the bias-adjusted HR, where the E-value is the
    further unmeasured confounding, beyond the bias already assumed, that would explain the
    adjusted estimate away."""
    p, c = ev["point"], ev["ci"]
    conv = ("" if ev["rare_outcome"] else
            " (the HR was first converted to a risk ratio because the outcome is common)")
    if adjusted:
        s = (f"Beyond the bias already assumed, a further unmeasured confounder associated with both {treatment} and "
             f"{outcome} by a risk ratio of {p:.2f} each would explain away the bias-adjusted pooled HR of "
             f"{ev['hr']['median']:.2f}{conv}; ")
    else:
        s = (f"An unmeasured confounder associated with both {treatment} and {outcome} by a risk ratio of "
             f"{p:.2f} each, above the measured confounders, could explain away the pooled HR of "
             f"{ev['hr']['median']:.2f}{conv}; ")
    if c is None or c <= 1.0 + 1e-12:
        s += "the 95% credible interval already includes 1, so no confounding is needed to make it include 1."
    else:
        s += f"one of {c:.2f} each could move the 95% credible interval to include 1."
    return s
