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

__all__ = ["LEVELS", "PICO_DOMAINS", "grade_draft", "indirectness_from_table", "parse_indirectness", "with_domain"]

LEVELS = ("very low", "low", "moderate", "high")
DRAFT_NOTE = ("Draft computed by bayesnet from the numbers above. It is a starting point for the panel, "
              "which makes the GRADE judgements and may rate differently.")


def _fmt_ci(ci) -> str:
    return fmt.ci(ci, sep=" to ")


def _p_is(p) -> str:
    """A probability after its label in a sentence: "= 0.87", "> 0.999", "< 0.001"."""
    v = _fmt_p(p)
    return v if v[0] in "<>" else "= " + v


PICO_DOMAINS = ("population", "intervention", "comparator", "outcome")
INDIRECTNESS_COLUMN = "indirectness"
NOT_ASSESSED = "not assessed (panel to judge)"
PANEL = "possible (panel to judge)"
BASIS = ("Basis of this draft: GRADE rates the evidence as reported, so every domain is judged on the analysis as "
         "reported (no bias adjustment){reported}. The bias-adjusted result{adjusted} and the tipping point are the "
         "quantitative basis of the risk-of-bias domain only: judging imprecision or inconsistency on the "
         "bias-widened intervals would count the assumed bias twice.")
BASIS_NO_BIAS = ("Basis of this draft: GRADE rates the evidence as reported, and every domain is judged on the "
                 "analysis as reported{reported}. No bias was assumed (the spec has no [bias] section): the tipping "
                 "point, where one was computed, is the only quantitative input to the risk-of-bias domain.")


def parse_indirectness(value, study: str = "?", source: str = "evidence") -> list[dict]:
    """One cell of the curated ``indirectness`` column: "none" (assessed, no concern) or
    one or more "<domain>: <reason>" separated by ";", with domain one of population,
    intervention, comparator, outcome (the PICO element in which the study differs from
    the question; GRADE guidance 8, Guyatt GH et al. 2011 J Clin Epidemiol 64:1303-10).
    Returns [{"domain", "reason"}] ([] for "none"); a blank cell is "not assessed" and
    returns None. Anything else raises EvidenceError naming the source, study and column."""
    from .errors import EvidenceError
    from .evidence.table import is_blank

    if is_blank(value):
        return None
    text = str(value).strip()
    if text.lower() == "none":
        return []
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        dom, sep, reason = part.partition(":")
        dom = dom.strip().lower()
        if not sep or dom not in PICO_DOMAINS or not reason.strip():
            raise EvidenceError([f"{source}: study {study}, column '{INDIRECTNESS_COLUMN}': {part!r} is not "
                            f"'<domain>: <reason>' with domain one of {', '.join(PICO_DOMAINS)}; write e.g. "
                            f"\"population: metastases not restricted to the liver\" (several separated by ';'), "
                            f"or \"none\" when the study matches the question"])
        out.append({"domain": dom, "reason": reason.strip()})
    return out


def indirectness_from_table(table, source: str = "evidence", labels: dict | None = None) -> dict | None:
    """The curated indirectness of the analysed studies from the evidence table's
    ``indirectness`` column (`parse_indirectness` per row), or None when the table has no
    such column (the domain then reads "not assessed: the panel judges"; it is never
    guessed from other columns or from words in notes). Returns {"k", "concerns": [{"study",
    "label", "domain", "reason"}], "assessed": [study ids], "not_assessed": [study ids]}."""
    if table is None or INDIRECTNESS_COLUMN not in getattr(table, "columns", ()):
        return None
    labels = dict(labels or {})
    if "label" in table.columns:
        for sid, lab in zip(table["study"].astype(str), table["label"]):
            if isinstance(lab, str) and lab.strip():
                labels.setdefault(sid, lab.strip())
    # one entry per study (arm-level tables have a row per arm): the union of its rows' concerns
    cells: dict[str, list] = {}
    for sid, cell in zip(table["study"].astype(str), table[INDIRECTNESS_COLUMN]):
        cells.setdefault(sid, []).append(parse_indirectness(cell, sid, source))
    out = {"k": len(cells), "concerns": [], "assessed": [], "not_assessed": []}
    for sid, parsed in cells.items():
        if all(items is None for items in parsed):
            out["not_assessed"].append(sid)
            continue
        out["assessed"].append(sid)
        seen = []
        for it in (x for items in parsed if items for x in items):
            if it not in seen:
                seen.append(it)
        out["concerns"] += [{"study": sid, "label": labels.get(sid, sid), **it} for it in seen]
    return out


