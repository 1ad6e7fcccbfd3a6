"""Would the conclusion change under another reasonable prior, without this study, or
without this kind of study? Prior sweeps, the community of priors, influence analyses,
overlap-rule sensitivity and power-scaling sensitivity.

- Community of priors (Spiegelhalter DJ, Freedman LS, Parmar MKB 1994, JRSS A
  157:357-416), from the clinical threshold c (the smallest spec threshold below 1):
  sceptical  mu ~ N(0, sigma),     sigma = ln(c) / Phi^-1(0.05)  so P(HR < c) = 0.05;
  enthusiastic mu ~ N(ln c, sigma), same sigma,                  so P(HR > 1) = 0.05.
- Default grid: tau ~ half-normal(0.25, 0.5, 1), half-Cauchy(0.5), inverse-gamma(2.42,
  0.30) (Bartos F et al. 2023, empirical log-HR prior); mu ~ flat, N(0, 1), sceptical,
  enthusiastic.
- Leave-one-out and leave-one-level-out refits (Viechtbauer & Cheung 2010, Res Synth
  Methods 1:112-25, for the frequentist analogue).
- Power-scaling sensitivity (Kallioinen N et al. 2024, Stat Comput 34:57) through
  arviz-stats `psense_summary`, on the top-level parameters only.

Exact-capable models never sample. MCMC models reuse one compiled model per prior
family combination (hyperparameters are data) and run settings in parallel processes, or
on a Dask cluster when a scheduler address is given.
"""

from __future__ import annotations

import copy
import itertools
import math
import sys
import tomllib
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .errors import SpecError
from .priors import Prior, parse_prior

__all__ = ["community_priors", "default_grid", "read_grid", "sweep", "influence", "overlap_sensitivity",
           "power_scaling", "threshold_label", "row_from_posterior"]


def clinical_threshold(thresholds) -> float:
    below = [t for t in thresholds if t < 1.0]
    if not below:
        raise SpecError("[report].thresholds: the community of priors needs a clinical threshold below 1 (e.g. 0.8)")
    return max(below)


def community_priors(thresholds) -> dict[str, Prior]:
    """Sceptical and enthusiastic normal priors on mu (log-HR) from the clinical threshold."""
    c = clinical_threshold(thresholds)
    sigma = math.log(c) / ndtri(0.05)
    return {
        "sceptical": Prior("normal", {"mu": 0.0, "sigma": sigma}, label=f"sceptical N(0, {sigma:.3f}): P(HR<{c:g})=5%"),
        "enthusiastic": Prior("normal", {"mu": math.log(c), "sigma": sigma},
                              label=f"enthusiastic N(ln {c:g}, {sigma:.3f}): P(HR>1)=5%"),
    }


def default_grid(thresholds) -> dict[str, list[Prior]]:
    tau = [Prior("half_normal", {"sigma": 0.25}, label="half-normal(0.25)", kind="scale"),
           Prior("half_normal", {"sigma": 0.5}, label="half-normal(0.5)", kind="scale"),
           Prior("half_normal", {"sigma": 1.0}, label="half-normal(1)", kind="scale"),
           Prior("half_cauchy", {"scale": 0.5}, label="half-Cauchy(0.5)", kind="scale"),
           Prior("inv_gamma", {"alpha": 2.42, "beta": 0.30}, label="inverse-gamma(2.42, 0.30) [Bartos 2023]", kind="scale")]
    com = community_priors(thresholds)
    mu = [Prior("flat", {}, label="flat"), Prior("normal", {"mu": 0.0, "sigma": 1.0}, label="N(0, 1)"),
          com["sceptical"], com["enthusiastic"]]
    return {"tau": tau, "mu": mu}


def read_grid(path) -> dict[str, list[Prior]]:
    """GRID.toml: arrays of tables [[tau]], [[mu]], optionally [[beta]], each in the spec's
    prior syntax with an optional label."""
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    bad = set(raw) - {"tau", "mu", "beta"}
    if bad:
        raise SpecError(f"{path}: unknown grid key(s) {sorted(bad)}; allowed: tau, mu, beta")
    out = {}
    for name, kind in (("tau", "scale"), ("mu", "effect"), ("beta", "effect")):
        if name in raw:
            if not isinstance(raw[name], list) or not raw[name]:
                raise SpecError(f"{path}: [[{name}]] must be a non-empty array of prior tables")
            out[name] = [parse_prior(t, f"{path}: [[{name}]] #{i + 1}", kind) for i, t in enumerate(raw[name])]
    return out


def threshold_label(t) -> str:
    """A threshold as written in the spec (1.0 -> '1.0', 0.8 -> '0.8')."""
    return str(t)


