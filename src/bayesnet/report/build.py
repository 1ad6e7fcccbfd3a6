"""Building the report dict: the primary fit's summary.json plus the design strata (an
auxiliary meta-regression on the first `[report] group_columns` column with two or more
levels when the spec has no covariates), the sensitivity analyses
(prior sweep, influence, overlap selections), publication bias and the evidence base.
Every number the report shows is computed here; `bayesnet.report.text` only formats it."""

from __future__ import annotations

from ..errors import DiagnosticsFailed

__all__ = ["build_report"]

# evidence columns the studies table shows besides the spec's group columns (evidence schema)
STUDY_COLUMNS = ("overlap_group", "derivation", "warnings")


def _design_strata(spec, ev, engine, seed, ci_prob: float = 0.95):
    """Strata by design: the spec's own covariates, or an auxiliary meta-regression on
    the first of the spec's `[report] group_columns` with two or more levels (intervals
    with probability `ci_prob`)."""
    from ..api import fit
    from ..summaries import strata_and_coefficients

    if spec.model.covariates:
        return None
    t = ev.table
    for col in spec.group_columns:
        if col in t.columns and t[col].astype(str).nunique() >= 2:
            sp = spec.with_model(covariates=[col], reference={})
            post = fit(sp, evidence=ev, engine=engine, seed=seed, log_likelihood=False, frequentist=False)
            strata, coefficients = strata_and_coefficients(post, ci_prob)
            return {"column": col, "model": "meta-regression on " + col, "engine": post.engine,
                    "strata": strata, "coefficients": coefficients, "reference": dict(post.model_data.reference),
                    "diagnostics_passed": post.ok}
    return None


def build_report(spec, data=None, engine: str = "auto", seed: int | None = None, sensitivity: bool = True,
                 progress: bool = False, allow_failed_diagnostics: bool = True,
                 publication_bias: bool = True) -> tuple[dict, object]:
    """Fit the spec and collect every number the report shows. Returns (report dict,
    posterior). The dict is summary.json plus keys design_strata, sensitivity, evidence.
    With allow_failed_diagnostics=False a primary fit that fails its MCMC gate raises
    DiagnosticsFailed before any sensitivity refit runs."""
    from ..api import evidence_for, fit, load_spec
    from ..evidence.table import is_blank
    from ..provenance import portable_text
    from ..sensitivity import influence, overlap_sensitivity, sweep

    spec = load_spec(spec)
    ev = evidence_for(spec, data)
    post = fit(spec, evidence=ev, engine=engine, seed=seed, progress=progress)
    if not post.ok and not allow_failed_diagnostics:
        # the gate comes before the sensitivity analyses: a failed primary fit ends here
        raise DiagnosticsFailed(post.diagnostics)
    rep = post.summary()
    rep["spec_name"] = spec.name
    rep["title"] = spec.report.title or "Probability-of-benefit report"
    rep["question"] = spec.report.question or ""
    rep["design_strata"] = _design_strata(spec, ev, engine, seed, rep["ci_prob"])
    t = ev.table
    cols = [c for c in dict.fromkeys(("study", "label", *spec.group_columns, *STUDY_COLUMNS))
            if c in t.columns]
    rep["evidence"] = {
        "source": portable_text(ev.source),
        "studies": t[cols].map(lambda v: "" if is_blank(v) else str(v)).to_dict(orient="records"),
        "excluded": ([] if ev.excluded is None else
                     ev.excluded[["study", "reason"]].astype(str).to_dict(orient="records")),
    }
    if sensitivity:
        sw = sweep(spec, evidence=ev, engine=engine, seed=seed)
        inf = influence(spec, evidence=ev, engine=engine, seed=seed)
        # the alternative selections re-read the spec's own data source (not a user's data=)
        ov = (overlap_sensitivity(spec, engine=engine, seed=seed, evidence=ev, population_model=False)
              if data is None else None)
        rep["sensitivity"] = {"sweep": _records(sw), "influence": _records(inf),
                              "benefit_column": inf.attrs.get("benefit_column"),
                              "influence_note": inf.attrs.get("note", ""),
                              "overlap": _records(ov)}
        rep["_frames"] = {"sweep": sw, "influence": inf}
    from .multiverse import multiverse_for_report

    if (mv := multiverse_for_report(spec, data)) is not None:  # [report] multiverse names a grid
        rep["_multiverse"] = mv
    if publication_bias and post.k >= 3:
        from ..grade import with_domain
        from ..pubbias.analysis import analyse_publication_bias, grade_publication_bias

        pb = analyse_publication_bias(post)
        rep["publication_bias"] = pb
        if rep.get("grade_draft"):
            rep["grade_draft"] = with_domain(rep["grade_draft"], "publication_bias", grade_publication_bias(pb))
    return rep, post


def _records(df) -> list[dict]:
    """DataFrame rows as JSON-ready dicts: missing values (NaN, e.g. the seed of an exact
    fit or the numbers of an impossible refit) become None."""
    import pandas as pd

    if df is None or len(df) == 0:
        return []
    return [{k: (None if (not isinstance(v, (list, dict, str)) and pd.isna(v)) else v) for k, v in r.items()}
            for r in df.to_dict(orient="records")]

