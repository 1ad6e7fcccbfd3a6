"""A GRADE certainty-of-evidence DRAFT computed from the numbers of an analysis.

GRADE (Guyatt GH et al. 2008 BMJ 336:924; GRADE guidance 2011-2020, J Clin Epidemiol):
evidence from observational studies starts at low certainty; each domain with a serious
concern rates it down one level (risk of bias, inconsistency, indirectness, imprecision,
publication bias); a large effect may rate up, but not when plausible confounding would
increase the apparent effect (Guyatt GH et al. 2011 J Clin Epidemiol 64:1311-6). Panels
rate imprecision and inconsistency against thresholds they choose (Zeng L et al. 2021,
GRADE guidance 34, J Clin Epidemiol 137:163-75). This module only drafts: every sentence is
computed from the numbers given, and the text says the panel decides.
"""

from __future__ import annotations

from . import format as fmt
from .format import p_words as _fmt_p

__all__ = ["LEVELS", "grade_draft"]

LEVELS = ("very low", "low", "moderate", "high")
DRAFT_NOTE = ("Draft computed by bayesnet from the numbers above. It is a starting point for the panel, "
              "which makes the GRADE judgements and may rate differently.")


def _fmt_ci(ci) -> str:
    return fmt.ci(ci, sep=" to ")


def _p_is(p) -> str:
    """A probability after its label in a sentence: "= 0.87", "> 0.999", "< 0.001"."""
    v = _fmt_p(p)
    return v if v[0] in "<>" else "= " + v


def _spanned(interval, thresholds, decision_threshold) -> tuple[str, bool]:
    """(" spans the threshold(s) 1, 0.8" or " lies on one side of every threshold",
    whether the interval contains the decision threshold): the test the inconsistency
    and imprecision domains both apply, to different intervals."""
    lo, hi = interval
    crossed = [t for t in thresholds if lo < t < hi]
    words = (f" spans the threshold(s) {', '.join(f'{t:g}' for t in crossed)}" if crossed
             else " lies on one side of every threshold")
    return words, lo < decision_threshold < hi


