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

from .errors import BayesnetError, ModelError, SpecError
from .evidence.conversions import interval_tails
from .format import prob_key
from .priors import Prior, parse_prior

__all__ = ["community_priors", "default_grid", "read_grid", "sweep", "influence", "overlap_sensitivity",
           "power_scaling", "row_from_posterior"]


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
    prior syntax with an optional label. Every problem is reported in one SpecError
    (bayesnet.validate style)."""
    from .validate import Problems

    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    P = Problems(where=str(path))
    P.keys("", raw, ("tau", "mu", "beta"), noun="grid key(s)")
    out = {}
    for name, kind in (("tau", "scale"), ("mu", "effect"), ("beta", "effect")):
        if name in raw and P.check(f"[[{name}]]", "", raw[name], lambda v: isinstance(v, list) and v,
                                   "a non-empty array of prior tables"):
            out[name] = [P.run(parse_prior, t, f"[[{name}]] #{i + 1}", kind) for i, t in enumerate(raw[name])]
    P.raise_if_any()
    return out


def row_from_posterior(post, ci_prob: float = 0.95) -> dict:
    """The numbers a sweep or influence row reports (no HPDs: fast): the pooled HR's median
    and equal-tailed interval with probability `ci_prob` (hr_low, hr_high), the predictive
    interval (pred_hr_low, pred_hr_high), tau's median and the probabilities keyed by
    `format.prob_key` (p_hr_lt_<t>, p_pred_hr_lt_<t> per threshold, p_hr_gt_<harm>)."""
    spec = post.spec
    pooled, pred = post["pooled"], post["predictive"]
    tails = interval_tails(ci_prob)
    q = pooled.quantile([0.5, *tails])
    qp = pred.quantile(list(tails))
    row = {"hr_median": float(np.exp(q[0])), "hr_low": float(np.exp(q[1])), "hr_high": float(np.exp(q[2])),
           "pred_hr_low": float(np.exp(qp[0])), "pred_hr_high": float(np.exp(qp[1])),
           "tau_median": float(post["tau"].quantile([0.5])[0]) if ("tau",) in post.marginals else 0.0}
    for t in spec.thresholds:
        row[prob_key(t)] = post.prob("pooled", float(t))
        row[prob_key(t, predictive=True)] = post.prob("predictive", float(t))
    row[prob_key(spec.harm, "gt")] = post.prob("pooled", float(spec.harm), "gt")
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


REFIT_ERRORS = (BayesnetError, np.linalg.LinAlgError)


def failed_row(exc: BaseException) -> dict:
    """The row of a refit that is not possible (collinear covariates once a study is
    left out, an improper posterior, ...): status 'not estimable' and the reason."""
    from .provenance import portable_text

    return {"status": "not estimable", "reason": portable_text(" ".join(str(exc).split()))}


def _fit_setting(job):
    """Run in a worker: (spec, evidence table, setting, engine, seed, ci_prob) -> row. A setting
    that cannot be fitted gives a row with status 'not estimable' and its reason."""
    from .api import fit

    spec, ev, setting, engine, seed, ci_prob = job
    try:
        post = fit(spec.with_priors(**setting), evidence=ev, engine=engine, seed=seed, log_likelihood=False,
                   frequentist=False)
    except REFIT_ERRORS as exc:
        return {**_prior_columns(setting), "engine": engine, **failed_row(exc)}
    return {**_prior_columns(setting), **row_from_posterior(post, ci_prob), "status": "ok", "reason": ""}


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


def _from_posterior(obj, engine: str, seed, evidence):
    """(spec, engine, seed, evidence) from a fitted Posterior (its spec, evidence, engine
    and seed unless given), or (obj, ...) unchanged for a spec, dict or path."""
    from .posterior import Posterior

    if not isinstance(obj, Posterior):
        return obj, engine, seed, evidence
    # an exact fit is what "auto" gives wherever the exact engine can fit; an MCMC fit stays MCMC
    eng = "mcmc" if (engine == "auto" and obj.engine == "mcmc") else engine
    return obj.spec, eng, (obj.seed if seed is None else seed), (obj.evidence if evidence is None else evidence)


def sweep(spec, grid: dict[str, list[Prior]] | None = None, data=None, engine: str = "auto",
          workers: int = 1, scheduler: str | None = None, seed: int | None = None, evidence=None,
          ci_prob: float = 0.95) -> pd.DataFrame:
    """Fit `spec` under every combination of the grid's priors; one row per setting.

    `spec` is a spec (TOML path, dict or Spec) or a fitted `Posterior`: ``sweep(post)``
    reuses its spec, evidence, engine and seed, so nothing is read again (as metafor's
    ``leave1out(res)``).

    Columns: tau_prior, mu_prior (labels), their distributions and parameters, hr_median,
    hr_low, hr_high (the pooled HR's equal-tailed interval with probability `ci_prob`, 95% by
    default), pred_hr_low, pred_hr_high (the predictive interval, same probability), tau_median,
    p_hr_lt_<t>, p_pred_hr_lt_<t> per threshold, p_hr_gt_<harm>, engine, diagnostics_passed,
    status ('ok' or 'not estimable'), reason, seed. Each MCMC setting i uses seed + i (mod 2^32), so a
    row equals a direct fit with that prior; exact rows have no seed (empty)."""
    from .api import choose_engine, evidence_for, load_spec

    spec, engine, seed, evidence = _from_posterior(spec, engine, seed, evidence)
    spec = load_spec(spec)
    grid = grid or default_grid(spec.thresholds)
    ev = evidence if evidence is not None else evidence_for(spec, data)
    settings = list(_settings(grid))
    base_seed = int(spec.mcmc.seed if seed is None else seed)
    engines = [choose_engine(spec.with_priors(**s), engine) for s in settings]
    # seeds stay in the samplers' range 0..2^32 - 1 (they wrap past its end)
    jobs = [(spec, ev, s, e, (base_seed + i) % 2**32, ci_prob) for i, (s, e) in enumerate(zip(settings, engines))]
    needs_mcmc = any(e == "mcmc" for e in engines)
    rows = _run_jobs(jobs, workers, scheduler, "prior sweep", parallel=needs_mcmc)
    df = pd.DataFrame(rows)
    df.insert(0, "setting", range(1, len(df) + 1))
    df["seed"] = pd.array([j[4] if j[3] == "mcmc" else None for j in jobs], dtype="Int64")
    return df


def _refit(spec, ev_table: pd.DataFrame, engine, seed):
    """Refit `spec` on a subset of the studies. Per-study bias levels ([bias.by]) that the
    subset no longer contains are dropped for this refit (leaving out every single-centre
    study removes the single-centre bias, not the analysis)."""
    import dataclasses

    from .api import fit
    from .bias import restrict_bias
    from .evidence import EvidenceTable

    if getattr(spec, "bias", None) is not None:
        spec = dataclasses.replace(spec, bias=restrict_bias(spec.bias, ev_table))
    return fit(spec, evidence=EvidenceTable(table=ev_table.reset_index(drop=True), source="subset"),
               engine=engine, seed=seed, log_likelihood=False, frequentist=False)


LOO_MAX = 40          # at most this many exact leave-one-study-out refits when k is larger
LOO_MIN = 5           # ... and at least this many
LOO_NEGLIGIBLE = 1e-4  # approximate shift in P(HR < c) below which a refit is not needed


def approximate_loo_shift(y, se, threshold: float) -> np.ndarray:
    """Closed-form screening of leave-one-out influence, O(k): with the DerSimonian-Laird
    tau^2 held fixed and inverse-variance weights w_i = 1/(se_i^2 + tau^2), leaving study
    i out gives mu_(-i) = (sum w y - w_i y_i) / (sum w - w_i) with variance 1/(sum w - w_i)
    (Viechtbauer & Cheung 2010, Res Synth Methods 1:112-25); returns
    |P_(-i)(HR < threshold) - P(HR < threshold)| under the normal approximation."""
    from scipy.stats import norm

    y, v = np.asarray(y, float), np.asarray(se, float) ** 2
    k = len(y)
    w0 = 1 / v
    mu0 = np.sum(w0 * y) / np.sum(w0)
    q = np.sum(w0 * (y - mu0) ** 2)
    tau2 = max(0.0, (q - (k - 1)) / (np.sum(w0) - np.sum(w0 ** 2) / np.sum(w0))) if k > 1 else 0.0
    w = 1 / (v + tau2)
    sw, swy = np.sum(w), np.sum(w * y)
    lc = math.log(threshold)
    p_all = norm.cdf((lc - swy / sw) * math.sqrt(sw))
    rest = np.maximum(sw - w, 1e-300)
    p_loo = norm.cdf((lc - (swy - w * y) / rest) * np.sqrt(rest))
    return np.abs(p_loo - p_all)


def influence(spec, data=None, engine: str = "auto", covariates: list[str] | None = None, seed: int | None = None,
              evidence=None, max_studies: int | None = LOO_MAX, ci_prob: float = 0.95) -> pd.DataFrame:
    """Leave-one-out and leave-one-level-out refits.

    `spec` is a spec (TOML path, dict or Spec) or a fitted `Posterior`: ``influence(post)``
    reuses its spec, evidence, engine and seed (as metafor's ``leave1out(res)``), and the
    posterior itself is the full-analysis row (no refit) unless another seed or evidence
    is given.

    One row for the full analysis, one per omitted study and one per omitted level of
    each covariate (`covariates`, the spec's covariates and its `[report] group_columns`
    found in the data). Reports the pooled HR, its equal-tailed interval with probability
    `ci_prob` (95% by default; hr_low, hr_high), the predictive interval with the same
    probability, P(HR < t) for every threshold and their changes
    from the full analysis (d_...). A covariate left with one level is dropped from the
    model for that refit. A refit that is not possible (e.g. the remaining covariates are
    collinear) is a row with status 'not estimable' and its reason. `flag` marks the
    omission that moves P(HR < clinical threshold) most (|change in pooled| + |change in
    predictive P(HR < c)|, column benefit_shift).

    With more than `max_studies` studies only the `max_studies` with the largest
    closed-form leave-one-out shift (`approximate_loo_shift`) are refitted exactly, and of
    those only the ones whose approximate shift is at least LOO_NEGLIGIBLE (but always the
    LOO_MIN largest), so the cost is linear in k; df.attrs['note'] says so and bounds the
    approximate shift of the studies not refitted."""
    from .api import choose_engine, evidence_for, fit, load_spec
    from .posterior import Posterior

    given = spec if isinstance(spec, Posterior) and evidence is None and data is None else None
    spec, engine, seed, evidence = _from_posterior(spec, engine, seed, evidence)
    spec = load_spec(spec)
    ev = evidence if evidence is not None else evidence_for(spec, data)
    seed = int(spec.mcmc.seed if seed is None else seed)
    reuse = (given is not None and (given.seed is None or given.seed == seed) and given.engine in ("exact", "mcmc")
             and engine in ("auto", given.engine))
    full = given if reuse else fit(spec, evidence=ev, engine=engine, seed=seed, log_likelihood=False,
                                   frequentist=False)
    rows = [{"omitted": "(none)", "kind": "full", **row_from_posterior(full, ci_prob), "status": "ok", "reason": ""}]
    t = ev.table
    c = clinical_threshold(spec.thresholds)
    ids = list(t["study"])
    note = ""
    if max_studies is not None and len(ids) > max_studies:
        shift = approximate_loo_shift(t["log_hr"].to_numpy(), t["se"].to_numpy(), c)
        order = np.argsort(-shift, kind="stable")
        # the max_studies largest shifts, but no refit for a study whose approximate shift is
        # negligible (< LOO_NEGLIGIBLE), beyond the LOO_MIN largest
        n_run = max(min(max_studies, int(np.sum(shift >= LOO_NEGLIGIBLE))), min(LOO_MIN, max_studies))
        chosen = set(order[:n_run].tolist())
        rest_max = float(shift[order[n_run]])
        ids = [st for i, st in enumerate(ids) if i in chosen]
        bound = f"less than {LOO_NEGLIGIBLE:g}" if rest_max < LOO_NEGLIGIBLE else f"at most {rest_max:.2g}"
        note = (f"Leave-one-out refits were run for the {n_run} of {len(t)} studies with the largest "
                f"approximate influence (closed-form inverse-variance leave-one-out, Viechtbauer & Cheung 2010); "
                f"each other study moves P(HR < {c:g}) by {bound} in that approximation.")
    jobs = [(f"{st}", "study", t[t["study"] != st]) for st in ids]
    cand = list(dict.fromkeys((covariates or []) + list(spec.model.covariates) +
                              list(spec.group_columns)))
    arm_kinds = {"case_series": "the case series", "comparative": "the comparative studies",
                 "hr": "the studies reported as HRs"}  # arm evidence: leave each kind of study out
    if "design_arms" in t.columns and t["design_arms"].nunique() > 1:
        cand.append("design_arms")
    for cov in cand:
        if cov not in t.columns:
            continue
        for lev in sorted(t[cov].dropna().astype(str).unique()):
            sub = t[t[cov].astype(str) != lev]
            if 2 <= len(sub) < len(t):
                jobs.append((arm_kinds.get(lev, lev) if cov == "design_arms" else f"{cov}={lev}", "level", sub))
    for name, kind, sub in _progress(jobs, len(jobs), "influence"):
        try:
            sp = spec
            keep = [c_ for c_ in spec.model.covariates if sub[c_].astype(str).nunique() > 1]
            if keep != list(spec.model.covariates):
                sp = spec.with_model(covariates=keep,
                                     reference={c_: v for c_, v in spec.model.reference.items() if c_ in keep})
            het = sp.model.heterogeneity
            if het.startswith("by:") and sub[het[3:]].astype(str).nunique() < 2:
                sp = sp.with_model(heterogeneity="shared")
            eng = choose_engine(sp, engine)
            post = _refit(sp, sub, eng, seed)
        except REFIT_ERRORS as exc:
            rows.append({"omitted": name, "kind": kind, "k": len(sub), **failed_row(exc)})
            continue
        rows.append({"omitted": name, "kind": kind, **row_from_posterior(post, ci_prob), "status": "ok",
                     "reason": ""})
    df = pd.DataFrame(rows)
    base = df.iloc[0]
    for col in [c_ for c_ in df.columns if c_.startswith(("p_", "hr_", "pred_hr_"))]:
        df[f"d_{col}"] = df[col] - base[col]
    key, key_pred = prob_key(c), prob_key(c, predictive=True)
    df["benefit_shift"] = df["d_" + key].abs() + df["d_" + key_pred].abs()
    df["flag"] = False
    shifts = df.loc[df["kind"] == "study", "benefit_shift"].dropna()
    if len(shifts):
        df.loc[shifts.idxmax(), "flag"] = True
    df.attrs["benefit_column"] = key
    df.attrs["note"] = note
    return df


def _load_with_selection(spec, sel):
    """The spec's data source (dataset or file) under selection `sel`."""
    from .evidence import load_evidence

    d = spec.data
    if d.dataset is not None:
        return load_evidence(dataset=d.dataset, base_dir=spec.base_dir, select=sel)
    return load_evidence(path=(spec.base_dir / d.path), select=sel)


def _keep_rules() -> list[str]:
    from .evidence.selection import KEEP_RULES

    return [r for r in KEEP_RULES if r != "all"]


def _family_subset(table: pd.DataFrame, family: str, column: str) -> pd.DataFrame:
    """Rows of one registry family plus the rows with no family (evidence.selection.select_family)."""
    from .evidence.selection import select_family

    return select_family(table, family, column=column)[0]


def _family_label(make, fam: str, column: str) -> str:
    """'<family> only' with what the selection holds: its rows of that registry family and
    the rows that belong to no family (institutional series), e.g. "NCDB only (1 NCDB row
    + 3 institutional rows (no registry))"."""
    try:
        t = make().table
    except REFIT_ERRORS:
        return f"{fam} only"
    n_fam = int(sum(str(v).strip() == fam for v in t[column]))
    n_none = len(t) - n_fam
    words = f"{n_fam} {fam} row{'' if n_fam == 1 else 's'}"
    if n_none:
        words += f" + {n_none} institutional row{'' if n_none == 1 else 's'} (no registry)"
    return f"{fam} only ({words})"


def overlap_sensitivity(spec, engine: str = "auto", seed: int | None = None, evidence=None,
                        population_model: bool = True, family_column: str = "registry_family",
                        ci_prob: float = 0.95) -> pd.DataFrame:
    """Rows that share a source population: the analysis under each alternative selection.

    One row per overlap rule of the evidence package (KEEP_RULES except 'all': today
    largest and most_recent; best_adjusted when available), marked '(primary)' for the
    spec's own rule; one row per registry family ('<family> only': the rows of that
    family plus those with no family, overlaps then resolved with the primary rule) when
    the data have a `family_column`; and, with population_model=True, all rows with a
    random effect per source population (MCMC). Columns: analysis, rule, k, the numbers
    of `row_from_posterior` (intervals with probability `ci_prob`, 95% by default), status and reason (a selection or refit that is not possible
    is a row with status 'not estimable'). Empty when the spec's selection has no
    overlap rule."""
    from .api import choose_engine, fit, load_spec
    from .evidence import EvidenceTable
    from .evidence.loading import resolve_selection
    from .evidence.selection import select_overlap

    spec = load_spec(spec)
    sel_name = spec.data.select
    try:
        sel = resolve_selection(sel_name, spec.data.dataset, spec.base_dir) if sel_name else None
    except REFIT_ERRORS:
        return pd.DataFrame()
    if sel is None or sel.overlap is None:
        return pd.DataFrame()
    rows = []
    seed = int(spec.mcmc.seed if seed is None else seed)
    primary = sel.overlap.get("keep", "largest")

    def run(analysis, rule, make_ev, model_sp=spec, eng=engine):
        try:
            ev = make_ev()
            post = fit(model_sp, evidence=ev, engine=eng, seed=seed, log_likelihood=False, frequentist=False)
        except REFIT_ERRORS as exc:
            rows.append({"analysis": analysis, "rule": rule, **failed_row(exc)})
            return
        rows.append({"analysis": analysis, "rule": rule, **row_from_posterior(post, ci_prob), "status": "ok",
                     "reason": "", "studies": [str(v) for v in ev.table["study"]]})

    def with_rule(rule):
        s2 = copy.deepcopy(sel)
        s2.overlap["keep"] = rule
        return lambda: (evidence if (rule == primary and evidence is not None) else _load_with_selection(spec, s2))

    for rule in _keep_rules():
        run(f"keep {rule.replace('_', ' ')}" + (" (primary)" if rule == primary else ""), rule, with_rule(rule),
            eng=choose_engine(spec, engine))
    # one registry family at a time
    s_all = copy.deepcopy(sel)
    s_all.overlap["keep"] = "all"
    try:
        ev_all = _load_with_selection(spec, s_all)
    except REFIT_ERRORS:
        ev_all = None
    if ev_all is not None and family_column in ev_all.table.columns:
        fams = sorted({str(v).strip() for v in ev_all.table[family_column].dropna() if str(v).strip()})
        o = sel.overlap
        for fam in fams:
            def make(fam=fam):
                sub = _family_subset(ev_all.table, fam, family_column)
                kept, _ = select_overlap(sub, keep=primary, column=o.get("column", "overlap_group"),
                                         size_column=o.get("size_column", "n_total"),
                                         year_column=o.get("year_column", "year"))
                return EvidenceTable(table=kept.reset_index(drop=True), source=f"{ev_all.source}, {fam} only")
            run(_family_label(make, fam, family_column), f"family:{fam}", make, eng=choose_engine(spec, engine))
    if population_model:
        run("all rows + population effect", "all", with_rule("all"),
            model_sp=spec.with_model(population=sel.overlap.get("column", "overlap_group")), eng="mcmc")
    return pd.DataFrame(rows)


def power_scaling(post) -> pd.DataFrame:
    """Power-scaling prior and likelihood sensitivity (Kallioinen et al. 2024) of an MCMC
    fit, on the top-level parameters (mu, coefficients, tau, omega) only."""
    if post.engine != "mcmc":
        raise ModelError("power-scaling needs an MCMC fit (the exact engine has no draws): use --engine mcmc")
    from arviz_stats import psense_summary

    from .engines.mcmc import top_level_vars

    idata = post.extras["idata"]
    if "log_likelihood" not in idata.children or "log_prior" not in idata.children:
        raise ModelError("the fit has no log_likelihood/log_prior groups: refit with log_likelihood=True")
    names = [n for n in top_level_vars(post.model_data) if n != "tau_eta"]
    res = psense_summary(idata, var_names=names, prior_var_names=names)
    return res.reset_index().rename(columns={"index": "parameter"}) if isinstance(res, pd.DataFrame) else pd.DataFrame(res)
