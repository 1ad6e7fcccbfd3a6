"""Arm-level analyses (case series and cohorts in one model): read the spec, fit the
arm-level model with and without the single-arm series, and write the report.

A spec for an arm-level analysis is an ordinary spec (`[data]`, `[model]`, `[priors]`,
`[report]`, `[mcmc]`) whose data hold arm rows (`bayesnet.evidence.arms`), plus

    [bias.by.design]                       # required when the data hold single-arm series
    case_series = { mu = -0.2, sigma = 0.3 }
    [arm_model]                            # optional priors of the baseline model
    baseline_mean = { dist = "normal", mu = 0.0, sigma = 2.0 }   # mean of ln(-ln S) without treatment
    baseline_sd = { dist = "half_normal", sigma = 1.0 }          # between-study SD of baselines
    time_slope = { dist = "normal", mu = 1.0, sigma = 0.5 }      # Weibull shape (time points differ)

The model and its assumptions are in `bayesnet.engines.arms`.
"""

from __future__ import annotations

import copy
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SpecError
from .evidence.conversions import interval_tails
from .priors import parse_prior
from .validate import Problems

__all__ = ["ArmAnalysis", "arm_summary", "fit_arm_analysis", "is_arm_spec", "parse_bias_table", "read_arm_spec",
           "write_arm_report"]


@dataclass
class ArmAnalysis:
    spec: object                      # the ordinary Spec (without [bias]/[arm_model])
    bias: dict                        # parsed [bias]
    arm_priors: dict                  # parsed [arm_model]
    raw: dict = field(default_factory=dict)
    path: Path | None = None


