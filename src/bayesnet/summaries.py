"""Summaries of a Posterior, computed one way for both engines: the summary.json dict,
tidy pandas tables and a labelled xarray Dataset.

S (a summary of one quantity on one scale) = {mean, sd, median, ci95: [lo, hi],
hpd95: [lo, hi]}: ci95 is the equal-tailed interval with probability `ci_prob` (default
0.95, which names the keys), hpd95 the shortest interval with that probability on that
scale (HR-scale HPDs are computed on the HR density, not exponentiated from the log
scale). Probabilities are keyed by `format.prob_key` ("p_hr_lt_0.8", "p_hr_gt_1.25").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .evidence.conversions import interval_tails, z_for_level
from .evidence.table import is_blank
from .format import prob_key, ratio_prob_key
from .posterior import register_views

__all__ = ["S", "assert_finite", "observational_summary", "pooled_label", "prob_block", "strata_and_coefficients",
           "studies_table", "summary_dict", "tidy_table", "to_xarray"]


def _exp(x):
    """exp on the HR scale; None (not inf) when the HR is beyond the largest float (about
    1e308, |log HR| > 709). Such values are reported as null and listed in the summary's
    "warnings" (documented choice: never an inf, never an OverflowError)."""
    with np.errstate(over="ignore", invalid="ignore"):
        v = float(np.exp(x))
    return v if math.isfinite(v) else None


def _fin(v):
    v = float(v)
    return v if math.isfinite(v) else None


def S(m, scale: str = "log", ci_prob: float = 0.95) -> dict:
    """Summary of a marginal on the log-HR scale ("log"), the HR scale ("hr", through
    ``m.on("hr")``) or as is ("raw"): mean, sd, median, the equal-tailed interval ("ci95")
    and the HPD interval ("hpd95") with probability `ci_prob`. On the HR scale, values too
    large for a float are None (see _exp)."""
    tails = interval_tails(ci_prob)
    if scale == "hr":
        h = m.on("hr")
        with np.errstate(over="ignore", invalid="ignore"):
            q = h.quantile([0.5, *tails])
            mean, sd = h.moments()
            hpd = h.hpd(ci_prob)
        return {"mean": _fin(mean), "sd": _fin(sd), "median": _fin(q[0]),
                "ci95": [_fin(q[1]), _fin(q[2])], "hpd95": [_fin(x) for x in hpd]}
    q = m.quantile([0.5, *tails])
    mean, sd = m.moments()
    return {"mean": mean, "sd": sd, "median": float(q[0]), "ci95": [float(q[1]), float(q[2])],
            "hpd95": list(m.hpd(ci_prob))}


def assert_finite(obj, path: str = "summary") -> None:
    """Every number in a summary is finite: a NaN or inf is a bug in bayesnet (internal
    error, exit 1), never a result. None marks a documented "not available" value."""
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise RuntimeError(f"internal error: non-finite number {obj!r} at {path}; please report")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            assert_finite(v, f"{path}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            assert_finite(v, f"{path}[{i}]")


def _has_none(obj) -> bool:
    if obj is None:
        return True
    if isinstance(obj, dict):
        return any(_has_none(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_has_none(v) for v in obj)
    return False


def pooled_label(md) -> str:
    """Plain-words name of the headline estimand: "pooled HR", or with covariates "HR at the
    reference levels (design = cohort, ...)"."""
    if not md.reference:
        return "pooled HR"
    return "HR at the reference levels (" + ", ".join(f"{c} = {lv}" for c, lv in md.reference.items()) + ")"


def prob_block(m, thresholds, harm) -> dict:
    """The probabilities of a log-HR marginal keyed by `format.prob_key`: P(HR < t) as
    "p_hr_lt_<t>" for every threshold t ("p_hr_lt_1", "p_hr_lt_0.8") and P(HR > harm) as
    "p_hr_gt_<harm>" ("p_hr_gt_1.25")."""
    out = {prob_key(t): float(m.cdf(math.log(t))) for t in thresholds}
    out[prob_key(harm, "gt")] = float(1.0 - m.cdf(math.log(harm)))
    return out


def _both(m, ci_prob: float = 0.95) -> dict:
    return {"log_hr": S(m, "log", ci_prob), "hr": S(m, "hr", ci_prob)}


def missing_group_columns(post) -> list[str]:
    """The `[report] group_columns` the evidence does not have (named in summary.json's
    warnings, so a typo cannot silently drop the strata from the report)."""
    named = post.spec.report.group_columns or ()
    ev = getattr(post, "evidence", None)
    cols = set(ev.table.columns) if ev is not None else set()
    return [c for c in named if c not in cols] if ev is not None else []


