"""Report blocks for the headline under other stated assumptions (``[report] scenarios``,
e.g. a pessimistic common-bias prior) and for published pooled results the report relates
its answer to (``[report] published``). Every number is read from the report dict
(summary.json: "scenarios", "published_comparison"); the text is plain."""

from __future__ import annotations

from .. import format as fmt
from .blocks import Block, Paragraph, Table

__all__ = ["published_blocks", "scenario_blocks"]


def _headline_label(rep: dict) -> str:
    c = [a for a in rep.get("bias_assumptions") or [] if a.startswith("Every study")]
    return "this analysis (headline)" + (": shared bias, " + c[0].split(": ", 1)[-1].split(";")[0] if c else "")


def scenario_blocks(rep: dict) -> list[Block]:
    """A table: the headline and each scenario's headline, side by side (pooled HR and 95%
    CrI, the 95% predictive interval, P(HR < t)); the analysis as reported is in the
    headline table."""
    sc = rep.get("scenarios") or []
    if not sc:
        return []
    keys = list(rep["prob"]["pooled"])

    def row(name, s):
        p, pr = s["pooled"]["hr"], s["predictive"]["hr"]
        return [name, fmt.hr(p["median"]), fmt.ci(p["ci95"]), fmt.ci(pr["ci95"])] + \
            [fmt.p(s["prob"]["pooled"][k]) for k in keys]

    rows = [row(_headline_label(rep), rep)]  # the as-reported rows are in the headline table above
    rows += [row(f"scenario {s['name']}: {s['label']}", s) for s in sc]
    return [Table(["analysis", "pooled HR", "95% CrI", "95% predictive interval (new study)"] +
                  [fmt.prob_label(k) for k in keys], rows,
                  "The headline under other stated assumptions: the same studies and model, other bias priors "
                  "(each computed exactly; the scenario specs are named in the first column)"),
            Paragraph("Which bias prior is right cannot be learnt from these studies; the rows show how far the answer "
                      "depends on it. Where each scenario's bias assumptions differ from the headline's: " +
                      " ".join(f"{s['name']}: " + (" ".join(a for a in s["bias_assumptions"]
                                                            if a not in (rep.get("bias_assumptions") or []))
                                                   or "none") for s in sc))]


def published_blocks(rep: dict) -> list[Block]:
    """Each published pooled result of ``[report] published`` beside this analysis and
    the frequentist comparator on the same rows, with the note on what differs."""
    out: list[Block] = []
    for c in rep.get("published_comparison") or []:
        pub = c["published"]
        txt = (f"{pub['label']} reported a pooled HR of {fmt.hr(pub['hr'])} ({fmt.ci(pub['ci95'])})"
               + (" (inverted here: the paper reports control vs treated)" if pub.get("inverted") else "")
               + (f" from {pub['n_studies']} studies" if pub.get("n_studies") else "")
               + (f" (model: {pub['model']})" if pub.get("model") else "") + ". ")
        ours = c.get("reml")
        if ours:
            txt += (f"REML on this report's {rep['k']} rows gives {fmt.hr(ours['hr'])} ({fmt.ci(ours['hr_ci'])}, Wald; "
                    f"{fmt.ci(ours['hr_ci_kh'])} Knapp-Hartung)")
        u = (rep.get("unadjusted") or rep)["pooled"]["hr"]
        txt += (f"; the Bayesian random-effects HR as reported is {fmt.hr(u['median'])} ({fmt.ci(u['ci95'])})")
        if rep.get("unadjusted"):
            txt += f", and {fmt.hr(rep['pooled']['hr']['median'])} ({fmt.ci(rep['pooled']['hr']['ci95'])}) under the stated bias"
        txt += ". "
        if c.get("width_ratio"):
            txt += (f"The point estimates are close, but the published interval is {c['width_ratio']:.1f} times "
                    f"narrower on the log scale than REML's on these rows. ")
        if pub.get("note"):
            txt += pub["note"]
        out.append(Paragraph(txt.strip()))
    return out