def _indirectness_domain(ind) -> dict:
    """{"concern", "sentence"} of the indirectness domain from `indirectness_from_table`'s
    dict (or a list of "<domain>: <reason>" strings a caller states; or None)."""
    if ind is None:
        return {"concern": NOT_ASSESSED,
                "sentence": "Indirectness: not assessed: the panel judges (the evidence has no curated "
                            "'indirectness' column saying in which PICO element each study differs from the question)."}
    if isinstance(ind, (list, tuple)):
        items = []
        for x in ind:
            if isinstance(x, dict):
                items.append(x)
            else:
                dom, sep, reason = str(x).partition(":")
                items.append({"domain": dom.strip().lower(), "reason": reason.strip()} if sep and
                             dom.strip().lower() in PICO_DOMAINS else {"domain": "unspecified", "reason": str(x)})
        ind = {"k": None, "concerns": items, "assessed": [], "not_assessed": []}
    concerns, missing = ind["concerns"], ind["not_assessed"]
    parts = []
    if concerns and ind.get("k") is None:  # concerns a caller states, not per study
        parts.append("concerns stated: " + "; ".join(
            (f"{c['domain']}: " if c["domain"] != "unspecified" else "") + c["reason"] for c in concerns))
    elif concerns:
        by_study: dict[str, list[str]] = {}
        for c in concerns:
            by_study.setdefault(c.get("label") or c.get("study") or "", []).append(f"{c['domain']}: {c['reason']}")
        n = len(by_study)
        of = f" of {ind['k']}"
        parts.append(f"{n}{of} stud{'y differs' if n == 1 else 'ies differ'} from the question ("
                     + "; ".join(f"{lab} - {', '.join(v)}" for lab, v in by_study.items()) + ")")
    if missing:
        parts.append(f"not assessed for {len(missing)} stud{'y' if len(missing) == 1 else 'ies'} "
                     f"({', '.join(missing)}): the panel judges")
    if concerns:
        return {"concern": PANEL,
                "sentence": "Indirectness: " + "; ".join(parts) + "; whether this is serious enough to rate down "
                            "is the panel's judgement (possible, not counted in the draft's rating)."}
    if missing:
        return {"concern": NOT_ASSESSED, "sentence": "Indirectness: " + "; ".join(parts) + "."}
    return {"concern": "not serious",
            "sentence": f"Indirectness: the curated indirectness column records no difference from the question "
                        f"(population, intervention, comparator, outcome) for any of the {ind.get('k') or ''} "
                        f"studies".replace("  ", " ") + ": not serious."}