def summary_dict(post, observational: bool = True, ci_prob: float = 0.95) -> dict:
    """The summary.json content (schema in the README). `observational` adds the blocks of
    `observational_summary` (bias, tipping points, E-values, absolute effects, GRADE
    draft); refits inside sensitivity analyses leave them out. Intervals ("ci95", "hpd95")
    have probability `ci_prob` (recorded as "ci_prob")."""
    from .posterior import prefetch_mixture_summaries
    from .provenance import provenance

    md, spec = post.model_data, post.spec
    th, harm = spec.thresholds, spec.harm
    mg = post.marginals
    # every quantile and HPD below, solved together (studies need no HPD)
    prefetch_mixture_summaries(mg.values(), prob=ci_prob, probs=(0.5, *interval_tails(ci_prob)),
                               hpd_of=[v for k, v in mg.items() if k[0] != "study"])
    out = {
        "engine": post.engine,
        "k": md.k,
        "status": "ok" if post.ok else "failed_diagnostics",
        "ci_prob": ci_prob,
        "pooled": _both(mg[("pooled",)], ci_prob),
        "tau": S(mg[("tau",)], "raw", ci_prob) if ("tau",) in mg else None,
        "predictive": _both(mg[("predictive",)], ci_prob),
        "prob": {"pooled": prob_block(mg[("pooled",)], th, harm),
                 "predictive": prob_block(mg[("predictive",)], th, harm)},
    }
    out["pooled_label"] = pooled_label(md)
    warnings: list[str] = []
    if spec.model.effects == "random" and md.k < 3:
        warnings.append(f"only {md.k} stud{'y' if md.k == 1 else 'ies'}: the between-study SD (tau) is informed "
                        f"mainly by its prior ({spec.priors.tau.describe()}); read tau, I2 and the predictive "
                        f"interval as prior-driven")
    missing = missing_group_columns(post)
    if missing:
        warnings.append(f"[report] group_columns names {', '.join(repr(c) for c in missing)}, not "
                        f"{'a column' if len(missing) == 1 else 'columns'} of the evidence: the studies table, strata "
                        f"and leave-one-level-out rows leave {'it' if len(missing) == 1 else 'them'} out; name columns "
                        f"of the data or remove the key")
    if ("tau_scale",) in mg:
        out["tau_scale"] = S(mg[("tau_scale",)], "raw", ci_prob)
    if ("tau",) in mg:
        out["tau_sd"] = out["tau"]
    elif spec.model.effects == "random":
        warnings.append(f"Student-t random effects with {spec.model.random_df:g} degrees of freedom have no finite "
                        f"between-study SD (needs df > 2): tau_scale is reported, tau and I2 are not")
    out["tau_label"] = ("between-study SD (tau)" if ("tau_scale",) not in mg else
                        f"between-study SD = tau_scale x sqrt(nu/(nu-2)), nu = {spec.model.random_df:g}; "
                        f"the tau prior is on tau_scale")
    if ("predictive_new_group",) in mg:
        out["predictive_new_group"] = {**_both(mg[("predictive_new_group",)], ci_prob),
                                       "prob": prob_block(mg[("predictive_new_group",)], th, harm),
                                       "label": f"a new study in a new {md.het_column} group (its tau drawn "
                                                f"from the population of group taus)"}
    out["predictive_label"] = (
        f"a new study at the reference levels ({md.het_column} = {md.reference[md.het_column]}, with that group's tau)"
        if md.het_column and md.het_column in md.reference else
        ("a new study in a new " + md.het_column + " group" if md.het_column else
         ("a new study at the reference levels" if md.reference else "a new study")))
    if ("i2",) in mg:
        out["i2"] = S(mg[("i2",)], "raw", ci_prob)
    by_group = {k[1]: S(v, "raw", ci_prob) for k, v in mg.items() if k[0] == "tau" and len(k) == 2}
    if by_group:
        out["tau_by_group"] = {"column": md.het_column, "levels": by_group}
    if ("omega",) in mg:
        out["omega"] = S(mg[("omega",)], "raw", ci_prob)
    out["strata"], coefficients = strata_and_coefficients(post, ci_prob)
    out["reference"] = md.reference
    out["coefficients"] = coefficients
    hr_cols = ("hr", "hr_low", "hr_high", "shrunken_hr", "shrunken_low", "shrunken_high", "log_hr", "se",
               "bias_adjusted_log_hr", "bias_adjusted_se", "bias_adjusted_hr", "bias_adjusted_hr_low",
               "bias_adjusted_hr_high")  # a case series has no HR of its own: null
    out["studies"] = [{k: (None if k in hr_cols and isinstance(v, float) and not math.isfinite(v) else v)
                       for k, v in r.items()} for r in _study_rows(post, ci_prob)]
    out["frequentist"] = post.frequentist
    if post.extras.get("arm_model") is not None:  # the arm-level model (bayesnet.arm_analysis)
        out["arm_model"] = dict(post.extras["arm_model"])
        for key, name in ((("baseline",), "baseline_mean"), (("baseline_sd",), "baseline_sd")):
            out["arm_model"][name] = S(mg[key], "raw", ci_prob) if key in mg else None
    out["diagnostics"] = post.diagnostics
    out["provenance"] = provenance(post)
    if any(_has_none(out[k]) for k in ("pooled", "predictive", "strata", "coefficients")) or \
            any(r["hr"] is None or r["hr_low"] is None or r["hr_high"] is None for r in out["studies"]
                if r["se"] is not None):  # a single-arm case series reports no HR (se None)
        warnings.append("some HRs are beyond the largest representable number (about 1e308) and are shown as "
                        "not available (null); check the evidence for an implausible HR or standard error")
    out["warnings"] = warnings
    if observational:
        out.update(observational_summary(post, ci_prob))
    assert_finite({k: v for k, v in out.items() if k not in ("provenance", "diagnostics")})
    return out


