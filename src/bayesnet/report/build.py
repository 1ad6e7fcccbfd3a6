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
    from ..api import fit, load_inputs
    from ..evidence.table import is_blank
    from ..provenance import portable_text
    from ..sensitivity import influence, overlap_sensitivity, sweep

    spec, ev = load_inputs(spec, data)  # every problem of the spec and its data in one pass
    post = fit(spec, evidence=ev, engine=engine, seed=seed, progress=progress)
    if not post.ok and not allow_failed_diagnostics:
        # the gate comes before the sensitivity analyses: a failed primary fit ends here
        raise DiagnosticsFailed(post.diagnostics)
    rep = post.summary()
    rep["spec_name"] = spec.name
    rep["title"] = spec.report.title or "Probability-of-benefit report"
    rep["question"] = spec.report.question or ""
    # the names the text, the Summary-of-Findings table and the figures use (never a hard-coded one)
    rep["treatment"] = spec.report.treatment or "the treatment"
    rep["outcome"] = spec.report.outcome
    rep["comparator"] = spec.report.comparator
    rep["show_hpd"] = bool(spec.report.show_hpd)
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
    if rep.get("bias_curve"):
        from ..whatif import what_if_grid

        rep["what_if"] = what_if_grid(post, ci_prob=rep["ci_prob"])  # the report's what-if panel
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
    rep["scenarios"] = _scenarios(spec, ev, rep["ci_prob"])
    rep["bias_label"] = _scenario_label(spec, short=True) if spec.bias is not None else None
    rep["published_comparison"] = _published(spec, rep)
    from .sof import summary_of_findings

    rep["summary_of_findings"] = summary_of_findings(rep, as_reported=_as_reported(post), table=ev.table,
                                                     ci_prob=rep["ci_prob"])
    return rep, post


def _scenario_label(sc, short: bool = False) -> str:
    """A scenario's name in plain words: its common-bias prior when it states one (the
    thing a bias scenario varies), else its title or file name; `short`: "shared bias
    centred at 0.70"."""
    c = getattr(sc.bias, "common", None) if sc.bias is not None else None
    if c is not None:
        if c.sigma > 0:
            lo, hi = c.ratio_interval()
            return (f"shared bias centred at {c.ratio:.2f}" if short else
                    f"shared bias, reported HR / true HR centred at {c.ratio:.2f} (95% prior range {lo:.2f} to {hi:.2f})")
        return f"fixed shared bias {c.ratio:.2f}"
    return sc.name if short else (sc.report.title or sc.name)


def _scenarios(spec, ev, ci_prob: float) -> list[dict]:
    """The headline of each spec in ``[report] scenarios`` (file names relative to this
    spec): the same evidence (this report's, after its selection) under that spec's model,
    priors and bias, fitted by the exact engine. A scenario whose [data] differs from this
    spec's, that the exact engine cannot fit, or that is missing is a SpecError naming the key."""
    from ..api import fit, load_spec
    from ..bias import describe_bias
    from ..engines.exact import can_fit
    from ..errors import SpecError

    out = []
    where = f"{spec.path}: " if spec.path else ""
    for name in spec.report.scenarios:
        path = (spec.base_dir / name).resolve()
        if not path.is_file():
            raise SpecError(f"{where}[report] scenarios: {name!r} is not a file next to the spec ({path}); name a "
                            f"spec file relative to {spec.base_dir}")
        sc = load_spec(path)
        if sc.data != spec.data:
            raise SpecError(f"{where}[report] scenarios: {name!r} reads other data ([data] differs); a scenario is "
                            f"the same evidence under other assumptions: give it this spec's [data]")
        ok, why = can_fit(sc)
        if not ok:
            raise SpecError(f"{where}[report] scenarios: {name!r} cannot be fitted by the exact engine ({why}); "
                            f"scenarios are computed exactly during the report")
        s = fit(sc, evidence=ev, engine="exact", frequentist=False, log_likelihood=False).summary(
            observational=False, ci_prob=ci_prob)
        out.append({"name": sc.name, "spec": name, "label": _scenario_label(sc),
                    "short_label": _scenario_label(sc, short=True), "engine": s["engine"],
                    "bias_assumptions": describe_bias(sc.bias), "pooled": s["pooled"], "predictive": s["predictive"],
                    "prob": s["prob"], "tau": s.get("tau")})
    return out


