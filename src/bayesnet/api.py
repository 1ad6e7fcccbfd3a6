"""The public verbs: fit (and the helpers the CLI, notebooks and sweeps share)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from .evidence import EvidenceTable, load_evidence
from .models import build_model_data
from .spec import Spec, read_spec, spec_from_dict

__all__ = ["fit", "load_spec", "evidence_for", "choose_engine", "write_fit_outputs"]

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
    if d.get("include") or d.get("exclude"):
        sel = {"name": "spec", "include": d.get("include"), "exclude": d.get("exclude", [])}
        if sel["include"] is None:
            sel.pop("include")
    elif d.get("select"):
        sel = d["select"]
    base = spec.base_dir
    if data is not None:
        if isinstance(data, pd.DataFrame):
            return load_evidence(data=data, select_=sel if isinstance(sel, dict) else None)
        ev = load_evidence(path=data, select_=sel if isinstance(sel, dict) else None)
        ev.input_sha256 = hashlib.sha256(Path(data).read_bytes()).hexdigest()
        return ev
    if "path" in d:
        p = Path(d["path"])
        p = p if p.is_absolute() else base / p
        ev = load_evidence(path=p, select_=sel, base_dir=base)
        ev.input_sha256 = hashlib.sha256(p.read_bytes()).hexdigest()
        return ev
    from . import datasets

    ev = load_evidence(dataset=d["dataset"], select_=sel, base_dir=base)
    ev.input_sha256 = datasets.sha256(d["dataset"])
    return ev


def choose_engine(spec: Spec, engine: str = "auto") -> str:
    from .engines.exact import can_fit

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    ok, why = can_fit(spec)
    if engine == "auto":
        return "exact" if ok else "mcmc"
    if engine == "exact" and not ok:
        raise ValueError(f"the exact engine cannot fit this model: {why}. Use --engine mcmc (or auto)")
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
    import json
    import math

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

    return json.dumps(clean(obj), indent=2, default=_json_default, allow_nan=False)


def write_fit_outputs(post, out_dir: Path, summary: dict | None = None) -> dict:
    """summary.json, studies.csv (evidence table + shrunken estimates), posterior.nc (mcmc)."""
    summary = summary or post.summary()
    (out_dir / "summary.json").write_text(to_json(summary))
    st = post.studies_table()
    ev = post.evidence.table.copy()
    merged = ev.merge(st[["study", "shrunken_hr", "shrunken_low", "shrunken_high"]], on="study", how="left")
    merged.to_csv(out_dir / "studies.csv", index=False)
    if post.engine == "mcmc":
        idata = post.extras["idata"]
        idata.to_netcdf(out_dir / "posterior.nc", engine="h5netcdf")
    return summary