def _raw(spec_path) -> tuple[dict, Path | None]:
    if isinstance(spec_path, dict):
        return copy.deepcopy(spec_path), None
    p = Path(spec_path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8")), p
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{p}: not valid TOML: {exc}") from None


def is_arm_spec(spec_path) -> bool:
    """True when the spec's data are arm rows (a shipped arm dataset, or a CSV whose
    header has `arm` and `surv`)."""
    raw, p = _raw(spec_path)
    d = raw.get("data", {})
    if d.get("dataset") in ARM_DATASETS:
        return True
    if isinstance(d.get("path"), str) and p is not None:
        f = (p.parent / d["path"]) if not Path(d["path"]).is_absolute() else Path(d["path"])
        try:
            if not f.is_file():
                return False
            with f.open("rb") as fh:  # a bounded read: never a device or a huge line
                head = fh.read(65536).decode("utf-8-sig", errors="replace").splitlines()[:1]
            head = head[0].lower() if head else ""
        except OSError:
            return False
        cols = {c.strip() for c in head.split(",")}
        return {"arm", "surv"} <= cols
    return False


ARM_DATASETS = {"liver_resection_arms"}


def parse_bias_table(raw: dict | None, where: str = "spec") -> dict:
    """The [bias] priors of an arm-level spec on the log-HR scale, as the arm-level engine
    takes them: {"common": (mu, sigma) | None, "by": {column: {level: (mu, sigma)}}}; the
    table is checked by `bayesnet.bias.parse_bias` (every problem in one SpecError)."""
    from .bias import parse_bias

    b = parse_bias(raw or {}, where)
    return {"common": None if b.common is None else (b.common.mu, b.common.sigma),
            "by": {str(c): {str(lv): (p.mu, p.sigma) for lv, p in levels.items()} for c, levels in b.by.items()}}


def read_arm_spec(spec_path) -> ArmAnalysis:
    """Parse an arm-level spec; every problem of [bias] and [arm_model] in one SpecError."""
    from .engines.arms import DEFAULT_ARM_PRIORS
    from .spec import spec_from_dict

    raw, p = _raw(spec_path)
    bias_raw = raw.pop("bias", None)
    arm_raw = raw.pop("arm_model", {}) or {}
    P = Problems(where=str(p) if p is not None else "")
    bias = P.run(parse_bias_table, bias_raw)
    arm_priors = dict(DEFAULT_ARM_PRIORS)
    kinds = {"baseline_mean": "effect", "baseline_sd": "scale", "time_slope": "effect"}
    if P.table("arm_model", arm_raw, '{ baseline_sd = { dist = "half_normal", sigma = 1.0 } }'):
        P.keys("arm_model", arm_raw, kinds, shown=", ".join(kinds))
        for k, v in arm_raw.items():
            if k in kinds:
                pr = P.run(parse_prior, v, f"[arm_model].{k}", kinds[k])
                if pr is not None:
                    arm_priors[k] = pr
    data = raw.get("data", {})
    spec = P.run(spec_from_dict, raw, p) if p is not None else P.run(spec_from_dict, raw)
    P.raise_if_any()
    return ArmAnalysis(spec=spec, bias=bias, arm_priors=arm_priors, raw={**raw, "data": data}, path=p)


def _arm_rows(an: ArmAnalysis):
    """(arm rows, HR rows or None, source, sha256 of the input). A table may mix HR rows
    and arm rows (a study is one or the other: `bayesnet.evidence.arms.split_mixed`)."""
    from .evidence.arms import derive_arms, split_mixed

    d = an.raw.get("data", {})
    if d.get("dataset") in ARM_DATASETS:
        from . import datasets

        f = Path(datasets.path(d["dataset"]))
        src = d["dataset"]
    else:
        f = Path(d["path"])
        f = f if f.is_absolute() or an.path is None else an.path.parent / f
        src = str(d["path"])
    from .evidence.reading import read_table

    raw, _notes = read_table(f, source=src)  # safe reading; `_row` = the file's data row
    raw.columns = [str(c).strip() for c in raw.columns]
    if "study" not in raw.columns and "study_id" in raw.columns:
        raw["study"] = raw["study_id"]
    hr_rows, arm_rows = split_mixed(raw, src)

    def keep(t):
        if d.get("include"):
            t = t[t["study"].isin(d["include"])]
        if d.get("exclude"):
            t = t[~t["study"].isin(d["exclude"])]
        return t.reset_index(drop=True)

    arms = keep(derive_arms(arm_rows.reset_index(drop=True), source=src).table)
    hr = None
    if len(hr_rows):
        from .evidence import derive

        hr_in = hr_rows.drop(columns=[c for c in ("arm", "treated", "surv", "surv_time_years")
                                      if c in hr_rows.columns]).reset_index(drop=True)
        hr = keep(derive(hr_in, source=src).table)
    return arms, hr, src, hashlib.sha256(f.read_bytes()).hexdigest()


def _priors(spec) -> dict:
    pr = spec.priors.top()
    pr.update(spec.priors.coef)
    return pr


def _fit(an, table, seed=None, progress=False, subset=False, hr=None):
    from .engines.arms import build_arm_model_data, fit_arms

    spec = an.spec
    bias = an.bias
    if subset:  # leave-design-out: the bias levels of the left-out design are absent
        bias = {"common": bias["common"],
                "by": {c: {lv: v for lv, v in levels.items() if c in table.columns and (table[c].astype(str) == lv).any()}
                       for c, levels in bias["by"].items()}}
    md = build_arm_model_data(hr, table, covariates=list(spec.model.covariates),
                              reference=dict(spec.model.reference), bias=bias)
    mc = spec.mcmc
    return fit_arms(md, _priors(spec), an.arm_priors, random=spec.model.effects == "random",
                    seed=int(mc.seed if seed is None else seed), chains=mc.chains, draws=mc.draws,
                    tune=mc.tune, target_accept=mc.target_accept, progress=progress, spec=spec)


def fit_arm_analysis(spec_path, seed: int | None = None, progress: bool = False) -> dict:
    """Fit the arm-level model on all studies and, when there are single-arm series, on
    the comparative studies alone (leave-design-out). Returns a dict: analysis, table,
    fits {"all": Posterior, "without_case_series": Posterior | None}, source, input_sha256."""
    an = read_arm_spec(spec_path)
    table, hr, src, sha = _arm_rows(an)
    fits = {"all": _fit(an, table, seed, progress, hr=hr)}
    single = table["n_arms"] == 1
    fits["without_case_series"] = _fit(an, table[~single].reset_index(drop=True), seed, progress, subset=True, hr=hr) \
        if single.any() and ((~single).any() or hr is not None) else None
    return {"analysis": an, "table": table, "hr_table": hr, "fits": fits, "source": src, "input_sha256": sha}


# ----------------------------------------------------------------------------- summary

def arm_summary(post, thresholds=(1.0, 0.8), harm: float = 1.25, ci_prob: float = 0.95) -> dict:
    """The headline of an arm-level fit (a Posterior of `bayesnet.engines.arms.fit_arms`) in
    summary.json's schema: pooled, predictive and tau on the log-HR and HR scales, the
    probabilities of HR below each threshold and above `harm`, diagnostics, design counts
    and the bias assumptions; intervals with probability `ci_prob`."""
    from .summaries import S, prob_block

    md = post.model_data
    mg = post.marginals
    both = lambda m: {"log_hr": S(m, "log", ci_prob), "hr": S(m, "hr", ci_prob)}  # noqa: E731
    out = {"engine": post.engine, "k": md.k, "status": "ok" if post.ok else "failed_diagnostics",
           "designs": {d: md.design.count(d) for d in ("hr", "comparative", "case_series")},
           "pooled": both(mg[("pooled",)]), "predictive": both(mg[("predictive",)]),
           "prob": {"pooled": prob_block(mg[("pooled",)], thresholds, harm),
                    "predictive": prob_block(mg[("predictive",)], thresholds, harm)},
           "bias_assumptions": md.bias_text, "diagnostics": post.diagnostics}
    if ("tau",) in mg:
        out["tau"] = S(mg[("tau",)], "log", ci_prob)
    return out


def _summary(res, ci_prob: float = 0.95) -> dict:
    from .provenance import created_timestamp, package_versions, portable_path

    an, t = res["analysis"], res["table"]
    th, harm = an.spec.thresholds, an.spec.harm
    out = {"model": "arm-level survival synthesis (bayesnet.engines.arms)"}
    out["with_case_series"] = arm_summary(res["fits"]["all"], th, harm, ci_prob)
    wo = res["fits"]["without_case_series"]
    out["without_case_series"] = arm_summary(wo, th, harm, ci_prob) if wo is not None else None
    out["status"] = "ok" if all(f is None or f.ok for f in res["fits"].values()) else "failed_diagnostics"
    post = res["fits"]["all"]
    md = post.model_data
    lo_hi = lambda m: [float(np.exp(q)) for q in m.quantile(interval_tails(ci_prob))]  # noqa: E731
    studies = []
    for st, design in zip(md.studies, md.design):
        g = t[t["study"] == st]
        m = post[("study", st)]
        label = str(g["label"].iloc[0]) if ("label" in g and len(g)) else st
        studies.append({"study": st, "label": label, "design": design if design != "hr" else "hazard ratio",
                        "arms": len(g), "time_years": float(g["surv_time_years"].iloc[0]) if len(g) else None,
                        "shrunken_hr": float(np.exp(m.quantile([0.5])[0])), "shrunken_ci95": lo_hi(m)})
    out["studies"] = studies
    out["bias_prior"] = {"by": {c: {lv: {"mu": a, "sigma": b} for lv, (a, b) in levels.items()}
                                for c, levels in an.bias["by"].items()},
                         "common": None if an.bias["common"] is None else dict(zip(("mu", "sigma"), an.bias["common"]))}
    out["baseline_priors"] = {k: p.describe() for k, p in an.arm_priors.items()}
    out["provenance"] = {"source": res["source"], "input_file_sha256": res["input_sha256"],
                         "data_sha256": hashlib.sha256(t.to_csv(index=False).encode()).hexdigest(),
                         "spec": res["analysis"].raw, "seed": post.seed, "engine": post.engine,
                         "spec_path": portable_path(an.path) if an.path else None,
                         "versions": package_versions(), "created": created_timestamp()}
    return out


# ----------------------------------------------------------------------------- figure

def arm_forest(table: pd.DataFrame, path_stem: Path) -> list[Path]:
    """Survival at t per arm (point and 95% CI from the delta method on ln(-ln S)),
    grouped by design; treated arms filled, comparator arms open."""
    from . import plots  # the house style: Agg backend, deterministic SVG ids, no dates in files

    plt = plots.plt
    t = table.copy()
    t["design_"] = np.where(t["n_arms"] == 1, "case series", "comparative")
    t = t.sort_values(["design_", "study", "treated"], ascending=[True, True, False])
    lo = np.exp(-np.exp(t["L"] + 1.96 * np.sqrt(t["v"])))
    hi = np.exp(-np.exp(t["L"] - 1.96 * np.sqrt(t["v"])))
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(t) + 1.5))
    y = np.arange(len(t))[::-1]
    for yi, (_, r), a, b in zip(y, t.iterrows(), lo, hi):
        color = "#1f5fa8" if r["design_"] == "comparative" else "#b5541b"
        ax.plot([a, b], [yi, yi], color=color, lw=1.5)
        ax.plot(r["surv"], yi, "o", color=color, mfc=color if r["treated"] else "white", ms=6)
    labels = [plots._tx(f"{r['label'] if 'label' in t else r['study']} - {str(r['arm']).replace('_', ' ')} "
                        f"({r['surv_time_years']:g} y, n={r['n']:.0f})")
              for _, r in t.iterrows()]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_xlabel("proportion alive at the time point (95% CI)")
    ax.set_title("Survival per arm: filled = resection, open = comparator;\nblue = comparative study, orange = case series",
                 fontsize=9)
    fig.tight_layout()
    out = plots.save(fig, path_stem)
    plt.close(fig)
    return out