PUBLISHED_COLUMNS = ("ma_id", "effect_measure", "pooled_estimate", "ci_low", "ci_high")


def _published(spec, rep: dict) -> list[dict]:
    """Each ``[report] published`` entry ({dataset, id, label, note, invert}): the row `id` of a
    shipped table of published meta-analyses (columns ma_id, effect_measure,
    pooled_estimate, ci_low, ci_high; n_studies, n_patients, model, doi, source_url,
    flags kept as provenance), beside this report's REML on its own rows (the frequentist
    comparator, as reported) and the ratio of the two 95% interval widths on the log scale
    (REML Wald / published); ``invert = true`` states that the published HR compares control
    with treated (HR > 1 = benefit) and inverts it. SpecError for an unknown table, row or a
    non-HR measure."""
    import math

    import pandas as pd

    from .. import datasets
    from ..errors import BayesnetError, SpecError

    out = []
    where = f"{spec.path}: " if spec.path else ""
    for entry in spec.report.published:
        name, rid = entry["dataset"], entry["id"]
        try:
            df = pd.read_csv(datasets.path(name), dtype=str, keep_default_na=False)
        except BayesnetError as exc:
            raise SpecError(f"{where}[report] published: {exc}") from None
        missing = [c for c in PUBLISHED_COLUMNS if c not in df.columns]
        if missing:
            raise SpecError(f"{where}[report] published: dataset '{name}' has no column(s) {', '.join(missing)}: "
                            f"it is not a table of published meta-analyses")
        rows = df[df["ma_id"] == rid]
        if len(rows) != 1:
            raise SpecError(f"{where}[report] published: dataset '{name}' has no row ma_id = '{rid}'; ids: "
                            f"{', '.join(df['ma_id'])}")
        r = rows.iloc[0]
        if not str(r["effect_measure"]).strip().upper().startswith("HR"):
            raise SpecError(f"{where}[report] published: '{rid}' reports {r['effect_measure']!r}, not a hazard ratio; "
                            f"only HRs can be compared with this analysis")
        try:
            hr, lo, hi = (float(r[c]) for c in ("pooled_estimate", "ci_low", "ci_high"))
        except ValueError:
            raise SpecError(f"{where}[report] published: '{rid}' has no numeric pooled_estimate, ci_low and ci_high"
                            ) from None
        if entry.get("invert") is True:  # a published HR of control vs treated (stated in the spec)
            hr, lo, hi = 1.0 / hr, 1.0 / hi, 1.0 / lo
        pub = {"id": rid, "dataset": name, "label": entry.get("label") or rid, "hr": hr, "ci95": [lo, hi],
               "inverted": entry.get("invert") is True, "note": entry.get("note") or ""}
        for c in ("n_studies", "n_patients", "model", "journal", "year", "doi", "source_url", "flags"):
            if c in df.columns and str(r[c]).strip():
                pub[c] = int(r[c]) if c == "n_studies" and str(r[c]).isdigit() else str(r[c])
        f = (rep.get("frequentist") or {}).get("REML")
        reml = ({"hr": f["hr"], "hr_ci": list(f["hr_ci"]), "hr_ci_kh": list(f["hr_ci_kh"])} if f else None)
        ratio = (math.log(reml["hr_ci"][1] / reml["hr_ci"][0]) / math.log(hi / lo) if reml and hi > lo else None)
        out.append({"published": pub, "reml": reml, "width_ratio": ratio,
                    "basis": "REML on this report's rows as reported (no bias adjustment)"})
    return out


def _as_reported(post):
    """The posterior of the analysis as reported (no [bias]): `Posterior.as_reported`; None
    without [bias]."""
    return post.as_reported


def _records(df) -> list[dict]:
    """DataFrame rows as JSON-ready dicts: missing values (NaN, e.g. the seed of an exact
    fit or the numbers of an impossible refit) become None."""
    import pandas as pd

    if df is None or len(df) == 0:
        return []
    return [{k: (None if (not isinstance(v, (list, dict, str)) and pd.isna(v)) else v) for k, v in r.items()}
            for r in df.to_dict(orient="records")]

