"""The GRADE Summary-of-Findings table (as GRADEpro prints it; Guyatt GH et al. 2011, GRADE
guidelines 12 and 13, J Clin Epidemiol 66:158-72 and 173-83): the outcome, the number of
participants and studies, the relative effect (HR with its 95% credible interval, as
reported and under the stated bias assumptions, plus any shipped bias scenarios), the
absolute effects per 1000 at each baseline of ``[[absolute]]``, the certainty draft, and a
footnote per downgrade.

`summary_of_findings` computes the summary.json block ``summary_of_findings`` from the
report dict (and, for the as-reported absolute effects, the posterior of the analysis as
reported); `sof_blocks` turns that block into report blocks. Every number is read from the
block; the text is plain (escaped by the renderers)."""

from __future__ import annotations

import math

from .. import format as fmt
from .blocks import Block, Heading, Notes, Paragraph, Table

__all__ = ["CERTAINTY_SYMBOLS", "participants", "sof_blocks", "summary_of_findings"]

# GRADE's certainty symbols (GRADEpro): filled circles for the level reached
CERTAINTY_SYMBOLS = {"high": "\u2295\u2295\u2295\u2295", "moderate": "\u2295\u2295\u2295\u25ef",
                     "low": "\u2295\u2295\u25ef\u25ef", "very low": "\u2295\u25ef\u25ef\u25ef"}
DOMAIN_NAMES = {"risk_of_bias": "Risk of bias", "inconsistency": "Inconsistency", "indirectness": "Indirectness",
                "imprecision": "Imprecision", "publication_bias": "Publication bias"}


def _num(v):
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x >= 0 else None


def participants(table) -> dict:
    """Participants of the analysed studies from the evidence table: `n_total` where given,
    else n_treated + n_control. Returns {"n": total over the studies that give it (None if
    none does), "studies_with_n", "studies_without_n": [study ids]}."""
    out = {"n": None, "studies_with_n": 0, "studies_without_n": []}
    if table is None:
        return out
    cols = set(table.columns)
    total = 0
    for i, sid in enumerate(table["study"].astype(str)):
        row = table.iloc[i]
        n = _num(row["n_total"]) if "n_total" in cols else None
        if n is None and {"n_treated", "n_control"} <= cols:
            a, b = _num(row["n_treated"]), _num(row["n_control"])
            n = a + b if a is not None and b is not None else None
        if n is None and "arms" in cols and isinstance(row["arms"], list) and row["arms"]:  # arm rows: sum the arms
            ns = [_num(a.get("n")) for a in row["arms"]]
            n = sum(ns) if all(v is not None for v in ns) else None
        if n is None:
            out["studies_without_n"].append(sid)
        else:
            total += n
            out["studies_with_n"] += 1
    out["n"] = int(round(total)) if out["studies_with_n"] else None
    return out


def _hr_block(summary: dict) -> dict:
    h = summary["pooled"]["hr"]
    return {"hr": h["median"], "ci95": list(h["ci95"])}


def _abs_row(r: dict) -> dict:
    ts, d = r["treated_survival"], r["difference_per_1000"]
    return {"treated_per_1000": 1000 * ts["median"], "treated_per_1000_ci95": [1000 * x for x in ts["ci95"]],
            "difference_per_1000": d["median"], "difference_per_1000_ci95": list(d["ci95"])}


def summary_of_findings(rep: dict, as_reported=None, table=None, ci_prob: float = 0.95) -> dict | None:
    """The ``summary_of_findings`` block of summary.json, or None without a GRADE draft.

    rep: the report dict (summary.json: pooled, unadjusted, absolute, grade_draft,
    scenarios); as_reported: the Posterior of the analysis as reported (for its absolute
    effects at the same baselines; None when the headline is already as reported);
    table: the evidence table (participants). Keys: outcome, treatment, comparator,
    studies, participants, design, relative_effect {as_reported, under_stated_bias (None
    without [bias]), scenarios: [{name, label, hr, ci95}]}, absolute: [{label,
    time_years, baseline_per_1000, as_reported, under_stated_bias}], certainty,
    certainty_symbols, footnotes: [{mark, domain, concern, downgrade, text}]."""
    g = rep.get("grade_draft")
    if not g:
        return None
    has_bias = bool(rep.get("unadjusted"))
    reported = rep["unadjusted"] if has_bias else rep
    rel = {"as_reported": _hr_block(reported),
           "under_stated_bias": {**_hr_block(rep), "label": rep.get("bias_label")} if has_bias else None,
           "scenarios": [{"name": s["name"], "label": s.get("short_label") or s.get("label") or s["name"],
                          "hr": s["pooled"]["hr"]["median"], "ci95": list(s["pooled"]["hr"]["ci95"])}
                         for s in rep.get("scenarios") or []]}
    absolute = []
    if rep.get("absolute"):
        reported_rows = None
        if has_bias and as_reported is not None:
            from ..absolute import absolute_effects

            spec = as_reported.spec
            reported_rows = absolute_effects(as_reported, list(spec.absolute), ci_prob=ci_prob)
        for i, r in enumerate(rep["absolute"]):
            row = {"label": r["label"], "time_years": r["time_years"],
                   "baseline_per_1000": 1000 * r["baseline_survival"]}
            if has_bias:
                row["under_stated_bias"] = _abs_row(r)
                row["as_reported"] = _abs_row(reported_rows[i]) if reported_rows else None
            else:
                row["as_reported"], row["under_stated_bias"] = _abs_row(r), None
            absolute.append(row)
    footnotes, marks = [], iter("abcdefghijklmnopqrstuvwxyz")
    for name, d in g["domains"].items():
        if d["concern"] == "not serious":
            continue
        text = d["sentence"]
        prefix = DOMAIN_NAMES.get(name, "") + ": "
        if text.startswith(prefix):  # the footnote names the domain itself
            text = text[len(prefix):]
        footnotes.append({"mark": next(marks), "domain": name, "concern": d["concern"],
                          "downgrade": d["concern"] == "serious", "text": text[:1].upper() + text[1:]})
    certainty = g["overall"]["certainty"]
    k = rep["k"]
    return {"outcome": rep.get("outcome") or "the outcome as the studies report it",
            "treatment": rep.get("treatment") or "the treatment", "comparator": rep.get("comparator"),
            "studies": k, "participants": participants(table),
            "design": ("observational studies" if g.get("start") == "low" else "randomised trials"),
            "relative_effect": rel, "absolute": absolute, "certainty": certainty,
            "certainty_symbols": CERTAINTY_SYMBOLS.get(certainty, ""), "basis": g.get("basis"),
            "footnotes": footnotes}


