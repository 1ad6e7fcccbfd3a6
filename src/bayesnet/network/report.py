"""The report of a network meta-analysis: report.md, report.html (self-contained, user
text escaped) and figures/ (network, forest against the comparator, rankograms)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from .. import format as fmt
from .summary import RANKING_CAUTION, league_table

__all__ = ["network_markdown", "node_split_sentence", "write_network_report"]


def node_split_sentence(rows: list[dict]) -> str:
    """One plain sentence on the node-split checks."""
    if not rows:
        return ("No comparison has both direct and indirect evidence, so direct and indirect evidence could not be "
                "compared (node-splitting needs a closed loop outside any single multi-arm study).")
    flagged = [r for r in rows if r["p_value"] < 0.05]
    if not flagged:
        return (f"For none of the {len(rows)} comparisons with both direct and indirect evidence did the two "
                f"disagree clearly (every two-sided p >= 0.05); with few studies this check has little power, so "
                f"agreement is not proof of consistency.")
    names = ", ".join(f"{r['treatment']} vs {r['comparator']} (p = {r['p_value']:.3f})" for r in flagged)
    return (f"Direct and indirect evidence disagree for {names}: the network's estimates that rely on these loops "
            f"combine evidence that does not agree, and should be read with that in mind.")


def _md_table(header, rows) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def network_markdown(post, summary: dict, figures: dict[str, str]) -> str:
    n = summary["network"]
    ref = n["reference"]
    spec = post.spec
    comp = (getattr(post.nspec, "comparator", None) or ref)
    th = list(spec.thresholds) if spec is not None else [1.0]
    ci = fmt.cri_label(n["ci_prob"]).strip()
    title = (spec.report.title if spec is not None and spec.report.title else "Network meta-analysis")
    lines = [f"# {title}", ""]
    lines += [f"{n['k']} studies ({len(n['multi_arm_studies'])} with more than two arms) compare "
              f"{len(n['treatments'])} treatments: {', '.join(n['treatments'])}. Reference: {ref}. "
              f"Model: {n['model']}; {post.engine} engine. A hazard ratio (HR) below 1 favours the first-named "
              f"treatment. Every estimate assumes the studies are unbiased and that direct and indirect evidence "
              f"agree (consistency).", ""]
    if n.get("tau"):
        t = n["tau"]
        lines += [f"Between-study SD of log-HRs (tau): {fmt.hr(t['median'], 2)} ({ci} {fmt.ci(t['ci95'])}).", ""]
    lines += ["## The network", "", f"![network]({figures['network']})", ""]
    lines += ["## League table", "",
              f"Each cell is the HR of the row treatment versus the column treatment (median, {ci}); "
              f"treatments ordered by SUCRA.", ""]
    lt = league_table(post, n["ci_prob"])
    lines += [_md_table(["", *lt.columns], [[i, *r] for i, r in zip(lt.index, lt.values.tolist(), strict=True)]), ""]
    lines += [f"## Every treatment against {comp}", "", f"![forest]({figures['forest']})", ""]
    rows = []
    for t in n["treatments"]:
        if t == comp:
            continue
        c = n["contrasts"][f"{t}:{comp}"]
        probs = [fmt.p(c["prob"][fmt.prob_key(x)]) for x in th]
        rows.append([f"{t} vs {comp}", f"{fmt.hr(c['hr']['median'])} ({fmt.ci(c['hr']['ci95'])})",
                     fmt.ci(c["predictive"]["hr"]["ci95"]), *probs])
    lines += [_md_table(["comparison", f"HR ({ci})", "new study", *[f"P(HR < {fmt.threshold(x)})" for x in th]],
                        rows), ""]
    r = n["ranking"]
    lines += ["## Rankings", "", f"**Caution.** {RANKING_CAUTION}", "",
              f"![rankograms]({figures['rankogram']})", ""]
    order = sorted(r["sucra"], key=lambda t: -r["sucra"][t])
    lines += [_md_table(["treatment", "SUCRA", "P(best)", "mean rank"],
                        [[t, f"{r['sucra'][t]:.2f}", fmt.p(r["p_best"][t]), f"{r['mean_rank'][t]:.1f}"]
                         for t in order]), ""]
    lines += [f"SUCRA and rank probabilities come from {r['n_draws']} draws of the posterior (Monte Carlo SE of "
              f"SUCRA at most {max(r['sucra_mcse'].values()):.3f}).", ""]
    lines += ["## Do direct and indirect evidence agree?", "", node_split_sentence(n.get("node_split") or []), ""]
    if n.get("node_split"):
        lines += [_md_table(["comparison", "direct HR", "indirect HR", "ratio of HRs", "p (two-sided)", "direct studies"],
                            [[f"{x['treatment']} vs {x['comparator']}",
                              f"{fmt.hr(x['direct_hr']['median'])} ({fmt.ci(x['direct_hr']['ci95'])})",
                              f"{fmt.hr(x['indirect_hr']['median'])} ({fmt.ci(x['indirect_hr']['ci95'])})",
                              f"{fmt.hr(x['ratio_of_hrs']['median'])} ({fmt.ci(x['ratio_of_hrs']['ci95'])})",
                              f"{x['p_value']:.3f}", ", ".join(x["studies"])] for x in n["node_split"]]), ""]
    u = n.get("ume")
    if u:
        d, se = u["elpd_diff_ume_minus_consistency"], u["se_diff"]
        verdict = ("fits the studies better than" if d > 2 * se else "does not fit the studies clearly better than")
        tu, tc = u.get("tau_ume"), u.get("tau_consistency")
        taus = (f" tau is {fmt.hr(tc['median'])} under consistency and {fmt.hr(tu['median'])} with unrelated "
                f"comparisons." if tu and tc else "")
        lines += [f"A model in which every observed comparison has its own, unrelated effect {verdict} the "
                  f"consistency model (difference in expected log predictive density {d:.2f}, SE {se:.2f}, by "
                  f"leave-one-study-out cross-validation).{taus}", ""]
    if n.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in n["warnings"]] + [""]
    pri = spec.priors if spec is not None else None
    if pri is not None:
        lines += ["## Methods", "",
                  f"Bayesian network meta-analysis of log-HRs (contrast-level normal likelihood with the within-study "
                  f"covariance of multi-arm studies; random effects with a common tau and correlation 1/2 between "
                  f"a study's contrasts). Priors: each treatment's log-HR against {ref} {pri.mu.describe()}; tau "
                  f"{pri.tau.describe()}. Node-splitting after Dias et al. (2010) with the comparisons chosen as "
                  f"van Valkenhoef et al. (2016).", ""]
    return "\n".join(lines)


def _html(md_text: str, figdir: Path) -> str:
    """A minimal self-contained HTML rendering of the Markdown: headings, paragraphs, tables,
    images inlined as base64; every text escaped."""
    out, table = [], []

    def flush():
        if table:
            head, body = table[0], table[2:]
            out.append("<table><thead><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr></thead><tbody>"
                       + "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body)
                       + "</tbody></table>")
            table.clear()

    for line in md_text.splitlines():
        if line.startswith("|"):
            table.append([c.strip() for c in line.strip().strip("|").split("|")])
            continue
        flush()
        if line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1:-1]
            png = figdir.parent / src
            data = base64.b64encode(png.read_bytes()).decode()
            alt = html.escape(line[2:line.index("]")])
            out.append(f"<p><img alt='{alt}' src='data:image/png;base64,{data}' style='max-width:100%'></p>")
        elif line.startswith("- "):
            out.append(f"<ul><li>{html.escape(line[2:])}</li></ul>")
        elif line.strip():
            text = html.escape(line).replace("**Caution.**", "<strong>Caution.</strong>")
            out.append(f"<p>{text}</p>")
    flush()
    css = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.45}"
           "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .5em;"
           "font-size:.9em}th{background:#f3f3f3}")
    return f"<!doctype html><html><head><meta charset='utf-8'><style>{css}</style></head><body>{''.join(out)}</body></html>"


def write_network_report(post, summary: dict, out_dir: Path) -> list[str]:
    """figures/network.png|svg, figures/forest.png|svg, figures/rankogram.png|svg, report.md
    and report.html into `out_dir` (the caller makes it atomic)."""
    import matplotlib.pyplot as plt

    from .plots import forest_figure, network_figure, rankogram_figure

    out_dir = Path(out_dir)
    figdir = out_dir / "figures"
    figdir.mkdir(parents=True, exist_ok=True)
    n = summary["network"]
    comp = getattr(post.nspec, "comparator", None) or n["reference"]
    if comp not in n["treatments"]:
        from ..errors import ModelError

        raise ModelError(f"[network].comparator: {comp!r} is not a treatment; the treatments are "
                         f"{', '.join(n['treatments'])}")
    th = tuple(post.spec.thresholds) if post.spec is not None else (1.0,)
    figs = {"network": network_figure(post.net), "forest": forest_figure(post, comp, th, n["ci_prob"]),
            "rankogram": rankogram_figure(n["ranking"])}
    paths = {}
    for name, fig in figs.items():
        for ext in ("png", "svg"):
            fig.savefig(figdir / f"{name}.{ext}", dpi=150 if ext == "png" else None, bbox_inches="tight")
        plt.close(fig)
        paths[name] = f"figures/{name}.png"
    md = network_markdown(post, summary, paths)
    (out_dir / "report.md").write_text(md, encoding="utf-8")
    (out_dir / "report.html").write_text(_html(md, figdir), encoding="utf-8")
    return ["report.md", "report.html", "figures/"]



