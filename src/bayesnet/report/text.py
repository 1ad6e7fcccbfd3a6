"""Writing the report's text: `content` turns the report dict into content blocks
(`bayesnet.report.blocks`) in reading order; `methods_paragraph` and `grade_statements`
write the Methods section and the GRADE-ready statements. Every number is formatted by
`bayesnet.format` from the report dict; the text is plain (escaped by the renderers)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from .. import format as fmt
from .. import vocabulary as words
from ..evidence.derivations import is_derived
from .blocks import Block, Bullets, Figure, Heading, Notes, Paragraph, Table

__all__ = ["content", "methods_paragraph", "grade_statements", "selection_statements"]

def _ok_rows(rows):
    return [r for r in rows if r.get("status", "ok") == "ok" and r.get("hr_median") is not None]


def grade_statements(rep: dict) -> list[str]:
    """GRADE-ready statements computed from the numbers (Schuenemann et al., GRADE
    handbook): imprecision, inconsistency, robustness across the prior community and
    across the overlap selection rules."""
    out = []
    ths = [t for side, t, _ in map(fmt.parse_prob_key, rep["prob"]["pooled"]) if side == "lt"]
    clinical = max([t for t in ths if t < 1.0], default=None)
    # one basis with the GRADE draft: imprecision and inconsistency on the analysis as reported
    base = rep.get("unadjusted") or rep
    as_rep = " as reported" if rep.get("unadjusted") else ""
    lo, hi = base["pooled"]["hr"]["ci95"]
    plo, phi = base["predictive"]["hr"]["ci95"]
    # imprecision
    for t in sorted(set(ths), reverse=True):
        crosses = lo < t < hi
        out.append(f"Imprecision (threshold HR {t:g}): the 95% credible interval of the pooled HR{as_rep} "
                   f"({fmt.ci([lo, hi])}) {'crosses' if crosses else 'does not cross'} {t:g}.")
    # inconsistency (with one study the predictive interval is the heterogeneity prior's)
    where = ("lies entirely below 1" if phi < 1 else "lies entirely above 1" if plo > 1 else "crosses 1")
    s = f"Inconsistency: the 95% predictive interval for a new setting{as_rep} ({fmt.ci([plo, phi])}) {where}"
    if clinical is not None:
        rel = ("lies entirely below" if phi < clinical else "lies entirely above" if plo > clinical else "crosses")
        s += f" and {rel} the clinical threshold {clinical:g}"
    if rep.get("k", 2) < 2:
        s = "Inconsistency: not assessable (one study): the predictive interval comes from the heterogeneity prior"
    out.append(s + ".")
    if base.get("tau"):
        out.append(f"Between-study heterogeneity{as_rep}: tau = {fmt.num(base['tau']['median'])} on the log-HR scale "
                   f"({fmt.cri_label(rep.get('ci_prob', 0.95))}{fmt.ci(base['tau']['ci95'])}).")
    under = " (under the stated bias assumptions, as the headline)" if rep.get("unadjusted") else ""
    sens = rep.get("sensitivity")
    if sens and clinical is not None:
        key = fmt.prob_key(clinical)
        vals = [r[key] for r in _ok_rows(sens["sweep"]) if r.get(key) is not None]
        if vals:
            mn, mx = min(vals), max(vals)
            robust = mn >= 0.95
            out.append(f"Robustness to the prior{under}: across {len(vals)} prior settings, including the sceptical and "
                       f"enthusiastic priors of the community, P(HR < {clinical:g}) ranges from {fmt.p(mn)} to {fmt.p(mx)}; "
                       f"the benefit {'holds (>= 0.95) under every prior' if robust else 'does not hold under every prior'}.")
        k1 = fmt.prob_key(1.0) if 1.0 in ths else None
        if k1:
            v1 = [r[k1] for r in _ok_rows(sens["sweep"]) if r.get(k1) is not None]
            if v1:
                out.append(f"Across the same settings P(HR < 1) ranges from {fmt.p(min(v1))} to {fmt.p(max(v1))}.")
    if sens and sens.get("overlap"):
        out += selection_statements(rep, _ok_rows(sens["overlap"]))
    return out


def _under(rep: dict) -> str:
    return " (under the stated bias assumptions, as the headline)" if rep.get("unadjusted") else ""


def selection_statements(rep: dict, rows: list[dict]) -> list[str]:
    """Does a conclusion depend on which overlapping rows are kept? The two conclusions
    checked are 'P(HR < 1) > 0.95' and 'the 95% predictive interval excludes 1'."""
    if not rows:
        return []
    k1 = fmt.prob_key(1.0)
    base_p = rep["prob"]["pooled"].get(k1)
    plo, phi = rep["predictive"]["hr"]["ci95"]
    out = []
    names = ", ".join(str(r["analysis"]) for r in rows)
    if base_p is not None and all(r.get(k1) is not None for r in rows):
        base = base_p > 0.95
        flips = [str(r["analysis"]) for r in rows if (r[k1] > 0.95) != base]
        verdict = ("holds" if base else "does not hold") + " in the primary analysis"
        if flips:
            out.append(f"Dependence on the selection{_under(rep)}: P(HR < 1) > 0.95 {verdict} but not under "
                       f"{', '.join(flips)}; this conclusion depends on which overlapping studies are kept.")
        else:
            out.append(f"Dependence on the selection{_under(rep)}: P(HR < 1) > 0.95 {verdict} and under every alternative "
                       f"selection ({names}).")
    base_ex = phi < 1 or plo > 1
    flips = [str(r["analysis"]) for r in rows if ((r["pred_hr_high"] < 1 or r["pred_hr_low"] > 1) != base_ex)]
    what = "excludes 1" if base_ex else "includes 1"
    if flips:
        out.append(f"The 95% predictive interval{_under(rep)} {what} in the primary analysis but not under {', '.join(flips)}: "
                   f"the inconsistency judgement depends on the selection.")
    else:
        out.append(f"The 95% predictive interval{_under(rep)} {what} in the primary analysis and under every "
                   f"alternative selection.")
    return out


# ----------------------------------------------------------------------------- content

DAGGER = "\u2020"
FLAG_INLINE_MAX = 40
# how every section names the bias priors of the headline (listed once, under Summary of findings)
BIAS_ASSUMPTIONS = "bias assumptions"
APPENDIX_EXCLUDED = "Appendix: rows excluded by the selection"


def _display(s: dict) -> str:
    lab = str(s.get("label") or "").strip()
    return lab if lab else str(s["study"])


def _reference_phrase(rep: dict) -> str:
    ref = rep.get("reference") or {}
    if not ref:
        return ""
    return " at the reference levels (" + ", ".join(str(v) for v in ref.values()) + ")"


def _reported_hr_ci(r: dict, prefix: str = "") -> str:
    """A study's HR (95% CI) from summary.json's `studies` row ("hr", "hr_low", "hr_high",
    or with `prefix` "bias_adjusted_" the estimate after the assumed study bias), with
    enough decimals that a small reported HR keeps its digits (`format.ratio_digits`)."""
    v = [r.get(prefix + "hr"), r.get(prefix + "hr_low"), r.get(prefix + "hr_high")]
    d = fmt.ratio_digits(v)
    return f"{fmt.hr(v[0], d)} ({fmt.ci(v[1:], d)})"


def _status_cell(r: dict) -> str:
    st = r.get("status", "ok")
    return "" if st == "ok" else f"not estimable: {r.get('reason', st)}"


def content(rep: dict, figures: dict[str, Path]) -> list[Block]:
    """The report as content blocks (Heading, Paragraph, Bullets, Notes, Table, Figure)
    in the order a panel reads it: the question; the summary of findings (the headline
    with its assumptions); could bias explain it, and the absolute effects; the evidence
    (studies, design strata, forest plot, posterior); then the details (sensitivity,
    publication bias, GRADE, frequentist comparator, methods); the rows the selection
    excluded in an appendix. Text is plain (escaped by the renderer)."""
    b: list[Block] = []
    notes = rep.get("figure_notes") or {}
    b.append(Heading(1, rep["title"]))
    status = "" if rep["status"] == "ok" else " RESULTS FAILED MCMC DIAGNOSTICS: do not use them as a clean result."
    b.append(Paragraph(f"Analysis '{rep['spec_name']}', engine: {rep['engine']}, {rep['k']} studies.{status}"))
    if rep.get("warnings"):  # summary-level warnings (few studies, no finite tau, spec/data mismatches)
        b.append(Bullets([f"Read with care: {w}" for w in rep["warnings"]]))
    b += question_blocks(rep)
    b.append(Heading(2, "2. Summary of findings"))
    b += summary_of_findings(rep)
    if "grade_draft" in rep:
        from .observational import absolute_blocks, bias_blocks

        b += bias_blocks(rep)
        b += absolute_blocks(rep, rep.get("treatment") or "the treatment")
    b += evidence_blocks(rep, notes)
    b += sensitivity_blocks(rep, notes)
    from .observational import grade_draft_blocks, publication_bias_blocks

    b += publication_bias_blocks(rep)
    from .multiverse import multiverse_blocks

    b += multiverse_blocks(rep)  # "Every reasonable analysis", when the spec names a multiverse grid
    b.append(Heading(2, "10. GRADE-ready statements"))
    b.append(Bullets(grade_statements(rep)))
    b += grade_draft_blocks(rep)
    b += frequentist_blocks(rep)
    b.append(Heading(2, "12. Methods"))
    b.append(Paragraph(methods_paragraph(rep)))
    b += diagnostics_blocks(rep)
    b = _number_sections(b)
    b += appendix_blocks(rep)
    pv = rep["provenance"]
    seed = pv.get("seed") if pv.get("seed") is not None else "not used (exact computation)"
    b.append(Paragraph(f"Provenance: data sha256 {(pv.get('data_sha256') or '')[:16]}..., seed {seed}, "
                       f"bayesnet {pv['versions'].get('bayesnet')}, created {pv.get('created')}. "
                       f"Every number above comes from summary.json."))
    return b


def question_blocks(rep: dict) -> list[Block]:
    """Section 1: the question and, in one sentence, the evidence that answers it."""
    b: list[Block] = [Heading(2, "1. The question")]
    if rep["question"]:
        b.append(Paragraph(rep["question"]))
    n_ex = len(rep["evidence"]["excluded"])
    b.append(Paragraph(f"{rep['k']} study estimates from {rep['evidence']['source']}"
                       + (f" ({n_ex} further rows excluded by the selection: see the appendix)" if n_ex else "")
                       + f". Hazard ratios (HR) below 1 favour {rep.get('treatment') or 'the treatment'}."))
    return b


def summary_of_findings(rep: dict) -> list[Block]:
    """The blocks of the section "Summary of findings". The GRADE Summary-of-Findings
    table goes FIRST here, before the headline: its blocks are inserted at the top of
    this list. Until then the section holds the headline with its assumptions
    (`headline_blocks`)."""
    from .sof import sof_blocks

    sof = [bl for bl in sof_blocks(rep) if not isinstance(bl, Heading)]  # under this section's own heading
    return sof + headline_blocks(rep)


def headline_blocks(rep: dict) -> list[Block]:
    """The headline: the pooled and predictive HR in words, the bias assumptions they rest
    on (stated here once; every other section refers to them), the table of pooled and
    predictive HRs with the probabilities of benefit and harm, and the heterogeneity."""
    from .observational import headline_rows_unadjusted

    b: list[Block] = []
    p, pr = rep["pooled"]["hr"], rep["predictive"]["hr"]
    where = _reference_phrase(rep)
    b.append(Paragraph(f"Pooled HR{where} {fmt.hr(p['median'])} (95% credible interval {fmt.ci(p['ci95'])}). In a new study or "
                       f"setting{where} the HR is expected between {fmt.hr(pr['ci95'][0])} and {fmt.hr(pr['ci95'][1])} "
                       f"(95% predictive interval)."))
    if rep.get("unadjusted"):
        pu = rep["unadjusted"]["pooled"]["hr"]
        b.append(Paragraph(f"These are the results under the following {BIAS_ASSUMPTIONS}, which are priors stated by the "
                           f"analyst, not estimated from the data (the data cannot check them):"))
        b.append(Bullets(rep.get("bias_assumptions") or ["(none stated)"]))
        b.append(Paragraph(f"Taking the studies' hazard ratios at face value, the pooled HR is {fmt.hr(pu['median'])} "
                           f"({fmt.ci(pu['ci95'])}); both are shown below."
                           + (f" (Arm-level model, {rep['arm_model']['unadjusted_note']}.)"
                              if (rep.get("arm_model") or {}).get("unadjusted_note") else "")))
    keys = list(rep["prob"]["pooled"])
    hrows = [["pooled HR" + where, fmt.hr(p["median"]), fmt.ci(p["ci95"]), fmt.ci(p["hpd95"])] +
             [fmt.p(rep["prob"]["pooled"][k]) for k in keys],
             ["new study (predictive)" + where, fmt.hr(pr["median"]), fmt.ci(pr["ci95"]), fmt.ci(pr["hpd95"])] +
             [fmt.p(rep["prob"]["predictive"][k]) for k in keys]]
    unadj = headline_rows_unadjusted(rep, keys, where)
    if unadj:
        hrows = [[r[0] + ", bias-adjusted"] + r[1:] for r in hrows] + unadj
    hdr_i = ["estimate", "HR (median)", "95% CrI (equal-tailed)", "95% HPD"]
    if not rep.get("show_hpd"):  # one interval kind in the headline; the HPD on request ([report] show_hpd)
        hrows, hdr_i = [r[:3] + r[4:] for r in hrows], hdr_i[:3]
    b.append(Table(hdr_i + [fmt.prob_label(k) for k in keys], hrows,
                   "Pooled and predictive HR with the probabilities of benefit and harm" +
                   (f"; bias-adjusted (under the {BIAS_ASSUMPTIONS} above) and as reported, side by side" if unadj else "")))
    from .scenarios import scenario_blocks

    b += scenario_blocks(rep)  # the headline under the shipped bias scenarios ([report] scenarios)
    if rep.get("tau"):
        i2 = rep.get("i2")
        tau = fmt.hr_ci(rep["tau"]["median"], rep["tau"]["ci95"], fmt.cri_label(rep.get("ci_prob", 0.95)))
        un = (rep.get("unadjusted") or {}).get("tau")
        basis = (f" under the stated {BIAS_ASSUMPTIONS}" if un else "")
        b.append(Paragraph(f"Heterogeneity between studies{basis}: tau {tau} on the log-HR scale" +
                           (f"; share of variance due to heterogeneity (I2-like) {100 * i2['median']:.0f}%" if i2 else "") +
                           (f"; as reported (no bias adjustment): tau "
                            f"{fmt.hr_ci(un['median'], un['ci95'], fmt.cri_label(rep.get('ci_prob', 0.95)))}." if un
                            else ".")))
    return b


def evidence_blocks(rep: dict, notes: dict) -> list[Block]:
    """The evidence: the studies analysed (how each effect was derived), the design
    strata, the forest plot and the posterior of the pooled HR."""
    b: list[Block] = [Heading(2, "4. The studies analysed")]
    b.append(Paragraph("How each effect was derived is shown per study; crude derivations (from p-values, survival "
                       "proportions or medians) are less reliable."))
    studies = rep["evidence"]["studies"]
    # the spec's group columns and overlap_group, as build_report chose them
    hdr = [c for c in (studies[0] if studies else ()) if c not in ("study", "label", "derivation", "warnings")]
    st_by = {s["study"]: s for s in rep["studies"]}
    with_adj = any(r.get("bias_adjusted_hr") is not None for r in rep["studies"])
    rows, flag_notes, any_derived = [], [], False
    for s in studies:
        r = st_by.get(s["study"], {})
        derived = is_derived(s.get("derivation", ""))
        any_derived |= derived
        flags = str(s.get("warnings", "") or "")
        if len(flags) > FLAG_INLINE_MAX:
            flag_notes.append(flags)
            flags = f"see note [{len(flag_notes)}]"
        adj = ([("none" if r.get("bias_adjusted_hr") is None else _reported_hr_ci(r, "bias_adjusted_"))]
               if with_adj else [])
        rows.append([_display(s)] + [words.value(s.get(c, "")) for c in hdr] +
                    [("none (a single-arm case series)" if r and r.get("se") is None else
                      _reported_hr_ci(r) + (DAGGER if derived else ""))] + adj +
                    [words.derivation(s.get("derivation", "")), flags])
    b.append(Table(["study"] + [words.column_name(c) for c in hdr] + ["reported HR (95% CI)"] +
                   (["HR after the assumed study-specific bias (95% CI)"] if with_adj else []) +
                   [words.column_name("derivation"), words.column_name("warnings")], rows,
                   "The studies analysed: each HR as the study reported it (after the conversion named in the "
                   "derivation column)" + ("; beside it, the same study after the study-specific bias the analysis "
                                           "assumes ([bias.by]; the shared bias acts on the pooled result)"
                                           if with_adj else "")))
    foot = []
    if any_derived:
        foot.append(f"{DAGGER} Interval constructed by bayesnet from the reported statistics (p-value, p bound, "
                    f"survival proportions, medians or log-rank statistics; see the derivation column), not reported "
                    f"by the study.")
    foot += [f"[{i}] {txt}" for i, txt in enumerate(flag_notes, 1)]
    if foot:
        b.append(Notes(foot))
    keys = list(rep["prob"]["pooled"])
    b.append(Heading(2, "5. By study design"))
    strata, note = rep["strata"], "from the analysis model"
    if not strata and rep.get("design_strata"):
        strata, note = rep["design_strata"]["strata"], rep["design_strata"]["model"] + " (auxiliary model)"
    if strata:
        for cov, levels in strata.items():
            rows = []
            for lev, v in levels.items():
                rows.append([words.value(lev) + (" (reference)" if v["reference"] else ""), str(v["n_studies"]),
                             fmt.hr(v["hr"]["median"]),
                             fmt.ci(v["hr"]["ci95"]), fmt.ci(v["predictive"]["hr"]["ci95"])] + [fmt.p(v["prob"][k]) for k in keys])
            b.append(Table([words.column_name(cov), "studies", "HR", "95% CrI", "95% predictive"] +
                           [fmt.prob_label(k) for k in keys], rows, f"Mean HR by {words.column_name(cov)}, {note}"))
        b.append(Paragraph("Differences between design strata show how much of the apparent benefit could come from the kind "
                           f"of study rather than from {rep.get('treatment') or 'the treatment'}; with few studies per "
                           "stratum they are uncertain."))
    else:
        b.append(Paragraph("No design column with two or more levels among the analysed studies."))
    b.append(Heading(2, "6. Forest plot"))
    if rep.get("arm_model"):  # arm rows: what each arm reported, before any model
        b.append(Figure("arm_forest", "Survival at the reported time in each arm as the study reported it (point and "
                                      "95% CI from the delta method on ln(-ln S)): comparative studies, then case "
                                      "series; treated arms filled, comparator arms open."))
    b.append(Figure("forest", "Reported (grey squares: each HR as the study reported it; " + DAGGER + " = interval "
                               "derived, not reported) and shrunken (blue circles" +
                    ("; under the assumed bias" if rep.get("unadjusted") else "") +
                    ") estimates with their HR (95% CI) in the right-hand column; pooled HR "
                               "(diamond) and 95% predictive interval (orange bar); threshold lines labelled. Log "
                               "scale; intervals running past the axis end in an arrow." +
                    (" " + notes["forest"] if notes.get("forest") else "")))
    b.append(Heading(2, "7. Posterior of the pooled HR"))
    b.append(Figure("density", "Posterior density with the benefit region(s) and the harm region shaded; "
                                "probabilities on the plot."))
    return b


def sensitivity_blocks(rep: dict, notes: dict) -> list[Block]:
    """Sensitivity: the prior sweep, leave-one-out and the overlap selections."""
    b: list[Block] = [Heading(2, "8. Sensitivity: priors, influential studies and the selection")]
    sens = rep.get("sensitivity")
    if not sens:
        b.append(Paragraph("Sensitivity analyses were not run."))
        return b
    studies = rep["evidence"]["studies"]
    bc = sens["benefit_column"]
    _, t_bc, _ = fmt.parse_prob_key(bc)
    bc_pred = fmt.prob_key(t_bc, predictive=True)

    def nums(r, pred_p=True):
        if r.get("status", "ok") != "ok" or r.get("hr_median") is None:
            return ["n/a"] * (5 if pred_p else 4)
        out = [fmt.hr(r["hr_median"]), fmt.ci([r["hr_low"], r["hr_high"]]), fmt.ci([r["pred_hr_low"], r["pred_hr_high"]]),
               fmt.p(r[bc])]
        return out + ([fmt.p(r[bc_pred])] if pred_p else [])

    rows = [[r["tau_prior"], r["mu_prior"]] + nums(r) + [_status_cell(r)] for r in sens["sweep"]]
    b.append(Table(["tau prior", "mu prior", "HR", "95% CrI", "95% predictive", fmt.prob_label(bc),
                    fmt.prob_label(bc_pred), "status"], rows, "Prior sensitivity"))
    b.append(Figure("sweep", "Pooled HR and P(benefit) across prior settings."))
    names = {s["study"]: _display(s) for s in studies}
    rows = [[words.left_out(r["omitted"], r["kind"], names), str(r["k"])] + nums(r) +
            ["most influential" if r.get("flag") else "", _status_cell(r)]
            for r in sens["influence"]]
    b.append(Table(["analysis", "k", "HR", "95% CrI", "95% predictive", fmt.prob_label(bc),
                    fmt.prob_label(bc_pred), "note", "status"], rows,
                   "Leave one study, or one kind of study, out"))
    if sens.get("influence_note"):
        b.append(Paragraph(sens["influence_note"]))
    b.append(Figure("influence", "Influence of single studies and of kinds of study." +
                    (" " + notes["influence"] if notes.get("influence") else "")))
    ov = sens.get("overlap") or []
    if ov:
        rows = [[str(r["analysis"]), str(r.get("k", "")), *nums(r), _status_cell(r)] for r in ov]
        b.append(Table(["selection", "k", "HR", "95% CrI", "95% predictive", fmt.prob_label(bc),
                        fmt.prob_label(bc_pred), "status"], rows,
                       "Overlapping populations: the analysis under each alternative selection rule and one registry "
                       "family at a time"))
    else:
        b.append(Paragraph("Overlap sensitivity: the selection has no overlap rule, so there is no alternative selection "
                           "to compare."))
    return b


def frequentist_blocks(rep: dict) -> list[Block]:
    """The frequentist comparator (REML and DL with Knapp-Hartung and t prediction
    intervals) beside the Bayesian pooled HR."""
    b: list[Block] = [Heading(2, "11. Frequentist comparator")]
    f = rep.get("frequentist") or {}
    if not f:
        b.append(Paragraph("Not computed for this analysis."))
        return b
    p, where = rep["pooled"]["hr"], _reference_phrase(rep)
    rows = []
    for m in ("REML", "DL"):
        if m in f:
            x = f[m]
            pi_key = _t_pi_key(x)
            rows.append([m, fmt.hr(x.get("hr")), fmt.ci(x.get("hr_ci", [None, None])),
                         fmt.ci(x.get("hr_ci_kh", [None, None])),
                         fmt.ci(x[pi_key]) if pi_key else "n/a (needs k >= 3)",
                         f"{x['tau2']:.3f}", f"{x['I2']:.0f}%"])
    b.append(Table(["method", "HR", "95% CI (Wald)", "95% CI (Knapp-Hartung, untruncated)",
                    "95% prediction interval (t, k-2 df)", "tau2", "I2"], rows,
                   "Random-effects meta-analysis as in Cochrane reviews"))
    b.append(Paragraph("The prediction interval uses the t distribution with k-2 degrees of freedom (Cochrane Handbook "
                       "10.10.4.3; Higgins, Thompson & Spiegelhalter 2009). The Knapp-Hartung interval is the untruncated "
                       "version (its variance factor may be below 1)."))
    if "REML" in f and rep.get("unadjusted"):
        pu = rep["unadjusted"]["pooled"]["hr"]
        b.append(Paragraph(f"Bayesian pooled HR{where} as reported {fmt.hr(pu['median'])} ({fmt.ci(pu['ci95'])}; "
                           f"bias-adjusted {fmt.hr(p['median'])}) vs REML "
                           f"{fmt.hr(f['REML'].get('hr'))} ({fmt.ci(f['REML'].get('hr_ci_kh', [None, None]))}, Knapp-Hartung)."))
    elif "REML" in f:
        b.append(Paragraph(f"Bayesian pooled HR{where} {fmt.hr(p['median'])} ({fmt.ci(p['ci95'])}) vs REML "
                           f"{fmt.hr(f['REML'].get('hr'))} ({fmt.ci(f['REML'].get('hr_ci_kh', [None, None]))}, Knapp-Hartung)."))
    from .scenarios import published_blocks

    b += published_blocks(rep)  # published pooled results ([report] published)
    return b


def diagnostics_blocks(rep: dict) -> list[Block]:
    """MCMC diagnostics, for a sampled posterior only (the exact engine has none to show:
    the Methods say how it computed the posterior)."""
    if rep["engine"] != "mcmc":
        return []
    d = rep["diagnostics"]
    return [Heading(2, "13. MCMC diagnostics"),
            Paragraph(f"{d['chains']} chains x {d['draws']} draws. Max R-hat {d['max_r_hat']:.3f} (needs <= 1.01), "
                      f"min bulk ESS {d['min_ess_bulk']:.0f} and tail ESS {d['min_ess_tail']:.0f} (need >= 400), "
                      f"{d['divergences']} divergent transitions (need 0): "
                      + ("passed." if d["passed"] else "FAILED: " + "; ".join(d["problems"]) + ". " + d["suggestion"]))]


def appendix_blocks(rep: dict) -> list[Block]:
    """Appendix: the rows of the data set the selection excluded, and why."""
    ex = rep["evidence"]["excluded"]
    if not ex:
        return []
    return [Heading(2, APPENDIX_EXCLUDED),
            Table(["excluded row", "reason"], [[e["study"], e["reason"]] for e in ex],
                  f"{len(ex)} rows excluded by the selection, and why")]


def _t_pi_key(block: dict) -> str | None:
    """The summary key of the t_{k-2} prediction interval on the HR scale (read
    defensively: hr_pi_t today; other hr_pi_t* spellings accepted)."""
    for k in ("hr_pi_t", "hr_pi_tk2", "hr_pi_t_k2", "hr_pi_cochrane"):
        if block.get(k) is not None:
            return k
    return next((k for k in sorted(block) if k.startswith("hr_pi_t") and block[k] is not None), None)


def _number_sections(blocks: list[Block]) -> list[Block]:
    """Number the second-level headings 1, 2, 3, ... in order (sections are written with
    provisional numbers such as "2b." so optional sections can be inserted)."""
    out, n = [], 0
    for bl in blocks:
        if isinstance(bl, Heading) and bl.level == 2 and re.match(r"^\d+[a-z]?\. ", bl.text):
            n += 1
            bl = replace(bl, text=f"{n}. " + bl.text.split(". ", 1)[1])
        out.append(bl)
    return out


def methods_paragraph(rep: dict) -> str:
    """The Methods paragraph: the model and priors as fitted (read from the typed spec
    recorded in the report's provenance, defaults included), the engine, the sensitivity
    analyses and the software versions, with references."""
    from ..spec import model_and_priors

    model, pri = model_and_priors(rep["provenance"]["spec"])
    v = rep["provenance"]["versions"]

    if rep.get("arm_model"):  # the arm-level model states its own model (bayesnet.arm_analysis)
        txt = rep["arm_model"]["methods"] + f" Priors: {fmt.prior(pri.mu, 'mu')}"
        txt += (f", {fmt.prior(pri.tau, 'tau')}" if model.random else "") + ". "
        return _methods_rest(rep, model, pri, v, txt)
    txt = (f"Study effects were log hazard ratios with standard errors derived from the reported statistics "
           f"(Tierney et al. 2007; Parmar et al. 1998). A Bayesian {'random' if model.random else 'fixed'}-effects "
           f"{'meta-regression' if model.covariates else 'meta-analysis'} (normal-normal hierarchical model")
    if model.covariates:
        txt += f" with covariates {', '.join(model.covariates)}"
    if model.random_dist == "student_t":
        txt += f", Student-t random effects with {model.random_df:g} degrees of freedom"
    if model.heterogeneity.startswith("by:"):
        txt += f", between-study SD by {model.heterogeneity[3:]}"
    if model.population:
        txt += f", a random effect per source population ({model.population})"
    txt += f") was fitted with priors {fmt.prior(pri.mu, 'mu')} (the pooled log-HR)"
    if model.random:
        txt += f", {fmt.prior(pri.tau, 'tau')} (the between-study SD of log-HRs)"
    if model.covariates:
        txt += f", {fmt.prior(pri.beta, 'beta')} for each coefficient"
    for cname, prior in pri.coef.items():
        txt += f", {fmt.prior(prior, 'beta[' + cname + ']')} (override in [priors.coef])"
    if model.population:
        txt += f", {fmt.prior(pri.omega, 'omega')} (the between-population SD)"
    txt += ". "
    return _methods_rest(rep, model, pri, v, txt)


def _methods_rest(rep, model, pri, v, txt) -> str:
    if rep["engine"] == "exact" and rep.get("arm_model"):
        txt += ("The posterior was computed exactly: every normal term in closed form and (tau, baseline SD) by 2-D "
                "quadrature (no sampling). ")
    elif rep["engine"] == "exact":
        d = rep.get("diagnostics") or {}
        grid = f" ({d['grid_points']} grid points)" if d.get("grid_points") else ""
        txt += ("The posterior was computed exactly by numerical integration over tau" + grid +
                ", without sampling (Roever 2020, J Stat Softw 93(6)). ")
    else:
        d = rep["diagnostics"]
        txt += (f"The posterior was sampled with the No-U-Turn sampler (nutpie {v.get('nutpie')}, PyMC {v.get('pymc')}; "
                f"{d['chains']} chains of {d['draws']} draws), with R-hat, bulk/tail ESS and divergences checked "
                f"(Vehtari et al. 2021). ")
    txt += ("Prior sensitivity used a grid of heterogeneity priors and a community of sceptical and enthusiastic priors "
            "(Spiegelhalter, Freedman & Parmar 1994). The frequentist comparator is REML with untruncated Knapp-Hartung "
            "intervals and a t(k-2) prediction interval (Cochrane Handbook). "
            f"Software: bayesnet {v.get('bayesnet')}, Python {v.get('python')}, numpy {v.get('numpy')}, "
            f"scipy {v.get('scipy')}, ArviZ {v.get('arviz')}.")
    if rep.get("unadjusted") and rep.get("bias_assumptions"):
        txt += (f" Bias adjustment: an additive bias model (Turner et al. 2009; Welton et al. 2009) with the "
                f"{BIAS_ASSUMPTIONS} listed under Summary of findings, stated by the analyst and not estimated from "
                f"the data; the headline shows the results with and without them.")
    if rep.get("tipping_point"):
        txt += (" Tipping points: the common fixed bias (ratio of reported to true HR) at which each probability of "
                "benefit falls to the stated level, found by root-finding on the exact posterior. E-values for the HR "
                "as reported (VanderWeele & Ding 2017; HR converted to a risk ratio for a common outcome, VanderWeele "
                "2020).")
    if rep.get("absolute"):
        txt += (" Absolute effects: S_treated(t) = S_control(t)^HR under proportional hazards, over the whole "
                "posterior of the HR, at the baselines named in the table (GRADE guidance 27).")
    if rep.get("publication_bias"):
        txt += (" Publication bias: Egger's test (REML meta-regression on the SE, as metafor's regtest), Debray's test "
                "where events are known (Debray, Moons & Riley 2018), Bayesian PET-PEESE, and robust Bayesian model "
                "averaging over the RoBMA-PSMA ensemble (Bartos et al. 2023) with exact quadrature for the normal "
                "models and importance sampling for the selection models.")
    return txt


