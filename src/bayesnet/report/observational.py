"""Report blocks for observational evidence (issue 10): the unadjusted and bias-adjusted
results side by side, the bias that would overturn the conclusion (tipping points, E-value),
absolute effects for a Summary-of-Findings table, P(HR < t) across thresholds, and the
GRADE certainty draft. Every number is read from the report dict (summary.json); the
text is plain and escaped by the renderers."""

from __future__ import annotations

from .. import format as fmt
from .blocks import Block, Bullets, Figure, Heading, Paragraph, Table, WhatIf

__all__ = ["headline_rows_unadjusted", "bias_blocks", "absolute_blocks", "grade_draft_blocks",
           "observational_figures", "publication_bias_blocks"]


def headline_rows_unadjusted(rep: dict, keys: list[str], where: str) -> list[list[str]]:
    """Rows for the headline table: the analysis without any bias adjustment, beside the
    bias-adjusted headline (only when the spec states [bias])."""
    u = rep.get("unadjusted")
    if not u:
        return []
    p, pr = u["pooled"]["hr"], u["predictive"]["hr"]
    return [["pooled HR" + where + ", as reported (no bias adjustment)", fmt.hr(p["median"]), fmt.ci(p["ci95"]),
             fmt.ci(p["hpd95"])] + [fmt.p(u["prob"]["pooled"][k]) for k in keys],
            ["new study (predictive)" + where + ", as reported (no bias adjustment)", fmt.hr(pr["median"]), fmt.ci(pr["ci95"]),
             fmt.ci(pr["hpd95"])] + [fmt.p(u["prob"]["predictive"][k]) for k in keys]]


def bias_blocks(rep: dict) -> list[Block]:
    """'Could bias explain the benefit?': assumptions, tipping points, E-value, bias curve."""
    b: list[Block] = [Heading(2, "3. Could bias explain the benefit?")]
    if (rep.get("designs") or {}).get("all_observational"):  # only when the design column says so
        b.append(Paragraph("Every study here is observational: patients who were treated differ from those who were not "
                           "(confounding by indication; often immortal time as well), and all designs share that bias, "
                           "so a design covariate cannot remove it and the data cannot estimate it. What follows says "
                           "how large such a bias would have to be to change the conclusion."))
    else:
        b.append(Paragraph("What follows says how large a bias shared by the studies would have to be to change the "
                           "conclusion."))
    if rep.get("unadjusted"):
        b.append(Paragraph("The headline results are bias-adjusted under the bias assumptions listed under Summary of "
                           "findings; the tipping points below replace the shared bias prior by a fixed bias of each "
                           "size and keep the per-study biases."))
    else:
        b.append(Paragraph("No bias was assumed in the headline results (the spec has no [bias] section): they take the "
                           "studies' hazard ratios at face value."))
    for s in rep.get("tipping_sentences") or []:
        b.append(Paragraph(s))
    if rep.get("tipping_point_note"):
        b.append(Paragraph("Tipping point not computed: " + rep["tipping_point_note"]))
    wi = what_if_block(rep, rep.get("treatment") or "the treatment")
    if wi is not None:
        b.append(wi)
    if rep.get("evalue_sentence"):
        b.append(Paragraph(rep["evalue_sentence"] + " (E-value: VanderWeele & Ding 2017, for the HR as the studies report it.)"))
    if rep.get("evalue_adjusted_sentence"):
        b.append(Paragraph(rep["evalue_adjusted_sentence"] + " (E-value of the bias-adjusted HR: the confounding "
                                                              "beyond the stated bias assumptions.)"))
    if rep.get("bias_curve"):
        b.append(Figure("bias_curve", "Probability of benefit if every study exaggerated the benefit by a common "
                                      "fixed factor (reported HR / true HR, x-axis; 1 = no bias), the per-study "
                                      "biases kept; pooled (solid) and new-study (dashed) effect. Vertical lines: "
                                      "the tipping points; dotted lines: the probability each one is defined by; "
                                      "shaded: the biases beyond a tipping point, where that probability is no "
                                      "longer reached."))
    return b