def row_from_posterior(post) -> dict:
    """The numbers a sweep or influence row reports (no HPDs: fast)."""
    spec = post.spec
    pooled, pred = post["pooled"], post["predictive"]
    q = pooled.quantile([0.5, 0.025, 0.975])
    qp = pred.quantile([0.025, 0.975])
    row = {"hr_median": float(np.exp(q[0])), "hr_low": float(np.exp(q[1])), "hr_high": float(np.exp(q[2])),
           "pred_hr_low": float(np.exp(qp[0])), "pred_hr_high": float(np.exp(qp[1])),
           "tau_median": float(post["tau"].quantile([0.5])[0]) if ("tau",) in post.marginals else 0.0}
    raw_th = spec.raw.get("report", {}).get("thresholds", spec.thresholds)
    for t in raw_th:
        row[f"p_hr_lt_{threshold_label(t)}"] = post.prob("pooled", float(t))
        row[f"p_pred_hr_lt_{threshold_label(t)}"] = post.prob("predictive", float(t))
    harm = spec.raw.get("report", {}).get("harm_threshold", spec.harm)
    row[f"p_hr_gt_{threshold_label(harm)}"] = post.prob("pooled", float(harm), "gt")
    row["k"] = post.k
    row["engine"] = post.engine
    row["diagnostics_passed"] = post.ok
    return row


def _settings(grid: dict[str, list[Prior]]):
    names = [n for n in ("tau", "mu", "beta") if n in grid]
    for combo in itertools.product(*(grid[n] for n in names)):
        yield dict(zip(names, combo))


def _prior_columns(setting: dict[str, Prior]) -> dict:
    cols = {}
    for name, pr in setting.items():
        cols[f"{name}_prior"] = pr.describe()
        cols[f"{name}_dist"] = pr.dist
        for k, v in pr.params.items():
            cols[f"{name}_{k}"] = v
    return cols


def _fit_setting(job):
    """Run in a worker: (spec, evidence table, setting, engine, seed) -> row."""
    from .api import fit

    spec, ev, setting, engine, seed = job
    post = fit(spec.with_priors(**setting), evidence=ev, engine=engine, seed=seed, log_likelihood=False,
               frequentist=False)
    return {**_prior_columns(setting), **row_from_posterior(post)}


def _progress(iterable, total, desc):
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=not sys.stderr.isatty(), file=sys.stderr)


