"""The public verbs: fit (and the helpers the CLI, notebooks and sweeps share)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ModelError
from .evidence import EvidenceTable, load_evidence  # select= (select_ is a deprecated alias)
from .evidence.selection import Selection
from .models import build_model_data
from .spec import Spec, read_spec, spec_from_dict
from .summaries import summary_dict  # noqa: F401 - registers Posterior.summary(), .tidy(), ... (posterior.register_views)
from .validate import check_seed

__all__ = ["choose_engine", "evidence_for", "fit", "load_evidence", "load_inputs", "load_spec", "selection_for",
           "write_fit_outputs"]

ENGINES = ("auto", "exact", "mcmc")


def load_spec(spec) -> Spec:
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        return spec_from_dict(spec)
    return read_spec(spec)


def _openable(f: Path) -> str:
    """A file's path as the user can open it from where bayesnet runs: relative to the
    current directory when it lies under it, else absolute (never relative to the spec)."""
    f = Path(f).resolve()
    try:
        return f.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(f)


def evidence_for(spec: Spec, data=None) -> EvidenceTable:
    """The evidence table a spec asks for; `data` (a CSV path or DataFrame) replaces the
    spec's [data] source (its selection keys still apply where they make sense)."""
    d = spec.data
    base = spec.base_dir
    sel = selection_for(d, base)
    given = isinstance(sel, (dict, Selection))
    if data is not None:
        if isinstance(data, pd.DataFrame):
            if _arm_frame(data):
                return _arm_evidence(data, "<DataFrame>", d)
            return load_evidence(data=data, select=sel if given else None)
        if _arm_file(data):
            ev = _arm_evidence(None, str(data), d, path=data)
        else:
            ev = load_evidence(path=data, select=sel if given else None)
        ev.input_sha256 = hashlib.sha256(Path(data).read_bytes()).hexdigest()
        return ev
    if d.path is not None:
        p = Path(d.path)
        p = p if p.is_absolute() else base / p
        if _arm_file(p):
            ev = _arm_evidence(None, _openable(p), d, path=p)  # messages name the file as it opens
        else:
            ev = load_evidence(path=p, select=sel, base_dir=base)
        ev.input_sha256 = hashlib.sha256(p.read_bytes()).hexdigest()
        return ev
    from . import datasets
    from .arm_analysis import ARM_DATASETS

    if d.dataset in ARM_DATASETS:
        ev = _arm_evidence(datasets.load(d.dataset), f"dataset '{d.dataset}'", d)
    else:
        ev = load_evidence(dataset=d.dataset, select=sel, base_dir=base)
    ev.input_sha256 = datasets.sha256(d.dataset)
    return ev


def load_inputs(spec, data=None, evidence: EvidenceTable | None = None) -> tuple[Spec, EvidenceTable]:
    """The checked spec and its evidence table, every problem of both in one pass, in this
    order: the spec's keys, the columns the spec names ([model] covariates, heterogeneity,
    population, [bias.by.<column>]; checked on the file's rows even when some rows are
    wrong), and the evidence file's rows, each naming its file. Problems of one kind raise
    their usual error (SpecError for the spec and its columns, EvidenceError for the rows);
    problems of both kinds raise one `InputError` (caught by either)."""
    from .errors import EvidenceError, InputError, SelectionError, SpecError

    spec_exc, spec_probs = None, []
    try:
        spec = load_spec(spec)
    except SpecError as exc:
        spec = getattr(exc, "partial", None)
        if spec is None:  # [data] itself is wrong (or the file is unreadable): nothing more to check
            raise
        spec_exc, spec_probs = exc, list(exc.problems or [str(exc)])
    ev, ev_exc, ev_probs = evidence, None, []
    if ev is None:
        try:
            ev = evidence_for(spec, data)
        except (EvidenceError, SelectionError) as exc:
            ev_exc, ev_probs = exc, list(getattr(exc, "problems", None) or [str(exc)])
            if isinstance(exc, SelectionError) and spec.path is not None and data is None:
                # a selection the spec names: say which spec and key
                ev_probs = [p if str(p).startswith(str(spec.path)) else f"{spec.path}: [data].select: {p}"
                            for p in ev_probs]
                ev_exc = SelectionError("\n".join(map(str, ev_probs)))
                ev_exc.problems = ev_probs
    if ev is not None:
        col_probs = _column_problems(spec, ev.table)
    else:  # rows that could not all be read: only whether the named columns exist
        table = _rows_as_read(spec, data)
        col_probs = [] if table is None else _column_problems(spec, table, columns_only=True)
    if ev_exc is not None and not spec_probs and not col_probs:
        raise ev_exc
    if spec_exc is not None and not col_probs and ev_exc is None:
        raise spec_exc
    if ev_exc is None and (spec_probs or col_probs):
        raise SpecError(problems=spec_probs + col_probs)
    if ev_exc is not None:
        raise InputError(spec_probs + col_probs + ev_probs)
    return spec, ev