def absolute_blocks(rep: dict, treatment: str = "the treatment") -> list[Block]:
    """Summary-of-Findings style absolute effects (alive per 1000) and P(HR < t) across
    thresholds."""
    b: list[Block] = []
    rows = rep.get("absolute") or []
    b.append(Heading(2, "3b. Absolute effects and the probability of benefit at any threshold"))
    if rows:
        tab = []
        for r in rows:
            ts, d = r["treated_survival"], r["difference_per_1000"]
            lo, hi = d["ci95"]

            tab.append([r["label"], f"{r['time_years']:g} years",
                        f"{round(1000 * r['baseline_survival'])} per 1000 alive",
                        f"{round(1000 * ts['median'])} per 1000 alive ({round(1000 * ts['ci95'][0])} to "
                        f"{round(1000 * ts['ci95'][1])})",
                        _difference(d["median"], (lo, hi))])
        b.append(Table([f"baseline (without {treatment})", "time", f"without {treatment}",
                        f"with {treatment} (95% CrI)", "difference (95% CrI)"], tab,
                       "Absolute effects: people ALIVE per 1000 at the time point, S_treated = S_control^HR under "
                       "proportional hazards, propagating the whole posterior of the pooled HR" +
                       (" (bias-adjusted)" if rep.get("unadjusted") else "") + ". Baselines are other studies' untreated "
                       "patients; their sources are named in the first column."))
        for r in rows:
            if r.get("predictive"):
                d = r["predictive"]["difference_per_1000"]
                b.append(Paragraph(f"In a new setting (predictive) at the baseline '{r['label']}': "
                                   f"{round(d['median'])} more alive per 1000 (95% interval {round(d['ci95'][0])} to "
                                   f"{round(d['ci95'][1])}; negative = fewer alive)."))
                break
    else:
        b.append(Paragraph("No baseline survival was given ([[absolute]] in the spec), so absolute effects are not shown."))
    bt = rep.get("benefit_table") or []
    if bt:
        b.append(Table(["HR threshold t", "P(pooled HR < t)", "P(HR in a new study < t)"],
                       [[fmt.threshold(r['threshold']), fmt.p(r["pooled"]), fmt.p(r["predictive"])] for r in bt],
                       "Probability that the HR is below any threshold the panel chooses"))
    if rep.get("benefit_curve"):
        b.append(Figure("benefit_curve", "P(HR < t) for t from 0.3 to 1.5, pooled and in a new study; the "
                                         "spec's thresholds marked."))
    return b


def _more(x) -> str:
    x = round(x)
    return f"{abs(x)} {'more' if x >= 0 else 'fewer'}"


def _difference(median, pair) -> str:
    """"171 more alive per 1000 (11 more to 341 more)"."""
    return f"{_more(median)} alive per 1000 ({_more(pair[0])} to {_more(pair[1])})"


def what_if_block(rep: dict, treatment: str = "the treatment") -> WhatIf | None:
    """The what-if panel from summary.json's ``what_if`` grid (`bayesnet.whatif`), every
    number formatted here (the page only picks texts); None without a grid."""
    g = rep.get("what_if")
    if not g:
        return None
    ths = [fmt.threshold(t) for t in g["thresholds"]]
    spec_t = [fmt.threshold(t) for t in rep.get("thresholds") or [] if fmt.threshold(t) in ths]
    default = "1" if "1" in ths else (spec_t[0] if spec_t else ths[0])
    data = {"ratio": g["ratio"], "ratio_text": [f"{r:.2f}" for r in g["ratio"]],
            "p": {q: {t: [fmt.p(v) for v in g[q][t]] for t in ths} for q in ("pooled", "predictive")},
            "absolute": [{q: [_difference(x["median"], x["ci95"]) for x in blk[q]] for q in ("pooled", "predictive")}
                         for blk in g["absolute"]]}
    baselines = tuple((blk["label"] + (" (baseline uncertainty not shown here)" if blk.get("baseline_uncertainty_ignored")
                                       else ""), f"{blk['time_years']:g} years",
                       f"{round(1000 * blk['baseline_survival'])} per 1000 alive") for blk in g["absolute"])
    return WhatIf(data=data, thresholds=tuple(ths), default_threshold=default, baselines=baselines,
                  caption=("What if every study's HR were R times the true HR? Move the slider to fix the shared bias "
                           "R (reported HR / true HR; 1 = none, lower = the studies exaggerate the benefit more) in "
                           "place of its prior, as the tipping points do" +
                           ("; the per-study biases are kept" if (rep.get("bias_assumptions") and rep.get("unadjusted"))
                            else "") + ". The numbers "
                           f"are the exact engine's, precomputed for R = 0.50 to 1.00 in steps of 0.01; absolute "
                           f"effects: alive per 1000 with {treatment} minus without, at each baseline."))