def _hr_cell(v: dict | None, what: str) -> str:
    return "" if not v else f"HR {fmt.hr(v['hr'])} ({fmt.ci(v['ci95'])}) {what}"


def _n(x) -> int:
    return int(round(x))


def _more(x) -> str:
    n = _n(x)
    return "0 more" if n == 0 else (f"{abs(n)} more" if n > 0 else f"{abs(n)} fewer")


def _treated(a: dict | None, what: str) -> str:
    if not a:
        return ""
    lo, hi = a["treated_per_1000_ci95"]
    return f"{_n(a['treated_per_1000'])} per 1000 ({_n(lo)} to {_n(hi)}) {what}"


def _diff(a: dict | None, what: str) -> str:
    if not a:
        return ""
    lo, hi = a["difference_per_1000_ci95"]
    return f"{_more(a['difference_per_1000'])} per 1000 ({_more(lo)} to {_more(hi)}) {what}"


def sof_blocks(rep: dict) -> list[Block]:
    """The Summary-of-Findings section (heading, table, footnotes) from summary.json's
    ``summary_of_findings`` block; nothing when the report has none."""
    s = rep.get("summary_of_findings")
    if not s:
        return []
    tr = s["treatment"]
    des = s["design"] if s["studies"] != 1 else s["design"].replace("studies", "study").replace("trials", "trial")
    b: list[Block] = [Heading(2, "0. Summary of findings")]
    q = rep.get("question") or ""
    b.append(Paragraph((q + " " if q else "") + f"{tr[:1].upper() + tr[1:]} compared with "
                       f"{s.get('comparator') or 'not receiving it'}; evidence from {s['studies']} {des}. "
                       f"HR below 1 favours {tr}."))
    p = s["participants"]
    part = (f"{p['n']:,} ({s['studies']} {des})" if p["n"] is not None else f"not reported ({s['studies']} "
            f"{des})")
    if p["n"] is not None and p["studies_without_n"]:
        part += f"; {len(p['studies_without_n'])} without a patient count"
    rel = s["relative_effect"]
    has_bias = rel["under_stated_bias"] is not None
    rel_cell = "; ".join(x for x in (
        _hr_cell(rel["as_reported"], "as reported"),
        _hr_cell(rel["under_stated_bias"], "under the stated bias" + (
            f" ({rel['under_stated_bias']['label']})" if rel["under_stated_bias"] and
            rel["under_stated_bias"].get("label") else "")),
        *(_hr_cell(sc, f"under scenario {sc['name']} ({sc['label']})") for sc in rel["scenarios"])) if x)
    marks = ",".join(f["mark"] for f in s["footnotes"])
    cert = f"{s['certainty_symbols']} {s['certainty'].upper()} (draft)" + (f" {marks}" if marks else "")
    both = ("as reported", "under the stated bias") if has_bias else ("", "")
    rows = []
    absr = s["absolute"] or [None]
    for i, a in enumerate(absr):
        first = i == 0
        if a is None:
            base = with_ = diff = "no baseline given ([[absolute]] in the spec)"
        else:
            base = f"{_n(a['baseline_per_1000'])} per 1000 alive at {a['time_years']:g} years ({a['label']})"
            with_ = "; ".join(x for x in (_treated(a["as_reported"], both[0]),
                                          _treated(a["under_stated_bias"], both[1])) if x).strip()
            diff = "; ".join(x for x in (_diff(a["as_reported"], both[0]),
                                         _diff(a["under_stated_bias"], both[1])) if x).strip()
        rows.append([s["outcome"] if first else "", part if first else "", rel_cell if first else "",
                     base, with_, diff, cert if first else ""])
    b.append(Table(["Outcome", "Participants (studies)", "Relative effect (95% CrI)",
                    f"Without {tr}", f"With {tr} (95% CrI)", "Difference, alive (95% CrI)",
                    "Certainty of the evidence (GRADE)"], rows,
                   f"Summary of findings: {tr} compared with {s.get('comparator') or 'not receiving it'}"))
    notes = [f"{s['basis']}"] if s.get("basis") else []
    if s.get("absolute"):  # only when [[absolute]] baselines were given
        notes.append("Absolute effects: people alive per 1000 at the time point, S_with = S_without^HR under "
                     "proportional hazards, over the whole posterior of the pooled HR; the baselines are untreated "
                     "patients of other studies, named in the column.")
    for f in s["footnotes"]:
        how = ("rated down one level" if f["downgrade"] else f"not rated down ({f['concern']})")
        notes.append(f"{f['mark']}. {DOMAIN_NAMES.get(f['domain'], f['domain'])}, {how}: {f['text']}")
    b.append(Notes(notes))
    return b
