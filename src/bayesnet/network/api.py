"""The network analysis as `bayesnet fit` / `bayesnet report` run it: spec + data with a
`treatment` column -> fit -> summary.json {"analysis": "network", "network": {...}} and tables.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from ..errors import ModelError
from .data import is_network_file, is_network_table, read_network
from .fit import fit_network
from .summary import contrasts_table, league_table, network_summary

__all__ = ["analyse_network", "data_path", "is_network_spec", "network_headline", "write_network_outputs"]


def data_path(spec, data=None) -> Path | None:
    """The CSV the analysis reads: `data`, else the spec's [data] path (relative to the spec)."""
    if data is not None:
        return Path(data)
    p = getattr(spec.data, "path", None)
    if p is None:
        return None
    p = Path(p)
    return p if p.is_absolute() else spec.base_dir / p


def is_network_spec(spec, data=None) -> bool:
    """True when the evidence the spec (path or Spec) reads has a `treatment` column."""
    from ..api import load_spec

    if isinstance(data, pd.DataFrame):
        return is_network_table(data)
    try:
        path = data_path(load_spec(spec), data)
    except Exception:  # noqa: BLE001 - an unreadable spec is reported by the fit itself
        return False
    return path is not None and is_network_file(path)


def analyse_network(spec, data=None, engine: str = "auto", seed: int | None = None, progress: bool = False):
    """Read, fit and summarise a network analysis. Returns (post, summary dict)."""
    from ..api import load_spec
    from ..provenance import created_timestamp, package_versions

    spec = load_spec(spec)
    if isinstance(data, pd.DataFrame):
        raw, sha = data, None
        src = "<DataFrame>"
    else:
        path = data_path(spec, data)
        if path is None:
            raise ModelError("a network analysis reads a CSV with a 'treatment' column: give [data] path or --data")
        raw, sha, src = path, hashlib.sha256(path.read_bytes()).hexdigest(), str(path)
    nspec = spec.network
    net = read_network(raw, source=src, reference=getattr(nspec, "reference", None))
    if engine == "auto":
        ok = spec.priors.mu.is_normal_or_flat and (spec.priors.beta.is_normal_or_flat or not spec.model.covariates)
        engine = "exact" if ok else "mcmc"
    post = fit_network(net, spec, engine=engine, seed=seed, progress=progress)
    ignored = [name for name, on in (("[[absolute]]", bool(spec.absolute)),
                                     ("[publication_bias]", spec.publication_bias is not None)) if on]
    summary = {"analysis": "network", "engine": post.engine, "status": "ok" if post.ok else "failed_diagnostics",
               "network": network_summary(post),
               "provenance": {"data_sha256": sha, "data": src, "spec": spec.raw, "seed": post.seed,
                              "versions": package_versions(), "created": created_timestamp()}}
    if ignored:
        summary["network"]["warnings"].append(f"{' and '.join(ignored)} of the spec are not applied to a network "
                                              f"meta-analysis (not available yet)")
    return post, summary


def network_headline(summary: dict) -> str:
    """What `bayesnet fit` prints for a network: treatments, reference, tau, SUCRA, the
    contrasts against the reference and any node split with p < 0.05."""
    from .. import format as fmt

    n = summary["network"]
    ref = n["reference"]
    lines = [f"network meta-analysis: engine {n['engine']}   k = {n['k']} studies   {len(n['treatments'])} treatments"
             f"   reference: {ref}   status: {n['status']}"]
    if n.get("tau"):
        t = n["tau"]
        lines.append(f"tau {fmt.hr(t['median'], 3)} (95% CrI {fmt.ci(t['ci95'], 3)})")
    for t in n["treatments"]:
        if t == ref:
            continue
        c = n["contrasts"][f"{t}:{ref}"]
        lines.append(f"HR {t} vs {ref}: {fmt.hr(c['hr']['median'])} (95% CrI {fmt.ci(c['hr']['ci95'])}), "
                     f"P(HR < 1) {fmt.p(c['prob'].get('p_hr_lt_1'))}, SUCRA {n['ranking']['sucra'][t]:.2f}")
    flagged = [r for r in n.get("node_split") or () if r["p_value"] < 0.05]
    for r in flagged:
        lines.append(f"inconsistency: {r['comparison']} direct vs indirect differ (p = {r['p_value']:.3f})")
    lines += [f"warning: {w}" for w in n.get("warnings") or ()]
    return "\n".join(lines)


def write_network_outputs(post, summary: dict, out_dir: Path) -> list[str]:
    """summary.json, contrasts.csv (tidy), league.csv and rankings.csv into `out_dir`."""
    from ..api import to_json

    out_dir = Path(out_dir)
    (out_dir / "summary.json").write_text(to_json(summary), encoding="utf-8")
    contrasts_table(post, summary["network"]["ci_prob"]).to_csv(out_dir / "contrasts.csv", index=False)
    league_table(post).to_csv(out_dir / "league.csv")
    r = summary["network"]["ranking"]
    rows = [{"treatment": t, "sucra": r["sucra"][t], "p_best": r["p_best"][t], "mean_rank": r["mean_rank"][t],
             **{f"p_rank_{i + 1}": v for i, v in enumerate(r["rank_prob"][t])}} for t in r["sucra"]]
    pd.DataFrame(rows).to_csv(out_dir / "rankings.csv", index=False)
    return ["summary.json", "contrasts.csv", "league.csv", "rankings.csv"]