def grade_draft(*, pooled_hr: float, pooled_ci95, predictive_ci95, thresholds, prob_pooled: dict,
                tipping_point: list[dict] | None = None, adjusted: dict | None = None,
                bias_assumptions: list[str] | None = None, indirectness: list[str] | None = None,
                publication_bias: str = "not assessed", observational: bool = True,
                confounding_exaggerates_benefit: bool = True, decision_threshold: float = 1.0,
                plausible_bias_ratio: float = 0.8, assumed_bias_range: tuple[float, float] | None = None) -> dict:
    """Per-domain sentences and an overall suggested certainty (a DRAFT).

    pooled_hr, pooled_ci95, predictive_ci95: unadjusted HR median and 95% intervals;
    thresholds: the panel's HR thresholds; prob_pooled: {t: P(HR < t)} (unadjusted);
    tipping_point: rows of ``bias.tipping_points``; adjusted: the bias-adjusted
    {"hr": median, "ci95": [lo, hi], "prob": {t: P}} or None; indirectness: notes from
    the evidence table (mixed sites, other comparisons), each a concern the panel weighs;
    plausible_bias_ratio: a tipping ratio at or above it (a bias of at most that size
    overturns P(HR < decision_threshold)) is a serious risk-of-bias concern;
    assumed_bias_range: the 95% prior range of the common bias ratio the analysis itself
    assumes (``[bias] common``): a tipping ratio inside it is a serious concern too, since
    the analysis already calls a bias of that size plausible.

    Returns {"draft": True, "note", "start", "domains": {name: {"concern", "sentence"}},
    "large_effect": {...}, "overall": {"certainty", "reasons"}}."""
    start = "low" if observational else "high"
    domains = {}
    dt = float(decision_threshold)

    # risk of bias -------------------------------------------------------------------
    rob_serious, parts = False, []
    tp = [r for r in (tipping_point or []) if abs(r["threshold"] - dt) < 1e-12]
    if tp:
        r = tp[0]
        if r["ratio"] is None:
            parts.append(r.get("reason") or "no tipping point was found in the range searched")
            if r.get("prob_without_bias", 1.0) < r["probability"]:
                rob_serious = True
        else:
            parts.append(f"a shared bias making the studies' HRs {r['ratio']:.2f} times the true HR would bring "
                         f"P(HR < {dt:g}) down to {100 * r['probability']:g}%")
            if r["ratio"] >= plausible_bias_ratio:
                rob_serious = True
                parts.append(f"a bias of that size (ratio {plausible_bias_ratio:g} or closer to 1) is plausible for "
                             "confounding by indication and immortal-time bias")
            elif assumed_bias_range is not None and r["ratio"] >= assumed_bias_range[0]:
                rob_serious = True
                parts.append(f"a bias of that size lies within the range the bias prior itself calls plausible "
                             f"({assumed_bias_range[0]:.2f} to {assumed_bias_range[1]:.2f})")
    if adjusted is not None:
        p_adj = adjusted.get("prob", {}).get(dt)
        parts.append(f"under the stated bias assumptions the HR is {adjusted['hr']:.2f} "
                     f"(95% CrI {_fmt_ci(adjusted['ci95'])})" +
                     (f", P(HR < {dt:g}) {_p_is(p_adj)}" if p_adj is not None else ""))
        if adjusted["ci95"][1] >= dt:
            rob_serious = True
        if bias_assumptions:
            parts.append("assumed (not estimated): " + " ".join(bias_assumptions).rstrip("."))
    if not parts:
        parts.append("no bias analysis was run")
    domains["risk_of_bias"] = {"concern": "serious" if rob_serious else "not serious",
                               "sentence": "Risk of bias: " + "; ".join(parts) + "."}

    # inconsistency ------------------------------------------------------------------
    words, inc_serious = _spanned(predictive_ci95, thresholds, dt)
    s = f"Inconsistency: the 95% interval for the HR in a new setting is {_fmt_ci(predictive_ci95)}; it{words}"
    domains["inconsistency"] = {"concern": "serious" if inc_serious else "not serious", "sentence": s + "."}

    # imprecision --------------------------------------------------------------------
    words, imp_serious = _spanned(pooled_ci95, thresholds, dt)
    s = (f"Imprecision: the pooled HR as reported (no bias adjustment) is {pooled_hr:.2f} "
         f"(95% CrI {_fmt_ci(pooled_ci95)}); the interval{words}")
    probs = ", ".join(f"P(HR < {t:g}) {_p_is(p)}" for t, p in prob_pooled.items())
    if probs:
        s += f" ({probs})"
    domains["imprecision"] = {"concern": "serious" if imp_serious else "not serious", "sentence": s + "."}

    # indirectness -------------------------------------------------------------------
    notes = list(indirectness or [])
    domains["indirectness"] = {
        "concern": "possible (panel to judge)" if notes else "not serious",
        "sentence": "Indirectness: " + ("; ".join(notes) if notes else "no indirectness was flagged in the evidence table")
        + "."}
    domains["publication_bias"] = {"concern": publication_bias,
                                   "sentence": f"Publication bias: {publication_bias}."}

    # large effect -------------------------------------------------------------------
    large = pooled_hr < 0.5  # GRADE: RR < 0.5 is a large effect (Guyatt et al. 2011, J Clin Epidemiol 64:1311-6)
    if large and observational and confounding_exaggerates_benefit:
        le = (f"the effect is large (HR {pooled_hr:.2f}, below 0.5), but rating up is not appropriate: the plausible "
              "confounding (fitter patients receive the treatment) would increase the apparent effect")
    elif large and observational:
        le = f"the effect is large (HR {pooled_hr:.2f}, below 0.5): the panel may consider rating up"
    else:
        le = f"the effect is not large enough to consider rating up (HR {pooled_hr:.2f}, not below 0.5)"
    domains_le = {"rate_up": False, "sentence": "Large effect: " + le + "."}

    return {"draft": True, "note": DRAFT_NOTE, "start": start, "domains": domains, "large_effect": domains_le,
            "overall": _overall(start, domains, observational)}


def with_domain(draft: dict, name: str, domain: dict) -> dict:
    """The draft with one domain replaced ({"concern", "sentence"}) and the overall
    certainty recomputed (e.g. the publication-bias domain from bayesnet.pubbias)."""
    import copy

    out = copy.deepcopy(draft)
    out["domains"][name] = dict(domain)
    out["overall"] = _overall(out["start"], out["domains"], out["start"] == "low")
    return out


def _overall(start: str, domains: dict, observational: bool) -> dict:
    down = [n for n, d in domains.items() if d["concern"] == "serious"]
    level = max(0, LEVELS.index(start) - len(down))
    reasons = [f"starts at {start} ({'observational' if observational else 'randomised'} evidence)"]
    reasons += [f"rated down one level for {n.replace('_', ' ')}" for n in down]
    if level == 0 and LEVELS.index(start) - len(down) < 0:
        reasons.append("very low is the floor")
    reasons.append("not rated up")
    return {"certainty": LEVELS[level], "reasons": reasons,
            "sentence": f"Suggested certainty (draft, the panel decides): {LEVELS[level]}; " + "; ".join(reasons) + "."}
