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
from pathlib import Path


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


def _ci(pair) -> str:
    return f"{_hr(pair[0])}-{_hr(pair[1])}"


def _tlabel(k: str) -> str:
    return k.replace("hr<", "HR < ").replace("hr>", "HR > ")


# ----------------------------------------------------------------------------- building

def _design_strata(spec, ev, engine, seed):
    """Strata by design: the spec's own covariates, or an auxiliary meta-regression on
    the first design column with two or more levels."""
    from ..api import fit

    if spec.model["covariates"]:
        return None
    t = ev.table
    for col in DESIGN_COLUMNS:
        if col in t.columns and t[col].astype(str).nunique() >= 2:
            sp = spec.with_model(covariates=[col], reference={})
            post = fit(sp, evidence=ev, engine=engine, seed=seed, log_likelihood=False)
            s = post.summary()
            return {"column": col, "model": "meta-regression on " + col, "engine": post.engine,
                    "strata": s["strata"], "coefficients": s["coefficients"], "reference": s["reference"],
                    "diagnostics_passed": post.ok}
    return None


def build_report(spec, data=None, engine: str = "auto", seed: int | None = None, sensitivity: bool = True,
                 progress: bool = False) -> tuple[dict, object]:
    """Fit the spec and collect every number the report shows. Returns (report dict,
    posterior). The dict is summary.json plus keys design_strata, sensitivity, evidence."""
    from ..api import evidence_for, fit, load_spec
    from ..sensitivity import influence, sweep

    spec = load_spec(spec)
    ev = evidence_for(spec, data)
    post = fit(spec, evidence=ev, engine=engine, seed=seed, progress=progress)
    rep = post.summary()
    rep["spec_name"] = spec.name
    rep["title"] = spec.report.get("title") or "Probability-of-benefit report"
    rep["question"] = spec.report.get("question") or ""
    rep["design_strata"] = _design_strata(spec, ev, engine, seed)
    t = ev.table
    cols = [c for c in ("study", "design", "data_source", "source_type", "overlap_group", "derivation", "warnings") if c in t.columns]
    rep["evidence"] = {
        "source": ev.source,
        "studies": t[cols].fillna("").astype(str).to_dict(orient="records"),
        "excluded": ([] if ev.excluded is None else
                     ev.excluded[["study", "reason"]].astype(str).to_dict(orient="records")),
    }
    if sensitivity:
        sw = sweep(spec, evidence=ev, engine=engine, seed=seed)
        inf = influence(spec, evidence=ev, engine=engine, seed=seed)
        rep["sensitivity"] = {"sweep": sw.to_dict(orient="records"), "influence": inf.to_dict(orient="records"),
                              "benefit_column": inf.attrs.get("benefit_column")}
        rep["_frames"] = {"sweep": sw, "influence": inf}
    return rep, post


def grade_statements(rep: dict) -> list[str]:
    """GRADE-ready statements computed from the numbers (Schuenemann et al., GRADE
    handbook): imprecision, inconsistency, robustness across the prior community."""
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
        vals = [r[key] for r in sens["sweep"] if key in r]
        if vals:
            mn, mx = min(vals), max(vals)
            robust = mn >= 0.95
            out.append(f"Robustness to the prior: across {len(vals)} prior settings, including the sceptical and "
                       f"enthusiastic priors of the community, P(HR < {clinical:g}) ranges from {_p(mn)} to {_p(mx)}; "
                       f"the benefit {'holds (>= 0.95) under every prior' if robust else 'does not hold under every prior'}.")
        k1 = "p_hr_lt_" + _thr_label(rep, 1.0) if 1.0 in ths else None
        if k1:
            v1 = [r[k1] for r in sens["sweep"] if k1 in r]
            out.append(f"Across the same settings P(HR < 1) ranges from {_p(min(v1))} to {_p(max(v1))}.")
    return out


def _thr_label(rep, t) -> str:
    raw = rep["provenance"]["spec"].get("report", {}).get("thresholds")
    for r in raw or []:
        if math.isclose(float(r), t):
            return str(r)
    return str(t)


# ----------------------------------------------------------------------------- content

