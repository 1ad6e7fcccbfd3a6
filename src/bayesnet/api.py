"""The public verbs: fit (and the helpers the CLI, notebooks and sweeps share)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ModelError
from .evidence import EvidenceTable, load_evidence  # select= (select_ is a deprecated alias)
from .models import build_model_data
from .spec import Spec, read_spec, spec_from_dict

__all__ = ["choose_engine", "evidence_for", "fit", "load_evidence", "load_spec", "write_fit_outputs"]

ENGINES = ("auto", "exact", "mcmc")


def load_spec(spec) -> Spec:
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        return spec_from_dict(spec)
    return read_spec(spec)


def evidence_for(spec: Spec, data=None) -> EvidenceTable:
    """The evidence table a spec asks for; `data` (a CSV path or DataFrame) replaces the
    spec's [data] source (its selection keys still apply where they make sense)."""
    d = spec.data
    sel = None
    if d.include or d.exclude:
        sel = {"name": "spec", "include": None if d.include is None else list(d.include),
               "exclude": list(d.exclude or [])}
        if sel["include"] is None:
            sel.pop("include")
    elif d.select:
        sel = d.select
    base = spec.base_dir
    if data is not None:
        if isinstance(data, pd.DataFrame):
            return load_evidence(data=data, select=sel if isinstance(sel, dict) else None)
        ev = load_evidence(path=data, select=sel if isinstance(sel, dict) else None)
        ev.input_sha256 = hashlib.sha256(Path(data).read_bytes()).hexdigest()
        return ev
    if d.path is not None:
        p = Path(d.path)
        p = p if p.is_absolute() else base / p
        ev = load_evidence(path=p, select=sel, base_dir=base)
        ev.input_sha256 = hashlib.sha256(p.read_bytes()).hexdigest()
        return ev
    from . import datasets
    from .arm_analysis import ARM_DATASETS

    if d.dataset in ARM_DATASETS:
        from .errors import ModelError

        raise ModelError(f"dataset '{d.dataset}' holds arm-level survival rows, not hazard ratios: fit it with the "
                         f"arm-level model (bayesnet report/fit SPEC, or bayesnet.arm_analysis.fit_arm_analysis(SPEC))")
    ev = load_evidence(dataset=d.dataset, select=sel, base_dir=base)
    ev.input_sha256 = datasets.sha256(d.dataset)
    return ev


def choose_engine(spec: Spec, engine: str = "auto") -> str:
    from .engines.exact import can_fit

    if engine not in ENGINES:
        raise ModelError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    ok, why = can_fit(spec)
    if engine == "auto":
        return "exact" if ok else "mcmc"
    if engine == "exact" and not ok:
        raise ModelError(f"the exact engine cannot fit this model: {why}. Use --engine mcmc (or auto)")
    return engine


def fit(spec, data=None, engine: str = "auto", seed: int | None = None, evidence: EvidenceTable | None = None,
        progress: bool = False, log_likelihood: bool = True, frequentist: bool = True):
    """Fit the analysis described by `spec` (a TOML path, dict or Spec).

    engine: "exact" (quadrature, NNHM and meta-regression with normal/flat priors on the
    coefficients), "mcmc" (PyMC + nutpie, every model) or "auto" (exact when possible).
    Returns a `Posterior`; its ``extras["frequentist"]`` holds the REML/DL comparator
    (skipped with frequentist=False, as sweeps and influence refits do)."""
    spec = load_spec(spec)
    ev = evidence if evidence is not None else evidence_for(spec, data)
    md = build_model_data(ev, spec)
    eng = choose_engine(spec, engine)
    bias = getattr(spec, "bias", None)
    if bias is not None:
        # the bias-adjusted posterior in the usual place, the analysis as reported beside it
        return _fit_with_bias(spec, ev, md, eng, bias, seed=seed, progress=progress, log_likelihood=log_likelihood,
                              frequentist=frequentist)
    if eng == "exact":
        from .engines.exact import fit_exact

        post = fit_exact(md, spec, ev)
        post.seed = seed
    else:
        from .engines.mcmc import fit_mcmc

        post = fit_mcmc(md, spec, ev, seed=seed, progress=progress, log_likelihood=log_likelihood)
    from .engines.frequentist import comparator

    if frequentist and md.k >= 2:
        post.extras["frequentist"] = comparator(md.y, md.s**2, md.X, md.coef_names)
    post.extras["input_sha256"] = getattr(ev, "input_sha256", None)
    return post


def _fit_with_bias(spec, ev, md, eng, bias, **kw):
    """Fit with the assumed biases of ``[bias]`` (bayesnet.bias; Turner et al. 2009) and,
    beside it, the same model without them: ``post.extras["unadjusted"]``."""
    import dataclasses

    from .bias import check_bias_columns, describe_bias, study_bias_arrays

    check_bias_columns(bias, ev)
    plain = dataclasses.replace(spec, bias=None)
    unadjusted = fit(plain, evidence=ev, engine=eng, **kw)
    if eng == "exact":
        from .bias import fit_exact_with_bias

        post = fit_exact_with_bias(md, spec, bias, ev)
        post.seed = kw.get("seed")
    else:
        from .engines.mcmc import fit_mcmc

        m, v = study_bias_arrays(bias, md.studies, ev.table)
        md_b = dataclasses.replace(md, bias_mean=np.asarray(m, float), bias_var=np.asarray(v, float),
                                   bias_common=bias.common)
        post = fit_mcmc(md_b, spec, ev, seed=kw.get("seed"), progress=kw.get("progress", False),
                        log_likelihood=kw.get("log_likelihood", True))
    post.extras["unadjusted"] = unadjusted
    post.extras["bias"] = {"assumptions": describe_bias(bias)}
    if "frequentist" in unadjusted.extras:
        post.extras["frequentist"] = unadjusted.extras["frequentist"]  # the comparator has no bias model
    post.extras["input_sha256"] = getattr(ev, "input_sha256", None)
    return post


def _json_default(o):
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o))


def to_json(obj) -> str:
    """JSON text of `obj` as bayesnet stores it: numbers rounded by `io.stored`
    (STORED_DIGITS significant digits), NaN and infinities as null."""
    import json
    import math

    from .io import stored

    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {str(k): clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        if isinstance(x, (np.floating,)):
            return clean(float(x))
        return x

    return json.dumps(clean(stored(obj)), indent=2, default=_json_default, allow_nan=False)


def write_fit_outputs(post, out_dir: Path, summary: dict | None = None, studies=None,
                      posterior_nc: bool = True) -> dict:
    """summary.json (`summary`, default post.summary()), studies.csv (evidence table +
    shrunken estimates; `studies` is the per-study table when already computed, default
    post.studies_table()) and, for MCMC with posterior_nc, posterior.nc; every number
    rounded to io.STORED_DIGITS significant digits (`io.stored`)."""
    from .io import stored, write_csv

    summary = summary or post.summary()
    (out_dir / "summary.json").write_text(to_json(summary), encoding="utf-8")
    st = post.studies_table() if studies is None else studies
    ev = post.evidence.table.copy()
    merged = ev.merge(st[["study", "shrunken_hr", "shrunken_low", "shrunken_high"]], on="study", how="left")
    write_csv(merged, out_dir / "studies.csv")
    if post.engine == "mcmc" and posterior_nc:
        stored(post.extras["idata"]).to_netcdf(out_dir / "posterior.nc", engine="h5netcdf")
    return summary