def _run_jobs(jobs, workers: int, scheduler: str | None, desc: str, parallel: bool):
    if scheduler:
        from dask.distributed import Client

        with Client(scheduler) as client:
            futures = client.map(_fit_setting, jobs, pure=False)
            return [f.result() for f in _progress(futures, len(jobs), desc)]
    if parallel and workers > 1 and len(jobs) > 1:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            return list(_progress(pool.map(_fit_setting, jobs, chunksize=max(1, len(jobs) // (4 * workers))),
                                  len(jobs), desc))
    return [_fit_setting(j) for j in _progress(jobs, len(jobs), desc)]


def sweep(spec, grid: dict[str, list[Prior]] | None = None, data=None, engine: str = "auto",
          workers: int = 1, scheduler: str | None = None, seed: int | None = None, evidence=None) -> pd.DataFrame:
    """Fit `spec` under every combination of the grid's priors; one row per setting.

    Columns: tau_prior, mu_prior (labels), their distributions and parameters, hr_median,
    hr_low, hr_high (pooled, 95% equal-tailed), pred_hr_low, pred_hr_high, tau_median,
    p_hr_lt_<t>, p_pred_hr_lt_<t> per threshold, p_hr_gt_<harm>, engine, diagnostics_passed.
    Each setting i uses seed + i (MCMC), so a row equals a direct fit with that prior."""
    from .api import choose_engine, evidence_for, load_spec

    spec = load_spec(spec)
    grid = grid or default_grid(spec.thresholds)
    ev = evidence if evidence is not None else evidence_for(spec, data)
    settings = list(_settings(grid))
    base_seed = int(spec.mcmc["seed"] if seed is None else seed)
    engines = [choose_engine(spec.with_priors(**s), engine) for s in settings]
    jobs = [(spec, ev, s, e, base_seed + i) for i, (s, e) in enumerate(zip(settings, engines))]
    needs_mcmc = any(e == "mcmc" for e in engines)
    rows = _run_jobs(jobs, workers, scheduler, "prior sweep", parallel=needs_mcmc)
    df = pd.DataFrame(rows)
    df.insert(0, "setting", range(1, len(df) + 1))
    df["seed"] = [j[4] for j in jobs]
    return df


def _refit(spec, ev_table: pd.DataFrame, engine, seed):
    from .api import fit
    from .evidence import EvidenceTable

    return fit(spec, evidence=EvidenceTable(table=ev_table.reset_index(drop=True), source="subset"),
               engine=engine, seed=seed, log_likelihood=False, frequentist=False)


def influence(spec, data=None, engine: str = "auto", covariates: list[str] | None = None, seed: int | None = None,
              evidence=None) -> pd.DataFrame:
    """Leave-one-out and leave-one-level-out refits.

    One row for the full analysis, one per omitted study and one per omitted level of
    each covariate (the spec's covariates and the design columns found in the data:
    design, data_source, source_type, design_class). Reports the pooled HR, its 95%
    interval, the predictive interval, P(HR < t) for every threshold and their changes
    from the full analysis (d_...). A covariate left with one level is dropped from the
    model for that refit. `flag` marks the omission that moves P(HR < clinical threshold)
    most (|change in pooled| + |change in predictive P(HR < c)|, column benefit_shift)."""
    from .api import choose_engine, evidence_for, fit, load_spec

    spec = load_spec(spec)
    ev = evidence if evidence is not None else evidence_for(spec, data)
    seed = int(spec.mcmc["seed"] if seed is None else seed)
    full = fit(spec, evidence=ev, engine=engine, seed=seed, log_likelihood=False, frequentist=False)
    rows = [{"omitted": "(none)", "kind": "full", **row_from_posterior(full)}]
    t = ev.table
    jobs = [(f"{st}", "study", t[t["study"] != st]) for st in t["study"]]
    cand = list(dict.fromkeys((covariates or []) + list(spec.model["covariates"]) +
                              ["design", "data_source", "source_type", "design_class"]))
    for cov in cand:
        if cov not in t.columns:
            continue
        for lev in sorted(t[cov].dropna().astype(str).unique()):
            sub = t[t[cov].astype(str) != lev]
            if 2 <= len(sub) < len(t):
                jobs.append((f"{cov}={lev}", "level", sub))
    for name, kind, sub in _progress(jobs, len(jobs), "influence"):
        sp = spec
        keep = [c for c in spec.model["covariates"] if sub[c].astype(str).nunique() > 1]
        if keep != list(spec.model["covariates"]):
            sp = spec.with_model(covariates=keep, reference={c: v for c, v in spec.model["reference"].items() if c in keep})
        het = sp.model["heterogeneity"]
        if het.startswith("by:") and sub[het[3:]].astype(str).nunique() < 2:
            sp = sp.with_model(heterogeneity="shared")
        eng = choose_engine(sp, engine)
        post = _refit(sp, sub, eng, seed)
        rows.append({"omitted": name, "kind": kind, **row_from_posterior(post)})
    df = pd.DataFrame(rows)
    base = df.iloc[0]
    for col in [c for c in df.columns if c.startswith(("p_", "hr_", "pred_hr_"))]:
        df[f"d_{col}"] = df[col] - base[col]
    c = clinical_threshold(spec.thresholds)
    key = next(k for k in df.columns if k.startswith("d_p_hr_lt_") and math.isclose(float(k[len("d_p_hr_lt_"):]), c))
    key_pred = key.replace("d_p_hr_lt_", "d_p_pred_hr_lt_")
    df["benefit_shift"] = df[key].abs() + df[key_pred].abs()
    df["flag"] = False
    idx = df.loc[df["kind"] == "study", "benefit_shift"].idxmax()
    df.loc[idx, "flag"] = True
    df.attrs["benefit_column"] = key[2:]
    return df


def overlap_sensitivity(spec, engine: str = "auto", seed: int | None = None) -> pd.DataFrame:
    """Rows that share a source population: the analysis under each selection rule (keep
    the largest, the most recent, or all rows with a population random effect, MCMC)."""
    from .api import fit, load_spec
    from .evidence import load_evidence
    from .evidence.loading import _resolve_selection

    spec = load_spec(spec)
    sel_name = spec.data.get("select")
    sel = _resolve_selection(sel_name, spec.data.get("dataset"), spec.base_dir) if sel_name else None
    if sel is None or sel.overlap is None:
        return pd.DataFrame()
    rows = []
    seed = int(spec.mcmc["seed"] if seed is None else seed)
    for rule in ("largest", "most_recent", "all"):
        s2 = copy.deepcopy(sel)
        s2.overlap["keep"] = rule
        d = spec.data
        ev = (load_evidence(dataset=d["dataset"], select_=s2, base_dir=spec.base_dir) if "dataset" in d else
              load_evidence(path=(spec.base_dir / d["path"]), select_=s2))
        model_sp = spec
        if rule == "all":
            model_sp = spec.with_model(population=s2.overlap.get("column", "overlap_group"))
        post = fit(model_sp, evidence=ev, engine=engine if rule != "all" else "mcmc", seed=seed, log_likelihood=False,
                   frequentist=False)
        rows.append({"rule": rule if rule != "all" else "all rows + population effect", **row_from_posterior(post)})
    return pd.DataFrame(rows)


def power_scaling(post) -> pd.DataFrame:
    """Power-scaling prior and likelihood sensitivity (Kallioinen et al. 2024) of an MCMC
    fit, on the top-level parameters (mu, coefficients, tau, omega) only."""
    if post.engine != "mcmc":
        raise ValueError("power-scaling needs an MCMC fit (the exact engine has no draws)")
    from arviz_stats import psense_summary

    from .engines.mcmc import top_level_vars

    idata = post.extras["idata"]
    if "log_likelihood" not in idata.children or "log_prior" not in idata.children:
        raise ValueError("the fit has no log_likelihood/log_prior groups: refit with log_likelihood=True")
    names = [n for n in top_level_vars(post.model_data, post.spec) if n != "tau_eta"]
    res = psense_summary(idata, var_names=names, prior_var_names=names)
    return res.reset_index().rename(columns={"index": "parameter"}) if isinstance(res, pd.DataFrame) else pd.DataFrame(res)