def content(rep: dict, figures: dict[str, Path]) -> list[tuple]:
    """Blocks: ("h1"|"h2"|"p"|"ul", text or items), ("table", header, rows, caption),
    ("figure", key, caption). Text is plain (escaped by the renderer)."""
    b: list[tuple] = []
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
    hdr = [c for c in ("study", "design", "data_source", "source_type", "overlap_group", "derivation", "warnings")
           if rep["evidence"]["studies"] and c in rep["evidence"]["studies"][0]]
    st_by = {s["study"]: s for s in rep["studies"]}
    rows = []
    for s in rep["evidence"]["studies"]:
        r = st_by.get(s["study"], {})
        rows.append([s.get(c, "") for c in hdr[:-2]] +
                    [f"{_hr(r.get('hr'))} ({_ci([r.get('hr_low'), r.get('hr_high')])})", s.get("derivation", ""), s.get("warnings", "")])
    b.append(("table", hdr[:-2] + ["reported HR (95% CI)", "derivation", "flags"], rows, "The studies analysed"))
    if rep["evidence"]["excluded"]:
        b.append(("table", ["excluded row", "reason"], [[e["study"], e["reason"]] for e in rep["evidence"]["excluded"]],
                  f"{len(rep['evidence']['excluded'])} rows excluded by the selection, and why"))
    # 2 headline
    b.append(("h2", "2. Headline results"))
    p, pr = rep["pooled"]["hr"], rep["predictive"]["hr"]
    b.append(("p", f"Pooled HR {_hr(p['median'])} (95% credible interval {_ci(p['ci95'])}). In a new study or setting "
                   f"the HR is expected between {_hr(pr['ci95'][0])} and {_hr(pr['ci95'][1])} (95% predictive interval)."))
    keys = list(rep["prob"]["pooled"])
    hrows = [["pooled HR", _hr(p["median"]), _ci(p["ci95"]), _ci(p["hpd95"])] + [_p(rep["prob"]["pooled"][k]) for k in keys],
             ["new study (predictive)", _hr(pr["median"]), _ci(pr["ci95"]), _ci(pr["hpd95"])] +
             [_p(rep["prob"]["predictive"][k]) for k in keys]]
    b.append(("table", ["", "HR (median)", "95% CrI", "95% HPD"] + [f"P({_tlabel(k)})" for k in keys], hrows,
              "Pooled and predictive HR with the probabilities of benefit and harm"))
    if rep.get("tau"):
        i2 = rep.get("i2")
        b.append(("p", f"Heterogeneity between studies: tau {rep['tau']['median']:.2f} (95% CrI {rep['tau']['ci95'][0]:.2f}-"
                       f"{rep['tau']['ci95'][1]:.2f}) on the log-HR scale" +
                       (f"; share of variance due to heterogeneity (I2-like) {100 * i2['median']:.0f}%." if i2 else ".")))
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
    b.append(("figure", "forest", "Reported (grey squares) and shrunken (blue circles) estimates; pooled HR (diamond) "
                                   "and 95% predictive interval (orange bar). Log scale."))
    b.append(("h2", "5. Posterior of the pooled HR"))
    b.append(("figure", "density", "Posterior density with the benefit region(s) and the harm region shaded; "
                                    "probabilities on the plot."))
    # 6 sensitivity
    b.append(("h2", "6. Sensitivity: priors and influential studies"))
    sens = rep.get("sensitivity")
    if sens:
        bc = sens["benefit_column"]
        t_lab = bc[len("p_hr_lt_"):]
        rows = [[r["tau_prior"], r["mu_prior"], _hr(r["hr_median"]), _ci([r["hr_low"], r["hr_high"]]),
                 _ci([r["pred_hr_low"], r["pred_hr_high"]]), _p(r[bc]), _p(r["p_pred_hr_lt_" + t_lab])] for r in sens["sweep"]]
        b.append(("table", ["tau prior", "mu prior", "HR", "95% CrI", "95% predictive", f"P(HR < {t_lab})",
                            f"P(new HR < {t_lab})"], rows, "Prior sensitivity"))
        b.append(("figure", "sweep", "Pooled HR and P(benefit) across prior settings."))
        rows = [[("all studies" if r["kind"] == "full" else "without " + r["omitted"]), str(r["k"]), _hr(r["hr_median"]),
                 _ci([r["hr_low"], r["hr_high"]]), _p(r[bc]), _p(r["p_pred_hr_lt_" + t_lab]),
                 "most influential" if r.get("flag") else ""] for r in sens["influence"]]
        b.append(("table", ["analysis", "k", "HR", "95% CrI", f"P(HR < {t_lab})", f"P(new HR < {t_lab})", ""], rows,
                  "Leave one study, or one kind of study, out"))
        b.append(("figure", "influence", "Influence of single studies and of kinds of study."))
    else:
        b.append(("p", "Sensitivity analyses were not run."))
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
        for m in ("REML", "DL"):
            if m in f:
                x = f[m]
                rows.append([m, _hr(x["hr"]), _ci(x["hr_ci"]), _ci(x["hr_ci_kh"]), _ci(x["hr_pi"]),
                             f"{x['tau2']:.3f}", f"{x['I2']:.0f}%"])
        b.append(("table", ["method", "HR", "95% CI (Wald)", "95% CI (Knapp-Hartung)", "95% prediction interval",
                            "tau2", "I2"], rows, "Random-effects meta-analysis as in Cochrane reviews"))
        b.append(("p", f"Bayesian pooled HR {_hr(p['median'])} ({_ci(p['ci95'])}) vs REML {_hr(f['REML']['hr'])} "
                       f"({_ci(f['REML']['hr_ci_kh'])}, Knapp-Hartung)."))
    # 9 methods
    b.append(("h2", "9. Methods"))
    b.append(("p", methods_paragraph(rep)))
    # 10 GRADE
    b.append(("h2", "10. GRADE-ready statements"))
    b.append(("ul", grade_statements(rep)))
    pv = rep["provenance"]
    seed = pv.get("seed") if pv.get("seed") is not None else "not used (exact computation)"
    b.append(("p", f"Provenance: data sha256 {pv.get('data_sha256', '')[:16]}..., seed {seed}, "
                   f"bayesnet {pv['versions'].get('bayesnet')}, created {pv.get('created')}. "
                   f"Every number above comes from summary.json."))
    return b


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
    txt += ". "
    if rep["engine"] == "exact":
        txt += ("The posterior was computed exactly by numerical integration over tau (Roever 2020, J Stat Softw 93(6)). ")
    else:
        d = rep["diagnostics"]
        txt += (f"The posterior was sampled with the No-U-Turn sampler (nutpie {v.get('nutpie')}, PyMC {v.get('pymc')}; "
                f"{d['chains']} chains of {d['draws']} draws), with R-hat, bulk/tail ESS and divergences checked "
                f"(Vehtari et al. 2021). ")
    txt += ("Prior sensitivity used a grid of heterogeneity priors and a community of sceptical and enthusiastic priors "
            "(Spiegelhalter, Freedman & Parmar 1994). The frequentist comparator is REML with Knapp-Hartung intervals. "
            f"Software: bayesnet {v.get('bayesnet')}, Python {v.get('python')}, numpy {v.get('numpy')}, "
            f"scipy {v.get('scipy')}, ArviZ {v.get('arviz')}.")
    return txt