# ----------------------------------------------------------------------------- report

def _md(s) -> str:
    """Escape text from user data for Markdown tables and paragraphs (the arm-level
    report's rule, `bayesnet.report.render.md_escape_all`)."""
    from .report.render import md_escape_all

    return md_escape_all(s)


def _blocks(summary: dict, an: ArmAnalysis) -> list:
    """The arm-level report as content blocks (`bayesnet.report.blocks`)."""
    from . import format as fmt
    from .report.blocks import Figure, Heading, Paragraph, Table

    def _cri(S):  # "0.67 (95% CrI 0.41 to 0.93)"
        return fmt.hr_cri(S["median"], S["ci95"])

    w, wo = summary["with_case_series"], summary["without_case_series"]
    title = an.spec.report.title or "Case series and cohorts in one model"
    b = [Heading(1, title)]
    if summary["status"] != "ok":
        b.append(Paragraph("WARNING: the MCMC diagnostics of at least one fit failed; the numbers below are not "
                           "reliable: " + "; ".join(w["diagnostics"]["problems"] + ((wo or {}).get("diagnostics", {}).get("problems", []) if wo else []))))
    q = an.spec.report.question
    if q:
        b.append(Paragraph(f"Question: {q}"))
    d = w["designs"]
    b.append(Paragraph((f"{d['hr']} studies reported as hazard ratios, " if d.get("hr") else "") +
                       f"{d['comparative']} comparative studies (arms with and without the treatment) and "
                       f"{d['case_series']} single-arm case series (treated patients only) enter one model of survival "
                       "on the log cumulative hazard scale. Comparative studies inform the hazard ratio directly; a case "
                       "series informs it only through two assumptions: that its patients' survival without treatment "
                       "would have resembled the comparative studies' untreated arms, and the selection bias stated "
                       "below. Both are assumptions, not estimates from the data."))
    if not summary["bias_prior"]["common"]:
        b.append(Paragraph("Read every probability below with this in mind: the comparative studies are observational "
                           "too. Patients selected for resection are usually fitter (confounding by indication), which "
                           "makes resection look better than it is in every such study; no bias prior for this is stated "
                           "in this analysis, so the probabilities assume the comparative studies are unbiased. Add [bias] "
                           "common = { mu, sigma } to see how much such a bias would change them."))
    else:
        c = summary["bias_prior"]["common"]
        b.append(Paragraph(f"Every probability below assumes a bias shared by all studies (confounding by indication): "
                           f"reported HR / true HR centred at {math.exp(c['mu']):.2f} (log-scale SD {c['sigma']:g}). This is "
                           f"an assumption stated by the analyst, not estimated from the data."))
    b.append(Heading(2, "Pooled hazard ratio with and without the case series"))
    rows = [["with case series", str(w["k"]), _cri(w["pooled"]["hr"]), _cri(w["predictive"]["hr"])]
            + [fmt.p(w["prob"]["pooled"][k]) for k in w["prob"]["pooled"]]]
    if wo:
        rows.append(["comparative studies only", str(wo["k"]), _cri(wo["pooled"]["hr"]), _cri(wo["predictive"]["hr"])]
                    + [fmt.p(wo["prob"]["pooled"][k]) for k in wo["prob"]["pooled"]])
    header = ["analysis", "studies", "pooled HR", "HR in a new study"] + \
             [fmt.prob_label(k) for k in w["prob"]["pooled"]]
    b.append(Table(header, rows, "HR < 1: lower risk of death with resection. Pooled = mean effect; a new "
                                 "study = the effect expected in a new setting (predictive)."))
    if wo:
        diff = w["pooled"]["log_hr"]["median"] - wo["pooled"]["log_hr"]["median"]
        b.append(Paragraph(f"Adding the case series changes the pooled HR by a factor of {math.exp(diff):.2f}. "
                           + ("They barely move it: under the stated bias prior they carry little information on the "
                              "treatment effect." if abs(diff) < 0.05 else
                              "The change rests on the bias prior below: a different prior gives a different answer.")))
    b.append(Heading(2, "Assumed selection bias (a prior, not estimated from the data)"))
    lines = []
    for col, levels in summary["bias_prior"]["by"].items():
        for lv, v in levels.items():
            lines.append(f"Studies with {col} = {lv}: each has its own bias on the log-HR scale drawn from "
                         f"N({v['mu']:g}, {v['sigma']:g}^2), i.e. a typical exaggeration of the benefit by a factor "
                         f"of {math.exp(v['mu']):.2f} (reported HR / true HR).")
    if summary["bias_prior"]["common"]:
        c = summary["bias_prior"]["common"]
        lines.append(f"Every study: a shared bias N({c['mu']:g}, {c['sigma']:g}^2).")
    b += [Paragraph(x) for x in lines or ["No bias prior: only comparative studies."]]

    b.append(Paragraph("Baseline model: " + "; ".join(f"{k} ~ {v}" for k, v in summary["baseline_priors"].items()) + "."))
    b.append(Heading(2, "Studies"))
    b.append(Table(["study", "design", "arms", "time (years)", "model HR (95% CrI)"],
                   [[s["label"], s["design"].replace("_", " "), str(s["arms"]), "" if s["time_years"] is None else f"{s['time_years']:g}",
                     fmt.hr_cri(s["shrunken_hr"], s["shrunken_ci95"], label="")]
                    for s in summary["studies"]],
                   "Model HR: the study's hazard ratio under the model (shrunk towards the pooled effect); for a case "
                   "series it is implied by the baseline model and the bias prior."))
    b.append(Figure("arm_forest", "Survival at the reported time point, per arm."))
    b.append(Paragraph("Diagnostics: " + ("passed" if summary["status"] == "ok" else "FAILED") +
                       f" (R-hat <= 1.01, ESS >= 400, no divergences). Seed {summary['provenance']['seed']}; "
                       f"data sha256 {summary['provenance']['data_sha256'][:12]}."))
    return b