def _column_problems(spec: Spec, table: pd.DataFrame, columns_only: bool = False) -> list[str]:
    """The problems of the columns `spec` names in `table` (bayesnet.models.data_problems
    and bayesnet.bias.check_bias_columns), each naming the spec file. `columns_only`: only
    whether each named column exists (the table is the file's rows before the selection,
    whose levels say nothing about the selected studies)."""
    from .bias import check_bias_columns
    from .errors import SpecError
    from .models import data_problems, input_columns

    out = data_problems(table, spec, columns_only=columns_only)
    if spec.bias is not None and spec.bias.by:
        cols = input_columns(table)
        # with columns_only, every column holds the levels asked for: only absent columns remain
        evidence = {c: list(spec.bias.by.get(c, ())) for c in cols} if columns_only else table[cols]
        try:
            check_bias_columns(spec.bias, evidence)
        except SpecError as exc:
            out += list(exc.problems)
    return out


def _rows_as_read(spec: Spec, data=None) -> pd.DataFrame | None:
    """The evidence file's rows as read (columns normalised, no derivation), to check the
    columns a spec names when some rows are wrong; None when the file cannot be read."""
    from .errors import BayesnetError
    from .evidence.reading import read_table
    from .evidence.validation import normalise_columns

    if isinstance(data, pd.DataFrame):
        raw = data.copy()
    else:
        p = data if data is not None else spec.data.path
        if p is None:
            return None
        p = Path(p)
        p = p if p.is_absolute() or data is not None else spec.base_dir / p
        try:
            raw, _ = read_table(p, str(p))
        except (BayesnetError, OSError):
            return None
    raw, _ = normalise_columns(raw, "")
    if "study" not in raw.columns:
        if "study_id" not in raw.columns:
            return None
        raw["study"] = raw["study_id"]
    return raw


def _arm_frame(df: pd.DataFrame) -> bool:
    from .evidence.arms import has_arm_rows

    return has_arm_rows(df)


def _arm_file(path) -> bool:
    """True when a CSV's header has the arm-level columns and a row has an arm (a bounded
    read; the file is read in full by `_arm_evidence`)."""
    from .evidence.reading import header_columns, read_table

    p = Path(path)
    if not {"arm", "surv"} <= (header_columns(p) or set()):
        return False
    raw, _ = read_table(p, source=str(path))
    return _arm_frame(raw)


def arm_evidence_or_none(dataset: str | None = None, path=None) -> EvidenceTable | None:
    """The evidence table of a shipped arm dataset or a CSV with arm rows
    (`bayesnet.evidence.arms.arm_evidence`, one row per study), or None when the data hold
    HR rows only (then `load_evidence` reads them)."""
    from .arm_analysis import ARM_DATASETS
    from .spec import DataSpec

    d = DataSpec()
    if dataset is not None and dataset in ARM_DATASETS:
        from . import datasets

        return _arm_evidence(datasets.load(dataset), f"dataset '{dataset}'", d)
    if path is not None and _arm_file(path):
        return _arm_evidence(None, str(path), d, path=path)
    return None


