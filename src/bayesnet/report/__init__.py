"""The probability-of-benefit report for guideline panels.

`build_report` collects everything a panel reads into one dict (the fit's summary.json
plus the design strata, the sensitivity analyses and the evidence base); `content` turns
that dict into a list of blocks (headings, paragraphs, tables, figures) whose every number
is formatted from the dict; `render_html` and `render_markdown` render the same blocks.
Everything that came from user data is escaped in HTML; figures are embedded as PNG data
URIs, so report.html is one self-contained, script-free file.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path

from ..errors import DiagnosticsFailed  # noqa: F401  (re-exported)

__all__ = ["build_report", "write_report", "content", "render_html", "render_markdown", "grade_statements"]

DESIGN_COLUMNS = ("source_type", "design_class", "design", "data_source")


# ----------------------------------------------------------------------------- numbers

def _hr(x) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _p(x) -> str:
    if x is None:
        return "n/a"
    if x > 0.999:
        return ">0.999"
    if x < 0.001:
        return "<0.001"
    return f"{x:.3f}"


def _peq(x) -> str:
    """'= 0.123', '> 0.999' or '< 0.001': a probability after its P(...) label."""
    v = _p(x)
    return v[0] + " " + v[1:] if v[:1] in "<>" else "= " + v


def _ci(pair) -> str:
    return f"{_hr(pair[0])}-{_hr(pair[1])}"


def _tlabel(k: str) -> str:
    return k.replace("hr<", "HR < ").replace("hr>", "HR > ")


# ----------------------------------------------------------------------------- building

def _design_strata(spec, ev, engine, seed):
    """Strata by design: the spec's own covariates, or an auxiliary meta-regression on
    the first design column with two or more levels."""
    from ..api import fit

    if spec.model.covariates:
        return None
    t = ev.table
    for col in DESIGN_COLUMNS:
        if col in t.columns and t[col].astype(str).nunique() >= 2:
            sp = spec.with_model(covariates=[col], reference={})
            post = fit(sp, evidence=ev, engine=engine, seed=seed, log_likelihood=False, frequentist=False)
            strata, coefficients = _strata_and_coefficients(post)
            return {"column": col, "model": "meta-regression on " + col, "engine": post.engine,
                    "strata": strata, "coefficients": coefficients, "reference": dict(post.model_data.reference),
                    "diagnostics_passed": post.ok}
    return None


def _strata_and_coefficients(post) -> tuple[dict, dict]:
    """The 'strata' and 'coefficients' blocks of summary.json for an auxiliary model,
    without the per-study table (which costs O(k) marginal quantiles and is not shown)."""
    try:
        from ..summaries import S, _both, prob_block
    except ImportError:  # the summaries module was reorganised: take the blocks from the full summary
        full = post.summary()
        return full["strata"], full["coefficients"]

    md, spec, mg = post.model_data, post.spec, post.marginals
    th, harm = spec.thresholds, spec.harm
    strata = {}
    for cov, lev in md.strata():
        m, mp = mg[("stratum", cov, lev)], mg[("stratum_predictive", cov, lev)]
        strata.setdefault(cov, {})[lev] = {
            **_both(m), "reference": lev == md.reference[cov],
            "n_studies": int(sum(v == lev for v in md.covariate_values[cov])),
            "prob": prob_block(m, th, harm), "predictive": {**_both(mp), "prob": prob_block(mp, th, harm)}}
    coefficients = {k[1]: {"log_hr": S(v, "log"), "hr_ratio": S(v, "hr"), "prob_lt_0": float(v.cdf(0.0))}
                    for k, v in mg.items() if k[0] == "coef"}
    return strata, coefficients


def build_report(spec, data=None, engine: str = "auto", seed: int | None = None, sensitivity: bool = True,
                 progress: bool = False, allow_failed_diagnostics: bool = True,
                 publication_bias: bool = True) -> tuple[dict, object]:
    """Fit the spec and collect every number the report shows. Returns (report dict,
    posterior). The dict is summary.json plus keys design_strata, sensitivity, evidence.
    With allow_failed_diagnostics=False a primary fit that fails its MCMC gate raises
    DiagnosticsFailed before any sensitivity refit runs."""
    from ..api import evidence_for, fit, load_spec
    from ..provenance import portable_text
    from ..sensitivity import influence, overlap_sensitivity, sweep

    spec = load_spec(spec)
    ev = evidence_for(spec, data)
    post = fit(spec, evidence=ev, engine=engine, seed=seed, progress=progress)
    if not post.ok and not allow_failed_diagnostics:
        # the gate comes before the sensitivity analyses: a failed primary fit ends here
        raise DiagnosticsFailed(post.diagnostics)
    rep = post.summary()
    rep["spec_name"] = spec.name
    rep["title"] = spec.report.title or "Probability-of-benefit report"
    rep["question"] = spec.report.question or ""
    rep["design_strata"] = _design_strata(spec, ev, engine, seed)
    t = ev.table
    cols = [c for c in ("study", "label", "design", "data_source", "source_type", "overlap_group", "derivation", "warnings")
            if c in t.columns]
    rep["evidence"] = {
        "source": portable_text(ev.source),
        "studies": t[cols].fillna("").astype(str).to_dict(orient="records"),
        "excluded": ([] if ev.excluded is None else
                     ev.excluded[["study", "reason"]].astype(str).to_dict(orient="records")),
    }
    if sensitivity:
        sw = sweep(spec, evidence=ev, engine=engine, seed=seed)
        inf = influence(spec, evidence=ev, engine=engine, seed=seed)
        # the alternative selections re-read the spec's own data source (not a user's data=)
        ov = (overlap_sensitivity(spec, engine=engine, seed=seed, evidence=ev, population_model=False)
              if data is None else None)
        rep["sensitivity"] = {"sweep": _records(sw), "influence": _records(inf),
                              "benefit_column": inf.attrs.get("benefit_column"),
                              "influence_note": inf.attrs.get("note", ""),
                              "overlap": _records(ov)}
        rep["_frames"] = {"sweep": sw, "influence": inf}
    if publication_bias and post.k >= 3:
        from ..grade import with_domain
        from ..pubbias.analysis import analyse_publication_bias, grade_publication_bias

        pb = analyse_publication_bias(post)
        rep["publication_bias"] = pb
        if rep.get("grade_draft"):
            rep["grade_draft"] = with_domain(rep["grade_draft"], "publication_bias", grade_publication_bias(pb))
    return rep, post


def _records(df) -> list[dict]:
    """DataFrame rows as JSON-ready dicts: missing values (NaN, e.g. the seed of an exact
    fit or the numbers of an impossible refit) become None."""
    import pandas as pd

    if df is None or len(df) == 0:
        return []
    return [{k: (None if (not isinstance(v, (list, dict, str)) and pd.isna(v)) else v) for k, v in r.items()}
            for r in df.to_dict(orient="records")]


def _ok_rows(rows):
    return [r for r in rows if r.get("status", "ok") == "ok" and r.get("hr_median") is not None]


def grade_statements(rep: dict) -> list[str]:
    """GRADE-ready statements computed from the numbers (Schuenemann et al., GRADE
    handbook): imprecision, inconsistency, robustness across the prior community and
    across the overlap selection rules."""
    out = []
    ths = [float(k[3:]) for k in rep["prob"]["pooled"] if k.startswith("hr<")]
    clinical = max([t for t in ths if t < 1.0], default=None)
    lo, hi = rep["pooled"]["hr"]["ci95"]
    plo, phi = rep["predictive"]["hr"]["ci95"]
    # imprecision
    for t in sorted(set(ths), reverse=True):
        crosses = lo < t < hi
        out.append(f"Imprecision (threshold HR {t:g}): the 95% credible interval of the pooled HR "
                   f"({_ci([lo, hi])}) {'crosses' if crosses else 'does not cross'} {t:g}.")
    # inconsistency
    where = ("lies entirely below 1" if phi < 1 else "lies entirely above 1" if plo > 1 else "crosses 1")
    s = f"Inconsistency: the 95% predictive interval for a new setting ({_ci([plo, phi])}) {where}"
    if clinical is not None:
        rel = ("lies entirely below" if phi < clinical else "lies entirely above" if plo > clinical else "crosses")
        s += f" and {rel} the clinical threshold {clinical:g}"
    out.append(s + ".")
    if rep.get("tau"):
        out.append(f"Between-study heterogeneity: tau = {rep['tau']['median']:.2f} on the log-HR scale "
                   f"(95% CrI {rep['tau']['ci95'][0]:.2f}-{rep['tau']['ci95'][1]:.2f}).")
    sens = rep.get("sensitivity")
    if sens and clinical is not None:
        key = f"p_hr_lt_{_thr_label(rep, clinical)}"
        vals = [r[key] for r in _ok_rows(sens["sweep"]) if r.get(key) is not None]
        if vals:
            mn, mx = min(vals), max(vals)
            robust = mn >= 0.95
            out.append(f"Robustness to the prior: across {len(vals)} prior settings, including the sceptical and "
                       f"enthusiastic priors of the community, P(HR < {clinical:g}) ranges from {_p(mn)} to {_p(mx)}; "
                       f"the benefit {'holds (>= 0.95) under every prior' if robust else 'does not hold under every prior'}.")
        k1 = "p_hr_lt_" + _thr_label(rep, 1.0) if 1.0 in ths else None
        if k1:
            v1 = [r[k1] for r in _ok_rows(sens["sweep"]) if r.get(k1) is not None]
            if v1:
                out.append(f"Across the same settings P(HR < 1) ranges from {_p(min(v1))} to {_p(max(v1))}.")
    if sens and sens.get("overlap"):
        out += _selection_statements(rep, _ok_rows(sens["overlap"]))
    return out


def _selection_statements(rep: dict, rows: list[dict]) -> list[str]:
    """Does a conclusion depend on which overlapping rows are kept? The two conclusions
    checked are 'P(HR < 1) > 0.95' and 'the 95% predictive interval excludes 1'."""
    if not rows:
        return []
    k1 = "p_hr_lt_" + _thr_label(rep, 1.0)
    base_p = rep["prob"]["pooled"].get("hr<1") or rep["prob"]["pooled"].get("hr<1.0")
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


def _thr_label(rep, t) -> str:
    raw = rep["provenance"]["spec"].get("report", {}).get("thresholds")
    for r in raw or []:
        if math.isclose(float(r), t):
            return str(r)
    return str(t)


# ----------------------------------------------------------------------------- content

REPORTED_DERIVATIONS = ("log_hr_se", "hr_ci")
DAGGER = "\u2020"
FLAG_INLINE_MAX = 40


def _is_derived(derivation: str) -> bool:
    """True when the interval was constructed by bayesnet (from a p-value, a p bound,
    survival proportions, medians, log-rank statistics or an imputed point estimate)
    rather than reported by the study."""
    d = str(derivation or "").split("+")[0]
    return bool(d) and d not in REPORTED_DERIVATIONS


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


def content(rep: dict, figures: dict[str, Path]) -> list[tuple]:
    """Blocks: ("h1"|"h2"|"p"|"ul", text or items), ("table", header, rows, caption),
    ("figure", key, caption). Text is plain (escaped by the renderer)."""
    b: list[tuple] = []
    notes = rep.get("figure_notes") or {}
    b.append(("h1", rep["title"]))
    status = "" if rep["status"] == "ok" else " RESULTS FAILED MCMC DIAGNOSTICS: do not use them as a clean result."
    b.append(("p", f"Analysis '{rep['spec_name']}', engine: {rep['engine']}, {rep['k']} studies.{status}"))
    # 1 question and evidence
    b.append(("h2", "1. The question and the evidence"))
    if rep["question"]:
        b.append(("p", rep["question"]))
    b.append(("p", f"{rep['k']} study estimates from {rep['evidence']['source']}. Hazard ratios (HR) below 1 favour "
                   f"the treatment. How each effect was derived is shown per study; crude derivations "
                   f"(from p-values, survival proportions or medians) are less reliable."))
    studies = rep["evidence"]["studies"]
    hdr = [c for c in ("design", "data_source", "source_type", "overlap_group") if studies and c in studies[0]]
    st_by = {s["study"]: s for s in rep["studies"]}
    rows, flag_notes, any_derived = [], [], False
    for s in studies:
        r = st_by.get(s["study"], {})
        derived = _is_derived(s.get("derivation", ""))
        any_derived |= derived
        flags = str(s.get("warnings", "") or "")
        if len(flags) > FLAG_INLINE_MAX:
            flag_notes.append(flags)
            flags = f"see note [{len(flag_notes)}]"
        rows.append([_display(s)] + [s.get(c, "") for c in hdr] +
                    [f"{_hr(r.get('hr'))} ({_ci([r.get('hr_low'), r.get('hr_high')])})" + (DAGGER if derived else ""),
                     s.get("derivation", ""), flags])
    b.append(("table", ["study"] + hdr + ["reported HR (95% CI)", "derivation", "flags"], rows, "The studies analysed"))
    foot = []
    if any_derived:
        foot.append(f"{DAGGER} Interval constructed by bayesnet from the reported statistics (p-value, p bound, "
                    f"survival proportions, medians or log-rank statistics; see the derivation column), not reported "
                    f"by the study.")
    foot += [f"[{i}] {txt}" for i, txt in enumerate(flag_notes, 1)]
    if foot:
        b.append(("notes", foot))
    if rep["evidence"]["excluded"]:
        b.append(("table", ["excluded row", "reason"], [[e["study"], e["reason"]] for e in rep["evidence"]["excluded"]],
                  f"{len(rep['evidence']['excluded'])} rows excluded by the selection, and why"))
    # 2 headline
    b.append(("h2", "2. Headline results"))
    p, pr = rep["pooled"]["hr"], rep["predictive"]["hr"]
    where = _reference_phrase(rep)
    b.append(("p", f"Pooled HR{where} {_hr(p['median'])} (95% credible interval {_ci(p['ci95'])}). In a new study or "
                   f"setting{where} the HR is expected between {_hr(pr['ci95'][0])} and {_hr(pr['ci95'][1])} "
                   f"(95% predictive interval)."))
    if rep.get("unadjusted"):
        pu = rep["unadjusted"]["pooled"]["hr"]
        b.append(("p", f"These are the results under the bias assumptions stated in the next section, which the data "
                       f"cannot check. Taking the studies' hazard ratios at face value, the pooled HR is "
                       f"{_hr(pu['median'])} ({_ci(pu['ci95'])}); both are shown below."))
    keys = list(rep["prob"]["pooled"])
    hrows = [["pooled HR" + where, _hr(p["median"]), _ci(p["ci95"]), _ci(p["hpd95"])] +
             [_p(rep["prob"]["pooled"][k]) for k in keys],
             ["new study (predictive)" + where, _hr(pr["median"]), _ci(pr["ci95"]), _ci(pr["hpd95"])] +
             [_p(rep["prob"]["predictive"][k]) for k in keys]]
    from .observational import absolute_blocks, bias_blocks, headline_rows_unadjusted

    unadj = headline_rows_unadjusted(rep, keys, where)
    if unadj:
        hrows = [[r[0] + ", bias-adjusted"] + r[1:] for r in hrows] + unadj
    b.append(("table", ["", "HR (median)", "95% CrI", "95% HPD"] + [f"P({_tlabel(k)})" for k in keys], hrows,
              "Pooled and predictive HR with the probabilities of benefit and harm" +
              ("; bias-adjusted (under the assumptions in the next section) and as reported, side by side" if unadj else "")))
    if rep.get("tau"):
        i2 = rep.get("i2")
        b.append(("p", f"Heterogeneity between studies: tau {rep['tau']['median']:.2f} (95% CrI {rep['tau']['ci95'][0]:.2f}-"
                       f"{rep['tau']['ci95'][1]:.2f}) on the log-HR scale" +
                       (f"; share of variance due to heterogeneity (I2-like) {100 * i2['median']:.0f}%." if i2 else ".")))
    if "grade_draft" in rep:
        b += bias_blocks(rep)
        b += absolute_blocks(rep, rep.get("treatment") or "the treatment")
    # 3 strata
    b.append(("h2", "3. By study design"))
    strata, note = rep["strata"], "from the analysis model"
    if not strata and rep.get("design_strata"):
        strata, note = rep["design_strata"]["strata"], rep["design_strata"]["model"] + " (auxiliary model)"
    if strata:
        for cov, levels in strata.items():
            rows = []
            for lev, v in levels.items():
                rows.append([lev + (" (reference)" if v["reference"] else ""), str(v["n_studies"]), _hr(v["hr"]["median"]),
                             _ci(v["hr"]["ci95"]), _ci(v["predictive"]["hr"]["ci95"])] + [_p(v["prob"][k]) for k in keys])
            b.append(("table", [cov, "studies", "HR", "95% CrI", "95% predictive"] + [f"P({_tlabel(k)})" for k in keys],
                      rows, f"Mean HR by {cov}, {note}"))
        b.append(("p", "Differences between design strata show how much of the apparent benefit could come from the kind "
                       "of study rather than from the treatment; with few studies per stratum they are uncertain."))
    else:
        b.append(("p", "No design column with two or more levels among the analysed studies."))
    # 4-5 figures
    b.append(("h2", "4. Forest plot"))
    b.append(("figure", "forest", "Reported (grey squares; " + DAGGER + " = interval derived, not reported) and shrunken "
                                   "(blue circles) estimates with their HR (95% CI) in the right-hand column; pooled HR "
                                   "(diamond) and 95% predictive interval (orange bar); threshold lines labelled. Log "
                                   "scale; intervals running past the axis end in an arrow." +
              (" " + notes["forest"] if notes.get("forest") else "")))
    b.append(("h2", "5. Posterior of the pooled HR"))
    b.append(("figure", "density", "Posterior density with the benefit region(s) and the harm region shaded; "
                                    "probabilities on the plot."))
    # 6 sensitivity
    b.append(("h2", "6. Sensitivity: priors, influential studies and the selection"))
    sens = rep.get("sensitivity")
    if sens:
        bc = sens["benefit_column"]
        t_lab = bc[len("p_hr_lt_"):]

        def nums(r, pred_p=True):
            if r.get("status", "ok") != "ok" or r.get("hr_median") is None:
                return ["n/a"] * (5 if pred_p else 4)
            out = [_hr(r["hr_median"]), _ci([r["hr_low"], r["hr_high"]]), _ci([r["pred_hr_low"], r["pred_hr_high"]]),
                   _p(r[bc])]
            return out + ([_p(r["p_pred_hr_lt_" + t_lab])] if pred_p else [])

        rows = [[r["tau_prior"], r["mu_prior"]] + nums(r) + [_status_cell(r)] for r in sens["sweep"]]
        b.append(("table", ["tau prior", "mu prior", "HR", "95% CrI", "95% predictive", f"P(HR < {t_lab})",
                            f"P(new HR < {t_lab})", "status"], rows, "Prior sensitivity"))
        b.append(("figure", "sweep", "Pooled HR and P(benefit) across prior settings."))
        names = {s["study"]: _display(s) for s in studies}
        rows = [[("all studies" if r["kind"] == "full" else "without " + names.get(r["omitted"], str(r["omitted"]))),
                 str(r["k"])] + nums(r) + ["most influential" if r.get("flag") else "", _status_cell(r)]
                for r in sens["influence"]]
        b.append(("table", ["analysis", "k", "HR", "95% CrI", "95% predictive", f"P(HR < {t_lab})",
                            f"P(new HR < {t_lab})", "", "status"], rows,
                  "Leave one study, or one kind of study, out"))
        if sens.get("influence_note"):
            b.append(("p", sens["influence_note"]))
        b.append(("figure", "influence", "Influence of single studies and of kinds of study." +
                  (" " + notes["influence"] if notes.get("influence") else "")))
        ov = sens.get("overlap") or []
        if ov:
            rows = [[str(r["analysis"]), str(r.get("k", "")), *nums(r), _status_cell(r)] for r in ov]
            b.append(("table", ["selection", "k", "HR", "95% CrI", "95% predictive", f"P(HR < {t_lab})",
                                f"P(new HR < {t_lab})", "status"], rows,
                      "Overlapping populations: the analysis under each alternative selection rule and one registry "
                      "family at a time"))
        else:
            b.append(("p", "Overlap sensitivity: the selection has no overlap rule, so there is no alternative selection "
                           "to compare."))
    else:
        b.append(("p", "Sensitivity analyses were not run."))
    from .observational import publication_bias_blocks

    b += publication_bias_blocks(rep)
    # 7 diagnostics
    b.append(("h2", "7. MCMC diagnostics"))
    d = rep["diagnostics"]
    if rep["engine"] == "mcmc":
        b.append(("p", f"{d['chains']} chains x {d['draws']} draws. Max R-hat {d['max_r_hat']:.3f} (needs <= 1.01), "
                       f"min bulk ESS {d['min_ess_bulk']:.0f} and tail ESS {d['min_ess_tail']:.0f} (need >= 400), "
                       f"{d['divergences']} divergent transitions (need 0): "
                       + ("passed." if d["passed"] else "FAILED: " + "; ".join(d["problems"]) + ". " + d["suggestion"])))
    else:
        b.append(("p", f"Not applicable: the exact engine computed the posterior without sampling "
                       f"({d.get('method', 'quadrature')}, {d.get('grid_points', 0)} grid points)."))
    # 8 frequentist
    b.append(("h2", "8. Frequentist comparator"))
    f = rep.get("frequentist") or {}
    if f:
        rows = []
        used = None
        for m in ("REML", "DL"):
            if m in f:
                x = f[m]
                pi_key = _t_pi_key(x)
                used = used or pi_key
                rows.append([m, _hr(x.get("hr")), _ci(x.get("hr_ci", [None, None])),
                             _ci(x.get("hr_ci_kh", [None, None])),
                             _ci(x[pi_key]) if pi_key else "n/a (needs k >= 3)",
                             f"{x['tau2']:.3f}", f"{x['I2']:.0f}%"])
        b.append(("table", ["method", "HR", "95% CI (Wald)", "95% CI (Knapp-Hartung, untruncated)",
                            "95% prediction interval (t, k-2 df)", "tau2", "I2"], rows,
                  "Random-effects meta-analysis as in Cochrane reviews"))
        b.append(("p", "The prediction interval uses the t distribution with k-2 degrees of freedom (Cochrane Handbook "
                       "10.10.4.3; Higgins, Thompson & Spiegelhalter 2009). The Knapp-Hartung interval is the untruncated "
                       "version (its variance factor may be below 1)."))
        if "REML" in f and rep.get("unadjusted"):
            pu = rep["unadjusted"]["pooled"]["hr"]
            b.append(("p", f"Bayesian pooled HR{where} as reported {_hr(pu['median'])} ({_ci(pu['ci95'])}; "
                           f"bias-adjusted {_hr(p['median'])}) vs REML "
                           f"{_hr(f['REML'].get('hr'))} ({_ci(f['REML'].get('hr_ci_kh', [None, None]))}, Knapp-Hartung)."))
        elif "REML" in f:
            b.append(("p", f"Bayesian pooled HR{where} {_hr(p['median'])} ({_ci(p['ci95'])}) vs REML "
                           f"{_hr(f['REML'].get('hr'))} ({_ci(f['REML'].get('hr_ci_kh', [None, None]))}, Knapp-Hartung)."))
    # 9 methods
    b.append(("h2", "9. Methods"))
    b.append(("p", methods_paragraph(rep)))
    # 10 GRADE
    b.append(("h2", "10. GRADE-ready statements"))
    b.append(("ul", grade_statements(rep)))
    from .observational import grade_draft_blocks

    b += grade_draft_blocks(rep)
    pv = rep["provenance"]
    seed = pv.get("seed") if pv.get("seed") is not None else "not used (exact computation)"
    b = _number_sections(b)
    b.append(("p", f"Provenance: data sha256 {(pv.get('data_sha256') or '')[:16]}..., seed {seed}, "
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


def _number_sections(blocks: list[tuple]) -> list[tuple]:
    """Number the second-level headings 1, 2, 3, ... in order (sections are written with
    provisional numbers such as "2b." so optional sections can be inserted)."""
    import re

    out, n = [], 0
    for bl in blocks:
        if bl[0] == "h2" and re.match(r"^\d+[a-z]?\. ", bl[1]):
            n += 1
            bl = ("h2", f"{n}. " + bl[1].split(". ", 1)[1])
        out.append(bl)
    return out


def methods_paragraph(rep: dict) -> str:
    spec = rep["provenance"]["spec"]
    model = spec.get("model", {})
    pri = spec.get("priors", {})
    v = rep["provenance"]["versions"]

    def pd_(x, default):
        x = x or default
        return ", ".join(f"{k}={val}" for k, val in x.items())

    effects = model.get("effects", "random")
    txt = (f"Study effects were log hazard ratios with standard errors derived from the reported statistics "
           f"(Tierney et al. 2007; Parmar et al. 1998). A Bayesian {'random' if effects == 'random' else 'fixed'}-effects "
           f"{'meta-regression' if model.get('covariates') else 'meta-analysis'} (normal-normal hierarchical model")
    if model.get("covariates"):
        txt += f" with covariates {', '.join(model['covariates'])}"
    if model.get("random_dist") == "student_t":
        txt += f", Student-t random effects with {model.get('random_df', 4)} degrees of freedom"
    if str(model.get("heterogeneity", "shared")).startswith("by:"):
        txt += f", between-study SD by {model['heterogeneity'][3:]}"
    if model.get("population"):
        txt += f", a random effect per source population ({model['population']})"
    txt += (f") was fitted with priors mu: {pd_(pri.get('mu'), {'dist': 'normal', 'mu': 0.0, 'sigma': 1.0})}; "
            f"tau: {pd_(pri.get('tau'), {'dist': 'half_normal', 'sigma': 0.5})}")
    if model.get("covariates"):
        txt += f"; coefficients: {pd_(pri.get('beta'), {'dist': 'normal', 'mu': 0.0, 'sigma': 0.5})}"
    for cname, table in (pri.get("coef") or {}).items():
        txt += f"; coefficient {cname} (override in [priors.coef]): {pd_(table, {})}"
    if model.get("population"):
        txt += f"; omega (between-population SD): {pd_(pri.get('omega'), {'dist': 'half_normal', 'sigma': 0.5})}"
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


# ----------------------------------------------------------------------------- rendering

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#212529;line-height:1.45}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #dee2e6}table{border-collapse:collapse;margin:.6em 0;font-size:.82em;width:100%;
table-layout:auto}th,td{border:1px solid #dee2e6;padding:.25em .4em;text-align:left;vertical-align:top;
overflow-wrap:anywhere;word-break:break-word}th{background:#f1f3f5}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}figure{margin:1em 0}
img{max-width:100%;height:auto}figcaption{font-size:.85em;color:#495057}ol.notes,p.notes{font-size:.8em;color:#495057}"""