def _render_md(blocks, figures: dict | None = None) -> str:
    """report.md: the shared Markdown renderer in the arm-level layout (captions under the
    tables, figures linked as SVG)."""
    from .report.render import ARM_MD, render_markdown

    return render_markdown(blocks, figures, style=ARM_MD)


def _render_html(blocks, figdir: Path) -> str:
    """report.html: the panel report's template (autoescaped), figures read from
    figdir/<key>.png."""
    from .report.blocks import Figure
    from .report.render import render_html

    figs = {b.key: Path(figdir) / f"{b.key}.png" for b in blocks if isinstance(b, Figure)}
    return render_html(blocks, figs)


def write_arm_report(spec_path, out: str | Path, seed: int | None = None, progress: bool = False,
                     allow_failed_diagnostics: bool = False) -> Path:
    """Fit and write the arm-level report into `out` atomically (summary.json, arms.csv,
    report.md, report.html, figures/). Raises DiagnosticsFailed when a fit fails its gate,
    unless `allow_failed_diagnostics`. Returns the output path."""
    from .api import to_json
    from .errors import DiagnosticsFailed
    from .io import atomic_directory, write_csv

    res = fit_arm_analysis(spec_path, seed=seed, progress=progress)
    summary = _summary(res)
    if summary["status"] != "ok" and not allow_failed_diagnostics:
        bad = [f for f in res["fits"].values() if f is not None and not f.ok][0]
        raise DiagnosticsFailed(bad.diagnostics)
    out = Path(out)
    with atomic_directory(out) as tmp:
        (tmp / "figures").mkdir()
        arm_forest(res["table"], tmp / "figures" / "arm_forest")
        (tmp / "summary.json").write_text(to_json(summary), encoding="utf-8")
        write_csv(res["table"].drop(columns=["_row"], errors="ignore"), tmp / "arms.csv")
        blocks = _blocks(summary, res["analysis"])
        (tmp / "report.md").write_text(_render_md(blocks), encoding="utf-8")
        (tmp / "report.html").write_text(_render_html(blocks, tmp / "figures"), encoding="utf-8")
    return out