def _arm_evidence(df, source: str, d, path=None) -> EvidenceTable:
    """Arm rows (and any HR rows) as one evidence table with a row per study
    (`bayesnet.evidence.arms.arm_evidence`); the spec's include/exclude apply by study."""
    from .evidence.arms import arm_evidence

    if df is None:
        from .evidence.reading import read_table

        df, _ = read_table(path, source=source)
    ev = arm_evidence(df, source=source)
    t = ev.table
    if d.include:
        t = t[t["study"].isin(list(d.include))]
    if d.exclude:
        t = t[~t["study"].isin(list(d.exclude))]
    ev.table = t.reset_index(drop=True)
    return ev
FAMILY_COLUMN = "registry_family"


def selection_for(d, base_dir: Path | None):
    """The selection [data] `d` asks for: its `select` (a name, file or table) as is; with
    include/exclude alone, a selection of those ids from all rows; with `select` and
    include/exclude, keep_overlap or family, the selection with the include/exclude lists
    applied first, the registry family (`family`: rows of that family in column
    registry_family and rows with none) as a last filter and the overlap rule replaced by
    `keep_overlap`."""
    combined = bool(getattr(d, "keep_overlap", None) or getattr(d, "family", None))
    if not combined and not (d.include or d.exclude):
        return d.select or None
    if not combined and not d.select:
        sel = {"name": "spec", "exclude": list(d.exclude or [])}
        if d.include is not None:
            sel["include"] = list(d.include)
        return sel
    import copy

    from .errors import SelectionError
    from .evidence.loading import resolve_selection

    sel = resolve_selection(d.select, d.dataset, base_dir) if d.select else None
    sel = copy.deepcopy(sel) if sel is not None else Selection(name="spec")
    if d.include is not None:
        sel.include = list(d.include)
    if d.exclude:
        sel.exclude = list(sel.exclude or []) + [s for s in d.exclude if s not in (sel.exclude or [])]
    if d.family:
        sel.filters = list(sel.filters) + [{
            "column": FAMILY_COLUMN, "values": [d.family, ""],
            "reason": f"another registry family (only {d.family} rows and rows with no registry family are kept)"}]
    if d.keep_overlap:
        if sel.overlap is None:
            raise SelectionError(f"[data].keep_overlap = {d.keep_overlap!r}: the selection {d.select!r} has no "
                                 f"[overlap] table, so there is no overlap rule to replace; drop keep_overlap or "
                                 f"choose a selection with an [overlap] table")
        sel.overlap = {**sel.overlap, "keep": d.keep_overlap}
    return sel


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
    Returns a `Posterior`; its ``frequentist`` field holds the REML/DL comparator
    (skipped with frequentist=False, as sweeps and influence refits do) and, with
    ``[bias]``, ``as_reported`` the same model without the bias terms."""
    seed = check_seed(seed, "fit(seed=...)")
    spec, ev = load_inputs(spec, data, evidence)
    from .evidence.arms import is_arm_evidence

    if is_arm_evidence(ev):  # arm rows: the arm-level model (bayesnet.arm_analysis), the same Posterior
        from .arm_analysis import fit_arm_posterior

        return fit_arm_posterior(spec, ev, engine=engine, seed=seed, progress=progress, frequentist=frequentist)
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
        post.frequentist = comparator(md.y, md.s**2, md.X, md.coef_names)
    post.input_sha256 = getattr(ev, "input_sha256", None)
    return post


def _fit_with_bias(spec, ev, md, eng, bias, **kw):
    """Fit with the assumed biases of ``[bias]`` (bayesnet.bias; Turner et al. 2009) and,
    beside it, the same model without them: ``post.as_reported``."""
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
    post.as_reported = unadjusted
    post.extras["bias"] = {**post.extras.get("bias", {}), "assumptions": describe_bias(bias)}
    post.frequentist = unadjusted.frequentist  # the comparator has no bias model
    post.input_sha256 = getattr(ev, "input_sha256", None)
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
    ev = post.evidence.table.drop(columns=["arms"], errors="ignore")  # arm rows: the arms are in the model
    merged = ev.merge(st[["study", "shrunken_hr", "shrunken_low", "shrunken_high"]], on="study", how="left")
    write_csv(merged, out_dir / "studies.csv")
    if post.engine == "mcmc" and posterior_nc:
        stored(post.draws).to_netcdf(out_dir / "posterior.nc", engine="h5netcdf")
    return summary