def render_html(blocks, figures: dict[str, Path]) -> str:
    """The blocks as one self-contained HTML page; every text is HTML-escaped."""
    e = html.escape
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
           f"<title>{e(_one_line(blocks[0][1]))}</title><style>{CSS}</style></head><body>"]
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2", "p"):
            out.append(f"<{kind}>{e(str(blk[1]))}</{kind}>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{e(str(x))}</li>" for x in blk[1]) + "</ul>")
        elif kind == "notes":
            out.append("".join(f"<p class=\"notes\">{e(str(x))}</p>" for x in blk[1]))
        elif kind == "table":
            _, hdr, rows, cap = blk
            out.append(f"<table><caption>{e(cap)}</caption><thead><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in hdr)
                       + "</tr></thead><tbody>")
            for r in rows:
                out.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in r) + "</tr>")
            out.append("</tbody></table>")
        elif kind == "figure":
            _, key, cap = blk
            if key in figures:
                data = base64.b64encode(Path(figures[key]).read_bytes()).decode()
                out.append(f"<figure><img alt=\"{e(cap)}\" src=\"data:image/png;base64,{data}\">"
                           f"<figcaption>{e(cap)}</figcaption></figure>")
    out.append("</body></html>")
    return "\n".join(out)


_MD_ALWAYS = re.compile(r"([\\`*\[\]|#~])")
_MD_LEADING = re.compile(r"^(\s*)([-+=]|\d+[.)])(?=\s|$|[-=])")
_MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def _one_line(x) -> str:
    """Line breaks of any kind (\\r\\n, \\r, \\n, U+2028/2029, vertical tab, form feed) and
    other control characters become a space: user text cannot start a new Markdown block
    or split a table row."""
    return re.sub(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+", " ", str(x))


def md_escape(x) -> str:
    """Plain text -> inert Markdown: one line; HTML metacharacters as entities (&, <, >),
    so no tag or attribute (``<script>``, ``onerror=``) survives a Markdown
    renderer; Markdown punctuation backslash-escaped (CommonMark 6.1), including ``|``
    for tables, ``[``/``]`` for links and images, emphasis and strike markers and a
    leading list, quote or heading marker."""
    s = html.escape(_one_line(x), quote=False)
    s = _MD_ALWAYS.sub(r"\\\1", s)
    s = _MD_UNDERSCORE.sub(r"\\_", s)
    return _MD_LEADING.sub(lambda m: m.group(1) + (m.group(2)[:-1] + "\\" + m.group(2)[-1] if m.group(2)[0].isdigit()
                                                   else "\\" + m.group(2)), s)


def _md_cell(x) -> str:
    return md_escape(x)


def render_markdown(blocks, figures: dict[str, Path]) -> str:
    """The blocks as GitHub-flavoured Markdown; every text is escaped by `md_escape`."""
    out = []
    for blk in blocks:
        kind = blk[0]
        if kind == "h1":
            out.append(f"# {md_escape(blk[1])}\n")
        elif kind == "h2":
            out.append(f"## {_one_line(blk[1])}\n")  # section headings are bayesnet's own text
        elif kind == "p":
            out.append(f"{md_escape(blk[1])}\n")
        elif kind == "ul":
            out.append("\n".join(f"- {md_escape(x)}" for x in blk[1]) + "\n")
        elif kind == "notes":
            out.append("\n".join(f"{md_escape(x)}  " for x in blk[1]) + "\n")
        elif kind == "table":
            _, hdr, rows, cap = blk
            out.append(f"**{md_escape(cap)}**\n")
            out.append("| " + " | ".join(_md_cell(h) for h in hdr) + " |")
            out.append("|" + "---|" * len(hdr))
            out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
            out.append("")
        elif kind == "figure":
            _, key, cap = blk
            if key in figures:
                out.append(f"![{md_escape(cap)}](figures/{Path(figures[key]).name})\n")
    return "\n".join(out)


FOREST_MAX_ROWS = 40


def write_report(spec, out_dir, data=None, engine: str = "auto", seed: int | None = None,
                 allow_failed_diagnostics: bool = False, progress: bool = False) -> Path:
    """Fit, run the sensitivity analyses, and write report.html, report.md, summary.json,
    studies.csv, sweep.csv, influence.csv and figures/*.png|svg into out_dir, atomically.
    A primary MCMC fit that fails its gate raises DiagnosticsFailed before any sensitivity
    refit (unless allow_failed_diagnostics). Returns the output directory (a Path); the
    report's numbers are in <out_dir>/summary.json."""
    from .. import plots
    from ..api import to_json
    from ..io import atomic_directory

    rep, post = build_report(spec, data=data, engine=engine, seed=seed, progress=progress,
                             allow_failed_diagnostics=allow_failed_diagnostics)
    frames = rep.pop("_frames", {})
    out_dir = Path(out_dir)
    import pandas as pd

    st = pd.DataFrame(rep["studies"])  # summary.json's per-study table: computing it again is O(k) slow
    labels = _labels(post.evidence.table)
    with atomic_directory(out_dir) as tmp:
        figdir = tmp / "figures"
        figs, notes = {}, {}
        title = rep["title"]
        fig, note = plots.forest(post, title=title, studies=st, labels=labels, max_rows=FOREST_MAX_ROWS,
                                 with_note=True)
        figs["forest"] = plots.save(fig, figdir / "forest")[0]
        if note:
            notes["forest"] = note
        figs["density"] = plots.save(plots.density(post), figdir / "density")[0]
        if "sweep" in frames:
            figs["sweep"] = plots.save(plots.sweep_plot(frames["sweep"]), figdir / "sweep")[0]
            fig, note = plots.influence_plot(frames["influence"], labels=labels, max_rows=FOREST_MAX_ROWS,
                                             with_note=True)
            figs["influence"] = plots.save(fig, figdir / "influence")[0]
            if note:
                notes["influence"] = note
            frames["sweep"].to_csv(tmp / "sweep.csv", index=False)
            frames["influence"].to_csv(tmp / "influence.csv", index=False)
        from .observational import observational_figures

        rep["thresholds"] = list(post.spec.thresholds)
        figs.update(observational_figures(rep, figdir, plots.save))
        if rep.get("publication_bias"):
            figs["funnel"] = plots.save(plots.funnel(rep["publication_bias"]["funnel"]), figdir / "funnel")[0]
        rep["figure_notes"] = notes
        blocks = content(rep, figs)
        (tmp / "summary.json").write_text(to_json(rep), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(blocks, figs), encoding="utf-8")
        (tmp / "report.md").write_text(render_markdown(blocks, figs), encoding="utf-8")
        post.evidence.table.merge(st[["study", "shrunken_hr", "shrunken_low", "shrunken_high"]], on="study",
                                  how="left").to_csv(tmp / "studies.csv", index=False)
    return out_dir


def _labels(table) -> dict[str, str]:
    """Study id -> display name: the `label` column when present and non-empty, else the id."""
    if "label" not in table.columns:
        return {}
    out = {}
    for sid, lab in zip(table["study"].astype(str), table["label"]):
        if isinstance(lab, str) and lab.strip():
            out[sid] = lab.strip()
    return out