def strata_and_coefficients(post, ci_prob: float = 0.95) -> tuple[dict, dict]:
    """The "strata" and "coefficients" blocks of summary.json (without the per-study
    table, so an auxiliary meta-regression costs no O(k) quantiles).

    strata: {covariate: {level: {log_hr: S, hr: S, reference, n_studies, prob,
    predictive: {log_hr, hr, prob}}}}, the HR at each level with the other covariates at
    their reference levels, intervals with probability `ci_prob`, prob keyed by
    `format.prob_key`. coefficients: {"cov:level": {log_hr: S, hr_ratio: S,
    "p_ratio_lt_1"}}: the coefficient (log of the HR at the level over the HR at the
    reference level), the ratio of HRs, and P(ratio < 1) = P(coefficient < 0)
    (`format.ratio_prob_key`)."""
    md, spec, mg = post.model_data, post.spec, post.marginals
    th, harm = spec.thresholds, spec.harm
    strata = {}
    for cov, lev in md.strata():
        m = mg[("stratum", cov, lev)]
        mp = mg[("stratum_predictive", cov, lev)]
        strata.setdefault(cov, {})[lev] = {
            **_both(m, ci_prob), "reference": lev == md.reference[cov],
            "n_studies": int(sum(v == lev for v in md.covariate_values[cov])),
            "prob": prob_block(m, th, harm),
            "predictive": {**_both(mp, ci_prob), "prob": prob_block(mp, th, harm)},
        }
    coefficients = {k[1]: {"log_hr": S(v, "log", ci_prob), "hr_ratio": S(v, "hr", ci_prob),
                           ratio_prob_key(1.0): float(v.cdf(0.0))}
                    for k, v in mg.items() if k[0] == "coef"}
    return strata, coefficients


def observational_summary(post, ci_prob: float = 0.95) -> dict:
    """The observational-evidence blocks (bayesnet.observational): with ``[bias]``, the
    analysis as reported under ``unadjusted`` (same schema); bias assumptions, tipping
    points and the bias curve, E-values, absolute effects (``[[absolute]]``), P(HR < t)
    across thresholds and the GRADE draft."""
    from .observational import observational_blocks

    spec = post.spec
    r = spec.report
    unadjusted = post.as_reported
    out = {}
    if unadjusted is not None:
        out["unadjusted"] = summary_dict(unadjusted, observational=False, ci_prob=ci_prob)
    out.update(observational_blocks(
        post, spec=spec,
        absolute_rows=list(getattr(spec, "absolute", None) or ()), tipping_overrides=r.tipping_probability,
        rare_outcome=bool(r.rare_outcome), treatment=r.treatment or "the treatment", ci_prob=ci_prob,
        indirectness=_curated_indirectness(post)))
    return out


def _curated_indirectness(post):
    """The evidence's curated ``indirectness`` column (bayesnet.grade.indirectness_from_table),
    or None when it has none (the GRADE draft then says the panel judges)."""
    from .grade import indirectness_from_table

    ev = post.evidence
    if ev is None or not hasattr(ev, "table"):
        return None
    return indirectness_from_table(ev.table, source=str(getattr(ev, "source", None) or "evidence"))