# ----------------------------------------------------------------------------- rendering

CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;
padding:0 1em;color:#212529;line-height:1.45}h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;
border-bottom:1px solid #dee2e6}table{border-collapse:collapse;margin:.6em 0;font-size:.86em;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #dee2e6;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#f1f3f5}
caption{caption-side:top;text-align:left;font-weight:600;padding:.3em 0}figure{margin:1em 0}
img{max-width:100%;height:auto}figcaption{font-size:.85em;color:#495057}"""


def render_html(blocks, figures: dict[str, Path]) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">",
           f"<title>{e(blocks[0][1])}</title><style>{CSS}</style></head><body>"]
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2", "p"):
            out.append(f"<{kind}>{e(blk[1])}</{kind}>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{e(x)}</li>" for x in blk[1]) + "</ul>")
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


def _md_cell(x) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks, figures: dict[str, Path]) -> str:
    out = []
    for blk in blocks:
        kind = blk[0]
        if kind == "h1":
            out.append(f"# {blk[1]}\n")
        elif kind == "h2":
            out.append(f"## {blk[1]}\n")
        elif kind == "p":
            out.append(f"{blk[1]}\n")
        elif kind == "ul":
            out.append("\n".join(f"- {x}" for x in blk[1]) + "\n")
        elif kind == "table":
            _, hdr, rows, cap = blk
            out.append(f"**{cap}**\n")
            out.append("| " + " | ".join(_md_cell(h) for h in hdr) + " |")
            out.append("|" + "---|" * len(hdr))
            out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
            out.append("")
        elif kind == "figure":
            _, key, cap = blk
            if key in figures:
                out.append(f"![{cap}](figures/{Path(figures[key]).name})\n")
    return "\n".join(out)


def write_report(spec, out_dir, data=None, engine: str = "auto", seed: int | None = None,
                 allow_failed_diagnostics: bool = False, progress: bool = False) -> dict:
    """Fit, run the sensitivity analyses, and write report.html, report.md, summary.json,
    studies.csv and figures/*.png|svg into out_dir, atomically. Returns the report dict."""
    from .. import plots
    from ..api import to_json
    from ..io import atomic_directory

    rep, post = build_report(spec, data=data, engine=engine, seed=seed, progress=progress)
    if not post.ok and not allow_failed_diagnostics:
        raise DiagnosticsFailed(post.diagnostics)
    frames = rep.pop("_frames", {})
    with atomic_directory(Path(out_dir)) as tmp:
        figdir = tmp / "figures"
        figs = {}
        title = rep["title"]
        figs["forest"] = plots.save(plots.forest(post, title=title), figdir / "forest")[0]
        figs["density"] = plots.save(plots.density(post), figdir / "density")[0]
        if "sweep" in frames:
            figs["sweep"] = plots.save(plots.sweep_plot(frames["sweep"]), figdir / "sweep")[0]
            figs["influence"] = plots.save(plots.influence_plot(frames["influence"]), figdir / "influence")[0]
            frames["sweep"].to_csv(tmp / "sweep.csv", index=False)
            frames["influence"].to_csv(tmp / "influence.csv", index=False)
        blocks = content(rep, figs)
        (tmp / "summary.json").write_text(to_json(rep))
        (tmp / "report.html").write_text(render_html(blocks, figs), encoding="utf-8")
        (tmp / "report.md").write_text(render_markdown(blocks, figs), encoding="utf-8")
        st = post.studies_table()
        post.evidence.table.merge(st[["study", "shrunken_hr", "shrunken_low", "shrunken_high"]], on="study",
                                  how="left").to_csv(tmp / "studies.csv", index=False)
    return rep


class DiagnosticsFailed(RuntimeError):
    def __init__(self, diagnostics):
        self.diagnostics = diagnostics
        super().__init__("MCMC diagnostics failed: " + "; ".join(diagnostics.get("problems", [])))