def publication_bias_blocks(rep: dict) -> list[Block]:
    """Publication bias and small-study effects (bayesnet.pubbias): the small-k caveat
    first, the tests with their power, PET-PEESE, the RoBMA-PSMA model average with and
    without the bias components, and the funnel plot."""
    pb = rep.get("publication_bias")
    if not pb:
        return []
    k = pb["k"]
    b: list[Block] = [Heading(2, "9. Publication bias and small-study effects")]
    if pb.get("caveat"):
        b.append(Paragraph(pb["caveat"] + " The numbers below show how far the estimate depends on the bias models' "
                                          "priors; they cannot establish or exclude publication bias."))
    rows = []
    eg = pb.get("egger")
    if eg:
        ss = eg.get("small_sample") or {}
        res = (f"t = {fmt.num(ss['t'])} ({ss['df']} df), p {fmt.p_eq(ss['p'])}; z test p {fmt.p_eq(eg['p'])}"
               if ss.get("p") is not None else f"z = {fmt.num(eg['z'])}, p {fmt.p_eq(eg['p'])}")
        rows.append(["Egger's regression test (small-sample t test, Egger 1997; the z test of metafor's regtest "
                     "default beside it)", res, eg["power"]])
    elif pb.get("egger_note"):
        rows.append(["Egger's regression test", "undefined", pb["egger_note"]])
    db = pb.get("debray")
    if db:
        rows.append([f"Debray's test on events ({db['variant']}, {db['k']} studies)",
                     f"t = {fmt.num(db['t'])}, p {fmt.p_eq(db['p'])}", db["power"]])
    elif pb.get("debray_note"):
        rows.append(["Debray's test on events", "undefined", pb["debray_note"]])
    else:
        rows.append(["Debray's test on events", "not run", "needs the number of events in at least 3 studies"])
    pp = pb.get("pet_peese")
    if pp:
        cond = pp["conditional"]
        hr = cond["hr"]
        txt = f"{cond['uses'].upper()} (conditional PET-PEESE): bias-corrected HR {hr['median']:.2f} ({fmt.ci(hr['ci'])})"
        rows.append(["PET-PEESE (Bayesian meta-regression on SE or SE^2)", txt,
                     "unreliable: " + "; ".join(pp.get("unreliable_because") or []) if not pp.get("reliable", True)
                     else "usable at this k and heterogeneity"])
    if pb.get("pet_peese_note"):
        rows.append(["PET-PEESE (Bayesian meta-regression on SE or SE^2)", "undefined", pb["pet_peese_note"]])
    b.append(Table(["analysis", "result", "what it can show here"], rows,
                   f"Small-study effects ({k} studies; HR < 1 = benefit)"))
    avg = pb.get("averaging") or {}
    if pb.get("averaging_note"):
        b.append(Paragraph(pb["averaging_note"]))
    if avg:
        from ..pubbias.config import ensemble_name

        ip, bf = avg["inclusion_prob"], avg["inclusion_bf"]
        ens = (avg.get("priors") or {}).get("ensemble", "psma")
        parts = {"psma": "selection models, PET and PEESE", "pp": "PET and PEESE", "sm": "selection models"}
        b.append(Table(["component", "posterior probability", "inclusion Bayes factor"],
                       [[c, fmt.p(ip[c]), fmt.bf(bf[c])] for c in ("effect", "heterogeneity", "bias")],
                       f"Robust Bayesian model averaging ({ensemble_name(ens)} ensemble: effect, heterogeneity and "
                       f"publication bias each present or absent; {parts.get(ens, ens)}; Bartos et al. 2023)"))
        w, wo = avg["pooled"]["hr"], avg["without_bias_components"]["pooled"]["hr"]
        b.append(Paragraph(f"Model-averaged HR {w['median']:.2f} (95% CrI {fmt.ci(w['ci'])}) with the publication-bias "
                           f"models; {wo['median']:.2f} ({fmt.ci(wo['ci'])}) without them."))
    g = (rep.get("grade_draft") or {}).get("domains", {}).get("publication_bias")
    if g:
        b.append(Paragraph(g["sentence"]))
    centre = ((pb.get("funnel") or {}).get("pooled") or {}).get("label") or "the pooled HR"
    b.append(Figure("funnel", "Contour-enhanced funnel plot: studies in the shaded regions would be significant "
                              f"at p < 0.10, 0.05 or 0.01; solid blue line: {centre}; dashed lines: its 95% funnel; "
                              "studies outside it are labelled."))
    return b


def grade_draft_blocks(rep: dict) -> list[Block]:
    g = rep.get("grade_draft")
    if not g:
        return []
    b: list[Block] = [Heading(2, "10b. GRADE certainty: a draft for the panel")]
    b.append(Paragraph(g["note"]))
    if g.get("basis"):
        b.append(Paragraph(g["basis"]))
    b.append(Bullets([d["sentence"] + f" [{d['concern']}]" for d in g["domains"].values()] +
                     [g["large_effect"]["sentence"]]))
    b.append(Paragraph(g["overall"]["sentence"]))
    return b


def observational_figures(rep: dict, figdir, save) -> dict:
    """Draw the bias curve and the benefit curve when the report has them; returns
    {key: png path}."""
    import math

    import matplotlib.pyplot as plt  # any backend: the figures are saved, never shown

    figs = {}
    if rep.get("bias_curve"):
        from ..plots import bias_curve

        fig = bias_curve(rep["bias_curve"], rep.get("tipping_point"))
        figs["bias_curve"] = save(fig, figdir / "bias_curve")[0]
        plt.close(fig)
    if rep.get("benefit_curve"):
        from ..absolute import plot_benefit_curve

        ax = plot_benefit_curve(rep["benefit_curve"], thresholds=[t for t in rep.get("thresholds", [])
                                                                  if math.isfinite(t)] or None,
                                treatment=rep.get("treatment") or "the treatment")
        fig = ax.figure if hasattr(ax, "figure") else ax
        figs["benefit_curve"] = save(fig, figdir / "benefit_curve")[0]
        plt.close(fig)
    return figs