def studies_table(post, ci_prob: float = 0.95) -> pd.DataFrame:
    """One row per study: the HR as the study REPORTED it (after the documented conversions
    of the evidence table) with its confidence interval; with ``[bias.by]`` terms, the
    estimate after the assumed study-specific bias (bias_adjusted_hr, _hr_low, _hr_high,
    _log_hr, _se); and the shrunken HR
    (posterior median) with its equal-tailed credible interval, both with probability
    `ci_prob`; the covariates, the spec's `[report] group_columns`, overlap_group, the
    derivation and the warnings."""
    return pd.DataFrame(_study_rows(post, ci_prob))


def _as_reported_effects(post) -> tuple[np.ndarray, np.ndarray]:
    """Each study's log-HR and SE as REPORTED (the evidence table after its documented
    conversions: inversion, an SE from a CI or a p-value), in the model's study order.
    Never the model's data: a fit with ``[bias.by]`` terms has shifted and widened those."""
    md, ev = post.model_data, post.evidence
    t = ev.table if ev is not None else None
    if t is None or not {"study", "log_hr", "se"} <= set(t.columns):
        return np.asarray(md.y, float), np.asarray(md.s, float)
    by = {str(a): (float(b), float(c)) for a, b, c in zip(t["study"], t["log_hr"], t["se"])}
    if not all(str(st) in by for st in md.studies):
        return np.asarray(md.y, float), np.asarray(md.s, float)
    y, s = zip(*(by[str(st)] for st in md.studies))
    return np.asarray(y, float), np.asarray(s, float)


