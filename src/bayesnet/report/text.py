"""Writing the report's text: `content` turns the report dict into content blocks
(`bayesnet.report.blocks`) in reading order; `methods_paragraph` and `grade_statements`
write the Methods section and the GRADE-ready statements. Every number is formatted by
`bayesnet.format` from the report dict; the text is plain (escaped by the renderers)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from .. import format as fmt
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
    lo, hi = rep["pooled"]["hr"]["ci95"]
    plo, phi = rep["predictive"]["hr"]["ci95"]
    # imprecision
    for t in sorted(set(ths), reverse=True):
        crosses = lo < t < hi
        out.append(f"Imprecision (threshold HR {t:g}): the 95% credible interval of the pooled HR "
                   f"({fmt.ci([lo, hi])}) {'crosses' if crosses else 'does not cross'} {t:g}.")
    # inconsistency
    where = ("lies entirely below 1" if phi < 1 else "lies entirely above 1" if plo > 1 else "crosses 1")
    s = f"Inconsistency: the 95% predictive interval for a new setting ({fmt.ci([plo, phi])}) {where}"
    if clinical is not None:
        rel = ("lies entirely below" if phi < clinical else "lies entirely above" if plo > clinical else "crosses")
        s += f" and {rel} the clinical threshold {clinical:g}"
    out.append(s + ".")
    if rep.get("tau"):
        out.append(f"Between-study heterogeneity: tau = {fmt.num(rep['tau']['median'])} on the log-HR scale "
                   f"({fmt.cri_label(rep.get('ci_prob', 0.95))}{fmt.ci(rep['tau']['ci95'])}).")
    sens = rep.get("sensitivity")
    if sens and clinical is not None:
        key = fmt.prob_key(clinical)
        vals = [r[key] for r in _ok_rows(sens["sweep"]) if r.get(key) is not None]
        if vals:
            mn, mx = min(vals), max(vals)
            robust = mn >= 0.95
            out.append(f"Robustness to the prior: across {len(vals)} prior settings, including the sceptical and "
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
            out.append(f"Dependence on the selection: P(HR < 1) > 0.95 {verdict} but not under "
                       f"{', '.join(flips)}; this conclusion depends on which overlapping studies are kept.")
        else:
            out.append(f"Dependence on the selection: P(HR < 1) > 0.95 {verdict} and under every alternative "
                       f"selection ({names}).")
    base_ex = phi < 1 or plo > 1
    flips = [str(r["analysis"]) for r in rows if ((r["pred_hr_high"] < 1 or r["pred_hr_low"] > 1) != base_ex)]
    what = "excludes 1" if base_ex else "includes 1"
    if flips:
        out.append(f"The 95% predictive interval {what} in the primary analysis but not under {', '.join(flips)}: "
                   f"the inconsistency judgement depends on the selection.")
    else:
        out.append(f"The 95% predictive interval {what} in the primary analysis and under every alternative selection.")
    return out


# ----------------------------------------------------------------------------- content

DAGGER = "\u2020"
FLAG_INLINE_MAX = 40


def _display(s: dict) -> str:
    lab = str(s.get("label") or "").strip()
    return lab if lab else str(s["study"])


def _reference_phrase(rep: dict) -> str:
    ref = rep.get("reference") or {}
    if not ref:
        return ""
    return " at the reference levels (" + ", ".join(str(v) for v in ref.values()) + ")"


def _status_cell(r: dict) -> str:
    st = r.get("status", "ok")
    return "" if st == "ok" else f"not estimable: {r.get('reason', st)}"


def content(rep: dict, figures: dict[str, Path]) -> list[Block]:
    """The report as content blocks (Heading, Paragraph, Bullets, Notes, Table, Figure)
    in reading order. Text is plain (escaped by the renderer)."""
    b: list[Block] = []
    notes = rep.get("figure_notes") or {}
    b.append(Heading(1, rep["title"]))
    status = "" if rep["status"] == "ok" else " RESULTS FAILED MCMC DIAGNOSTICS: do not use them as a clean result."
    b.append(Paragraph(f"Analysis '{rep['spec_name']}', engine: {rep['engine']}, {rep['k']} studies.{status}"))
    if rep.get("warnings"):  # summary-level warnings (few studies, no finite tau, spec/data mismatches)
        b.append(Bullets([f"Read with care: {w}" for w in rep["warnings"]]))
    # 1 question and evidence
    b.append(Heading(2, "1. The question and the evidence"))
    if rep["question"]:
        b.append(Paragraph(rep["question"]))
    b.append(Paragraph(f"{rep['k']} study estimates from {rep['evidence']['source']}. Hazard ratios (HR) below 1 favour "
                       f"the treatment. How each effect was derived is shown per study; crude derivations "
                       f"(from p-values, survival proportions or medians) are less reliable."))
    studies = rep["evidence"]["studies"]
    # the spec's group columns and overlap_group, as build_report chose them
    hdr = [c for c in (studies[0] if studies else ()) if c not in ("study", "label", "derivation", "warnings")]
    st_by = {s["study"]: s for s in rep["studies"]}
    rows, flag_notes, any_derived = [], [], False
    for s in studies:
        r = st_by.get(s["study"], {})
        derived = is_derived(s.get("derivation", ""))
        any_derived |= derived
        flags = str(s.get("warnings", "") or "")
        if len(flags) > FLAG_INLINE_MAX:
            flag_notes.append(flags)
            flags = f"see note [{len(flag_notes)}]"
        rows.append([_display(s)] + [s.get(c, "") for c in hdr] +
                    [f"{fmt.hr(r.get('hr'))} ({fmt.ci([r.get('hr_low'), r.get('hr_high')])})" + (DAGGER if derived else ""),
                     s.get("derivation", ""), flags])
    b.append(Table(["study"] + hdr + ["reported HR (95% CI)", "derivation", "flags"], rows, "The studies analysed"))
    foot = []
    if any_derived:
        foot.append(f"{DAGGER} Interval constructed by bayesnet from the reported statistics (p-value, p bound, "
                    f"survival proportions, medians or log-rank statistics; see the derivation column), not reported "
                    f"by the study.")
    foot += [f"[{i}] {txt}" for i, txt in enumerate(flag_notes, 1)]
    if foot:
        b.append(Notes(foot))
    if rep["evidence"]["excluded"]:
        b.append(Table(["excluded row", "reason"], [[e["study"], e["reason"]] for e in rep["evidence"]["excluded"]],
                       f"{len(rep['evidence']['excluded'])} rows excluded by the selection, and why"))
    # 2 headline
    b.append(Heading(2, "2. Headline results"))
    p, pr = rep["pooled"]["hr"], rep["predictive"]["hr"]
    where = _reference_phrase(rep)
    b.append(Paragraph(f"Pooled HR{where} {fmt.hr(p['median'])} (95% credible interval {fmt.ci(p['ci95'])}). In a new study or "
                       f"setting{where} the HR is expected between {fmt.hr(pr['ci95'][0])} and {fmt.hr(pr['ci95'][1])} "
                       f"(95% predictive interval)."))
    if rep.get("unadjusted"):
        pu = rep["unadjusted"]["pooled"]["hr"]
        b.append(Paragraph(f"These are the results under the bias assumptions stated in the next section, which the data "
                           f"cannot check. Taking the studies' hazard ratios at face value, the pooled HR is "
                           f"{fmt.hr(pu['median'])} ({fmt.ci(pu['ci95'])}); both are shown below."))
    keys = list(rep["prob"]["pooled"])
    hrows = [["pooled HR" + where, fmt.hr(p["median"]), fmt.ci(p["ci95"]), fmt.ci(p["hpd95"])] +
             [fmt.p(rep["prob"]["pooled"][k]) for k in keys],
             ["new study (predictive)" + where, fmt.hr(pr["median"]), fmt.ci(pr["ci95"]), fmt.ci(pr["hpd95"])] +
             [fmt.p(rep["prob"]["predictive"][k]) for k in keys]]
    from .observational import absolute_blocks, bias_blocks, headline_rows_unadjusted

    unadj = headline_rows_unadjusted(rep, keys, where)
    if unadj:
        hrows = [[r[0] + ", bias-adjusted"] + r[1:] for r in hrows] + unadj
    b.append(Table(["", "HR (median)", "95% CrI", "95% HPD"] + [fmt.prob_label(k) for k in keys], hrows,
                   "Pooled and predictive HR with the probabilities of benefit and harm" +
                   ("; bias-adjusted (under the assumptions in the next section) and as reported, side by side" if unadj else "")))
    if rep.get("tau"):
        i2 = rep.get("i2")
        tau = fmt.hr_ci(rep["tau"]["median"], rep["tau"]["ci95"], fmt.cri_label(rep.get("ci_prob", 0.95)))
        b.append(Paragraph(f"Heterogeneity between studies: tau {tau} on the log-HR scale" +
                           (f"; share of variance due to heterogeneity (I2-like) {100 * i2['median']:.0f}%." if i2 else ".")))
    if "grade_draft" in rep:
        b += bias_blocks(rep)
        b += absolute_blocks(rep, rep.get("treatment") or "the treatment")
    # 3 strata
    b.append(Heading(2, "3. By study design"))
    strata, note = rep["strata"], "from the analysis model"
    if not strata and rep.get("design_strata"):
        strata, note = rep["design_strata"]["strata"], rep["design_strata"]["model"] + " (auxiliary model)"
    if strata:
        for cov, levels in strata.items():
            rows = []
            for lev, v in levels.items():
                rows.append([lev + (" (reference)" if v["reference"] else ""), str(v["n_studies"]), fmt.hr(v["hr"]["median"]),
                             fmt.ci(v["hr"]["ci95"]), fmt.ci(v["predictive"]["hr"]["ci95"])] + [fmt.p(v["prob"][k]) for k in keys])
            b.append(Table([cov, "studies", "HR", "95% CrI", "95% predictive"] + [fmt.prob_label(k) for k in keys],
                           rows, f"Mean HR by {cov}, {note}"))
        b.append(Paragraph("Differences between design strata show how much of the apparent benefit could come from the kind "
                           "of study rather than from the treatment; with few studies per stratum they are uncertain."))
    else:
        b.append(Paragraph("No design column with two or more levels among the analysed studies."))
    # 4-5 figures
    b.append(Heading(2, "4. Forest plot"))
    b.append(Figure("forest", "Reported (grey squares; " + DAGGER + " = interval derived, not reported) and shrunken "
                               "(blue circles) estimates with their HR (95% CI) in the right-hand column; pooled HR "
                               "(diamond) and 95% predictive interval (orange bar); threshold lines labelled. Log "
                               "scale; intervals running past the axis end in an arrow." +
                    (" " + notes["forest"] if notes.get("forest") else "")))
    b.append(Heading(2, "5. Posterior of the pooled HR"))
    b.append(Figure("density", "Posterior density with the benefit region(s) and the harm region shaded; "
                                "probabilities on the plot."))
    # 6 sensitivity
    b.append(Heading(2, "6. Sensitivity: priors, influential studies and the selection"))
    sens = rep.get("sensitivity")
    if sens:
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
        rows = [[("all studies" if r["kind"] == "full" else "without " + names.get(r["omitted"], str(r["omitted"]))),
                 str(r["k"])] + nums(r) + ["most influential" if r.get("flag") else "", _status_cell(r)]
                for r in sens["influence"]]
        b.append(Table(["analysis", "k", "HR", "95% CrI", "95% predictive", fmt.prob_label(bc),
                        fmt.prob_label(bc_pred), "", "status"], rows,
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
    else:
        b.append(Paragraph("Sensitivity analyses were not run."))
    from .observational import publication_bias_blocks

    b += publication_bias_blocks(rep)
    from .multiverse import multiverse_blocks

    b += multiverse_blocks(rep)  # "Every reasonable analysis", when the spec names a multiverse grid
    # 7 diagnostics
    b.append(Heading(2, "7. MCMC diagnostics"))
    d = rep["diagnostics"]
    if rep["engine"] == "mcmc":
        b.append(Paragraph(f"{d['chains']} chains x {d['draws']} draws. Max R-hat {d['max_r_hat']:.3f} (needs <= 1.01), "
                           f"min bulk ESS {d['min_ess_bulk']:.0f} and tail ESS {d['min_ess_tail']:.0f} (need >= 400), "
                           f"{d['divergences']} divergent transitions (need 0): "
                           + ("passed." if d["passed"] else "FAILED: " + "; ".join(d["problems"]) + ". " + d["suggestion"])))
    else:
        b.append(Paragraph(f"Not applicable: the exact engine computed the posterior without sampling "
                           f"({d.get('method', 'quadrature')}, {d.get('grid_points', 0)} grid points)."))
    # 8 frequentist
    b.append(Heading(2, "8. Frequentist comparator"))
    f = rep.get("frequentist") or {}
    if f:
        rows = []
        used = None
        for m in ("REML", "DL"):
            if m in f:
                x = f[m]
                pi_key = _t_pi_key(x)
                used = used or pi_key
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
    # 9 methods
    b.append(Heading(2, "9. Methods"))
    b.append(Paragraph(methods_paragraph(rep)))
    # 10 GRADE
    b.append(Heading(2, "10. GRADE-ready statements"))
    b.append(Bullets(grade_statements(rep)))
    from .observational import grade_draft_blocks

    b += grade_draft_blocks(rep)
    pv = rep["provenance"]
    seed = pv.get("seed") if pv.get("seed") is not None else "not used (exact computation)"
    b = _number_sections(b)
    b.append(Paragraph(f"Provenance: data sha256 {(pv.get('data_sha256') or '')[:16]}..., seed {seed}, "
                       f"bayesnet {pv['versions'].get('bayesnet')}, created {pv.get('created')}. "
                       f"Every number above comes from summary.json."))
    return b


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

    def pd_(prior):
        return ", ".join(f"{k}={val}" for k, val in prior.to_dict().items())

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
    txt += f") was fitted with priors mu: {pd_(pri.mu)}"
    if model.random:
        txt += f"; tau: {pd_(pri.tau)}"
    if model.covariates:
        txt += f"; coefficients: {pd_(pri.beta)}"
    for cname, prior in pri.coef.items():
        txt += f"; coefficient {cname} (override in [priors.coef]): {pd_(prior)}"
    if model.population:
        txt += f"; omega (between-population SD): {pd_(pri.omega)}"
    txt += ". "
    if rep["engine"] == "exact":
        txt += ("The posterior was computed exactly by numerical integration over tau (Roever 2020, J Stat Softw 93(6)). ")
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
        txt += (" Bias adjustment (additive bias model, Turner et al. 2009; Welton et al. 2009): "
                + " ".join(rep["bias_assumptions"]) + " These bias priors were stated by the analyst and not estimated "
                "from the data; the headline shows the results with and without them.")
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