def grade_draft(*, pooled_hr: float, pooled_ci95, predictive_ci95, thresholds, prob_pooled: dict,
                tipping_point: list[dict] | None = None, adjusted: dict | None = None,
                bias_assumptions: list[str] | None = None, indirectness=None,
                publication_bias: str = "not assessed", observational: bool = True,
                confounding_exaggerates_benefit: bool = True, decision_threshold: float = 1.0,
                plausible_bias_ratio: float = 0.8, assumed_bias_range: tuple[float, float] | None = None,
                k: int | None = None) -> dict:
    """Per-domain sentences and an overall suggested certainty (a DRAFT), on ONE basis.

    GRADE rates the evidence as reported: inconsistency, imprecision and large effect are
    judged on the analysis as reported (pooled_hr, pooled_ci95, predictive_ci95,
    prob_pooled: the fit without ``[bias]``); the bias-adjusted result (`adjusted`) and the
    tipping point are the quantitative basis of the risk-of-bias domain only (judging
    imprecision on the bias-widened interval would count the assumed bias twice). The
    basis is stated once, in "basis".

    thresholds: the panel's HR thresholds; an interval that spans any of them is a serious
    concern (imprecision: the pooled 95% CrI; inconsistency: the 95% predictive interval;
    GRADE guidance 34, Zeng L et al. 2021, partially contextualised approach), and the
    sentence says which threshold it spans, so the bracketed rating always follows from
    its sentence. k: the number of studies (with one, inconsistency is "not assessable
    (one study)": the predictive interval would be the tau prior's). tipping_point: rows
    of ``bias.tipping_points``; adjusted: {"hr", "ci95", "prob": {t: P}} or None;
    indirectness: `indirectness_from_table`'s dict (None: "not assessed: the panel
    judges"; never "not serious" by default); plausible_bias_ratio: a tipping ratio at or
    above it (a bias of at most that size overturns P(HR < decision_threshold)) is a
    serious risk-of-bias concern; assumed_bias_range: the 95% prior range of the common
    bias ratio (``[bias] common``): a tipping ratio inside it is a serious concern too.

    Returns {"draft": True, "note", "basis", "start", "domains": {name: {"concern",
    "sentence"}}, "large_effect": {...}, "overall": {"certainty", "reasons", "sentence"}}."""
    start = "low" if observational else "high"
    domains = {}
    dt = float(decision_threshold)
    ths = sorted({float(t) for t in thresholds}, reverse=True)

    # risk of bias: the bias-adjusted result and the tipping point ------------------
    rob_reasons, parts = [], []
    tp = [r for r in (tipping_point or []) if abs(r["threshold"] - dt) < 1e-12]
    if tp:
        r = tp[0]
        if r["ratio"] is None:
            if r.get("prob_without_bias", 1.0) < r["probability"]:
                # no bias is needed to overturn it: that is imprecision (judged there), not risk of bias
                parts.append(f"tipping point not applicable: even without any shared bias P(HR < {dt:g}) is below "
                             f"{100 * r['probability']:g}% (an imprecision question, judged under imprecision)")
            else:
                parts.append(r.get("reason") or "no tipping point was found in the range searched")
        else:
            parts.append(f"a shared bias making the studies' HRs {r['ratio']:.2f} times the true HR (with the "
                         f"study-specific biases as assumed) would bring P(HR < {dt:g}) down to "
                         f"{100 * r['probability']:g}%")
            if r["ratio"] >= plausible_bias_ratio:
                rob_reasons.append(f"a bias of that size (ratio {plausible_bias_ratio:g} or closer to 1) is plausible "
                                   "for confounding by indication and immortal-time bias")
            elif assumed_bias_range is not None and r["ratio"] >= assumed_bias_range[0]:
                rob_reasons.append(f"a bias of that size lies within the range the bias prior itself calls plausible "
                                   f"({assumed_bias_range[0]:.2f} to {assumed_bias_range[1]:.2f})")
    if adjusted is not None:
        p_adj = adjusted.get("prob", {}).get(dt)
        parts.append(f"under the stated bias assumptions the HR is {adjusted['hr']:.2f} "
                     f"(95% CrI {_fmt_ci(adjusted['ci95'])})" +
                     (f", P(HR < {dt:g}) {_p_is(p_adj)}" if p_adj is not None else ""))
        if adjusted["ci95"][1] >= dt:
            rob_reasons.append(f"under the stated bias the 95% CrI reaches {dt:g}")
        if bias_assumptions:
            parts.append("those bias assumptions (stated once, with the headline) are priors, not estimated from "
                         "the data")
    if parts and not rob_reasons and adjusted is None and tp and tp[0]["ratio"] is None:
        domains["risk_of_bias"] = {"concern": "not assessed (panel to judge)",
                                   "sentence": "Risk of bias: " + "; ".join(parts) + "; no bias analysis was run "
                                               "(no [bias] section): the panel judges."}
    elif not parts:
        domains["risk_of_bias"] = {"concern": "not assessed (panel to judge)",
                                   "sentence": "Risk of bias: no bias analysis was run (no [bias] section and no "
                                               "tipping point): the panel judges."}
    else:
        verdict = ("serious, because " + " and ".join(rob_reasons) if rob_reasons else
                   "not serious by these numbers: the bias that would overturn the conclusion lies outside what the "
                   "analysis calls plausible")
        domains["risk_of_bias"] = {"concern": "serious" if rob_reasons else "not serious",
                                   "sentence": "Risk of bias: " + "; ".join(parts) + "; " + verdict + "."}

    # inconsistency: the predictive interval as reported ----------------------------
    if k is not None and k < 2:
        domains["inconsistency"] = {
            "concern": "not assessable (one study)",
            "sentence": "Inconsistency: not assessable (one study): with a single study the interval for a new "
                        "setting comes from the heterogeneity prior, not from the data."}
    else:
        crossed = [t for t in ths if predictive_ci95[0] < t < predictive_ci95[1]]
        s = (f"Inconsistency: the 95% interval for the HR in a new setting, as reported, is "
             f"{_fmt_ci(predictive_ci95)}; ")
        s += (f"it spans the threshold(s) {_list(crossed)}, so a new setting may fall on either side: serious"
              if crossed else
              "it lies on one side of every threshold, so the settings agree on the conclusion: not serious")
        domains["inconsistency"] = {"concern": "serious" if crossed else "not serious", "sentence": s + "."}

    # imprecision: the pooled CrI as reported ---------------------------------------
    crossed = [t for t in ths if pooled_ci95[0] < t < pooled_ci95[1]]
    s = (f"Imprecision: the pooled HR as reported (no bias adjustment) is {pooled_hr:.2f} "
         f"(95% CrI {_fmt_ci(pooled_ci95)})")
    probs = ", ".join(f"P(HR < {t:g}) {_p_is(p)}" for t, p in prob_pooled.items())
    if probs:
        s += f" ({probs})"
    s += (f"; the interval spans the threshold(s) {_list(crossed)}, so the data cannot tell on which side of "
          f"{_list(crossed)} the effect lies: serious" if crossed else
          "; the interval lies on one side of every threshold: not serious")
    domains["imprecision"] = {"concern": "serious" if crossed else "not serious", "sentence": s + "."}

    # indirectness: the curated column only ----------------------------------------
    domains["indirectness"] = _indirectness_domain(indirectness)
    domains["publication_bias"] = {"concern": publication_bias,
                                   "sentence": f"Publication bias: {publication_bias}."}

    # large effect: the as-reported estimate the headline names ----------------------
    what = f"the pooled HR as reported (no bias adjustment), {pooled_hr:.2f}"
    if adjusted is not None:
        what += f" (under the stated bias {adjusted['hr']:.2f})"
    large = pooled_hr < 0.5  # GRADE: RR < 0.5 is a large effect (Guyatt et al. 2011, J Clin Epidemiol 64:1311-6)
    if large and observational and confounding_exaggerates_benefit:
        le = (f"{what} is below 0.5, a large effect, but rating up is not appropriate: the plausible "
              "confounding (fitter patients receive the treatment) would increase the apparent effect")
    elif large and observational:
        le = f"{what} is below 0.5, a large effect: the panel may consider rating up"
    else:
        le = f"{what} is not below 0.5: not large enough to consider rating up"
    domains_le = {"rate_up": False, "sentence": "Large effect: " + le + "."}

    if adjusted is not None:
        basis = BASIS.format(reported=f": pooled HR {pooled_hr:.2f} (95% CrI {_fmt_ci(pooled_ci95)})",
                             adjusted=f" (HR {adjusted['hr']:.2f}, 95% CrI {_fmt_ci(adjusted['ci95'])})")
    else:  # no [bias]: nothing was adjusted, the tipping point alone informs risk of bias
        basis = BASIS_NO_BIAS.format(reported=f": pooled HR {pooled_hr:.2f} (95% CrI {_fmt_ci(pooled_ci95)})")
    return {"draft": True, "note": DRAFT_NOTE, "basis": basis, "start": start, "domains": domains,
            "large_effect": domains_le, "overall": _overall(start, domains, observational)}


def _list(ts) -> str:
    return ", ".join(f"{t:g}" for t in ts)


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
    open_ = [n for n, d in domains.items() if d["concern"] not in ("serious", "not serious")]
    level = max(0, LEVELS.index(start) - len(down))
    reasons = [f"starts at {start} ({'observational' if observational else 'randomised'} evidence)"]
    reasons += [f"rated down one level for {n.replace('_', ' ')}" for n in down]
    if level == 0 and LEVELS.index(start) - len(down) < 0:
        reasons.append("very low is the floor")
    if open_:
        reasons.append(", ".join(f"{n.replace('_', ' ')} ({domains[n]['concern']})" for n in open_)
                       + ": not counted, the panel judges")
    reasons.append("not rated up")
    return {"certainty": LEVELS[level], "reasons": reasons,
            "sentence": f"Suggested certainty (draft, the panel decides): {LEVELS[level]}; " + "; ".join(reasons) + "."}