def _study_bias_effects(post, y_rep, s_rep) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Each study's log-HR and SE after the assumed study-specific bias (``[bias.by]``:
    y_i - m_i, sqrt(s_i^2 + v_i^2); Turner et al. 2009), or (None, None) when no study has
    one. The exact engine's bias fit holds them as its model data; the MCMC model carries
    the bias terms beside the reported data."""
    md = post.model_data
    bm, bv = getattr(md, "bias_mean", None), getattr(md, "bias_var", None)
    if bm is not None and (np.any(np.asarray(bm) != 0) or np.any(np.asarray(bv) != 0)):
        y, s = np.asarray(md.y, float) - np.asarray(bm, float), np.sqrt(np.asarray(md.s, float) ** 2 + np.asarray(bv))
    else:
        y, s = np.asarray(md.y, float), np.asarray(md.s, float)
    if np.array_equal(y, y_rep) and np.array_equal(s, s_rep):
        return None, None
    return y, s


def _study_rows(post, ci_prob: float = 0.95) -> list[dict]:
    """The rows of `studies_table` as dicts (summary.json reads them without a DataFrame)."""
    from .posterior import prefetch_mixture_summaries

    md, ev = post.model_data, post.evidence
    rows = []
    t = ev.table if ev is not None else None
    y_rep, s_rep = _as_reported_effects(post)
    y_adj, s_adj = _study_bias_effects(post, y_rep, s_rep)
    by_study = {}  # column -> {study: value}, read once (not one .loc per cell)
    margs = [post.marginals[("study", st)] for st in md.studies]
    z, tails = z_for_level(ci_prob), interval_tails(ci_prob)
    extra = ("derivation", "warnings", *post.spec.group_columns, "overlap_group")
    # the study quantiles, solved together
    prefetch_mixture_summaries(margs, prob=ci_prob, probs=(0.5, *tails), hpd_of=())
    for i, st in enumerate(md.studies):
        m = margs[i]
        q = m.quantile([0.5, *tails])
        row = {"study": st, "log_hr": float(y_rep[i]), "se": float(s_rep[i]),
               "hr": _exp(y_rep[i]), "hr_low": _exp(y_rep[i] - z * s_rep[i]),
               "hr_high": _exp(y_rep[i] + z * s_rep[i]),
               "shrunken_hr": _exp(q[0]), "shrunken_low": _exp(q[1]),
               "shrunken_high": _exp(q[2]),
               "shrunken_log_hr_mean": m.mean()}
        if y_adj is not None:
            row.update({"bias_adjusted_log_hr": float(y_adj[i]), "bias_adjusted_se": float(s_adj[i]),
                        "bias_adjusted_hr": _exp(y_adj[i]), "bias_adjusted_hr_low": _exp(y_adj[i] - z * s_adj[i]),
                        "bias_adjusted_hr_high": _exp(y_adj[i] + z * s_adj[i])})
        for cov, vals in md.covariate_values.items():
            row[cov] = vals[i]
        if t is not None:
            for col in dict.fromkeys(extra):
                if col in t.columns and col not in row:
                    if col not in by_study:
                        by_study[col] = dict(zip(t["study"], t[col]))
                    v = by_study[col][st]
                    row[col] = "" if is_blank(v) else str(v)
        rows.append(row)
    return rows


def tidy_table(post, ci_prob: float = 0.95) -> pd.DataFrame:
    """Tidy frame: one row per quantity, on the HR scale (tau, omega, I^2 as they are):
    mean, sd, median, the equal-tailed (ci_low, ci_high) and HPD (hpd_low, hpd_high)
    intervals with probability `ci_prob`, and for HRs the probabilities keyed by
    `format.prob_key` (p_hr_lt_<t>, p_hr_gt_<harm>)."""
    th, harm = post.spec.thresholds, post.spec.harm
    rows = []
    for key, m in post.marginals.items():
        kind = key[0]
        ratio = kind not in ("tau", "omega", "i2")
        s = S(m, "hr" if ratio else "raw", ci_prob)
        row = {"quantity": kind, "covariate": key[1] if kind.startswith("stratum") else None,
               "level": key[2] if kind.startswith("stratum") else (key[1] if len(key) > 1 else None),
               "scale": "hr" if ratio else "raw", "mean": s["mean"], "sd": s["sd"], "median": s["median"],
               "ci_low": s["ci95"][0], "ci_high": s["ci95"][1], "hpd_low": s["hpd95"][0], "hpd_high": s["hpd95"][1]}
        if ratio:
            row.update(prob_block(m, th, harm))
        rows.append(row)
    return pd.DataFrame(rows)


def to_xarray(post, ci_prob: float = 0.95):
    """Labelled xarray Dataset on the HR scale (tau as it is), stat = mean, sd, median,
    ci_low, ci_high (equal-tailed), hpd_low, hpd_high (shortest), intervals with
    probability `ci_prob` (attribute "ci_prob", default 0.95):
    pooled_hr, predictive_hr, tau (stat); study_hr (study, stat); with covariates,
    stratum_hr and stratum_predictive_hr (covariate, level, stat), where `level` is the
    union of every covariate's levels and a (covariate, level) pair that does not exist
    is NaN; the probabilities of summary.json's "prob" block as scalar variables named by the
    one key scheme (p_hr_lt_<t>, p_hr_gt_<harm>, p_pred_hr_lt_<t>, p_pred_hr_gt_<harm>).
    Values equal those of `tidy_table`."""
    import xarray as xr

    stats_ = ["mean", "sd", "median", "ci_low", "ci_high", "hpd_low", "hpd_high"]

    def vec(m, scale="hr"):
        s = S(m, scale, ci_prob)
        return [np.nan if v is None else v for v in (s["mean"], s["sd"], s["median"], *s["ci95"], *s["hpd95"])]

    mg, md = post.marginals, post.model_data
    data = {"pooled_hr": (("stat",), vec(mg[("pooled",)])),
            "predictive_hr": (("stat",), vec(mg[("predictive",)]))}
    coords = {"stat": stats_, "study": md.studies}
    if ("tau",) in mg:
        data["tau"] = (("stat",), vec(mg[("tau",)], "raw"))
    data["study_hr"] = (("study", "stat"), [vec(mg[("study", s)]) for s in md.studies])
    strata = md.strata()
    if strata:
        covs = list(dict.fromkeys(c for c, _ in strata))
        levels = list(dict.fromkeys(lv for _, lv in strata))
        coords["covariate"], coords["level"] = covs, levels
        for name, kind in (("stratum_hr", "stratum"), ("stratum_predictive_hr", "stratum_predictive")):
            arr = np.full((len(covs), len(levels), len(stats_)), np.nan)
            for c, lv in strata:
                arr[covs.index(c), levels.index(lv)] = vec(mg[(kind, c, lv)])
            data[name] = (("covariate", "level", "stat"), arr)
    # probabilities: one scalar variable per key of the one scheme (bayesnet.format.prob_key),
    # p_hr_lt_<t> / p_hr_gt_<harm> for the pooled HR, p_pred_hr_lt_<t> / p_pred_hr_gt_<harm>
    # for the HR in a new study (the same numbers as summary.json's "prob" block)
    from .format import prob_key

    th, harm = list(post.spec.thresholds), post.spec.harm
    for quantity, pred in (("pooled", False), ("predictive", True)):
        for t in th:
            data[prob_key(t, "lt", predictive=pred)] = ((), post.prob(quantity, float(t)))
        data[prob_key(harm, "gt", predictive=pred)] = ((), post.prob(quantity, float(harm), "gt"))
    return xr.Dataset(data, coords=coords, attrs={"engine": post.engine, "k": md.k, "ci_prob": ci_prob})


register_views(summary=summary_dict, tidy=tidy_table, studies_table=studies_table, to_xarray=to_xarray)
