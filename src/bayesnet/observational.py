"""One call for the observational-evidence blocks of summary.json (issue 10): bias
assumptions, tipping points and the bias curve, E-values, absolute effects, P(HR < t)
across thresholds, and the GRADE draft. Used by `bayesnet fit` and `bayesnet report` once
`[bias]`, `[[absolute]]` and the new `[report]` keys are in the spec."""

from __future__ import annotations

import math
import re

from .absolute import (
    SEED,
    absolute_effects,
    absolute_sentence,
    benefit_curve,
    benefit_table,
)
from .bias import (
    describe_bias,
    reported_inputs,
    tipping_analysis,
    tipping_probabilities,
    tipping_sentence,
)
from .errors import ModelError
from .evalue import evalue_sentence, evalue_summary
from .evidence.conversions import interval_tails
from .grade import grade_draft

__all__ = ["DESIGN_COLUMNS", "observational_blocks", "study_designs"]

DESIGN_COLUMNS = ("design", "study_design", "design_class")  # evidence columns naming a study's design
_RANDOMISED = re.compile(r"random|\brct\b|trial", re.I)
_OBSERVATIONAL = re.compile(r"cohort|case|series|registry|observational|cross.?section|matched|weighted|"
                            r"retrospective|prospective", re.I)


def study_designs(post) -> dict:
    """What the evidence says about the studies' designs: {"column", "randomised",
    "observational", "unknown", "all_observational"} from the first column of
    `DESIGN_COLUMNS` in the evidence table (counts of the analysed studies; a value naming
    randomisation or a trial is randomised, one naming a cohort, case series, registry or
    other non-randomised design observational, anything else or blank unknown).
    all_observational is True only when every study is known to be observational, None
    when the evidence has no design column."""
    ref = post.reported
    table = getattr(ref.evidence, "table", None)
    ok = table is not None and hasattr(table, "columns") and "study" in table.columns
    col = next((c for c in DESIGN_COLUMNS if ok and c in table.columns), None)
    if col is None:
        return {"column": None, "randomised": 0, "observational": 0, "unknown": ref.k, "all_observational": None}
    by = dict(zip(table["study"].astype(str), table[col]))
    counts = {"randomised": 0, "observational": 0, "unknown": 0}
    for st in ref.model_data.studies:
        v = by.get(str(st))
        v = "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
        kind = ("randomised" if _RANDOMISED.search(v) else "observational" if _OBSERVATIONAL.search(v)
                else "unknown")
        counts[kind] += 1
    return {"column": col, **counts, "all_observational": counts["observational"] == ref.k and ref.k > 0}


def _hr_block(m, ci_prob: float = 0.95) -> dict:
    q = m.quantile([0.5, *interval_tails(ci_prob)])
    return {"hr": math.exp(q[0]), "ci95": [math.exp(q[1]), math.exp(q[2])]}


def observational_blocks(post, *, md=None, spec=None, unadjusted=None, bias=None, evidence=None,
                         absolute_rows=(), tipping_overrides=None, rare_outcome: bool = False,
                         treatment: str = "the treatment", indirectness=None, seed: int = SEED,
                         ci_prob: float = 0.95) -> dict:
    """summary.json blocks for `post` (the headline posterior: bias-adjusted when its spec
    has ``[bias]``, with ``post.as_reported`` the fit without bias; otherwise `post` is the
    analysis as reported).

    Everything is read from the Posterior: the studies as reported (`bias.reported_inputs`),
    the bias of its spec, the analysis as reported. The keywords override them for a
    posterior not made by `bayesnet.fit` (`md`: the model data AS REPORTED, never the data
    the bias fit shifted; `unadjusted`: the analysis as reported; `bias`; `evidence`).

    Returns {"bias_assumptions": [...], "tipping_point": [...] or None, "tipping_point_note",
    "bias_curve", "evalue", "evalue_sentence", "evalue_adjusted", "evalue_adjusted_sentence",
    "absolute": [...], "absolute_sentences", "benefit_curve", "benefit_table", "grade_draft"}. Tipping points
    use the exact engine on the studies as reported plus the per-study biases of `bias`,
    applied once (MCMC-only specs get None and a note); "evalue" is for the HR as the
    studies report it, "evalue_adjusted" (with a bias model) for the bias-adjusted HR."""
    md0, spec0, bias0, table0 = reported_inputs(post)
    md = md or md0
    spec = spec or spec0
    bias = bias if bias is not None else bias0
    raw = unadjusted or post.as_reported or post
    adjusted_fit = raw is not post
    th = list(spec.thresholds)
    out: dict = {"bias_assumptions": describe_bias(bias), "designs": study_designs(post)}
    probs = tipping_probabilities(th, tipping_overrides)
    table = evidence.table if evidence is not None and hasattr(evidence, "table") else evidence
    table = table0 if table is None else table
    if not probs:
        out["tipping_point"], out["bias_curve"], out["tipping_sentences"] = None, None, []
        out["tipping_point_note"] = (f"every threshold ({', '.join(f'{t:g}' for t in th)}) is above 1, a harm "
                                     "threshold: a tipping point is computed for benefit thresholds (HR at or "
                                     "below 1) only")
    else:
        try:
            fixed = post.extras.get("fixed_bias")  # a model's own fixed-bias object (the arm-level model)
            if fixed is not None:
                from .bias import bias_curve, tipping_points

                ta = {"tipping_point": tipping_points(md, spec, probs, bias=bias, _fixed=fixed),
                      "curve": bias_curve(md, spec, [t for t in th if t <= 1] or [1.0], _fixed=fixed)}
            elif post.extras.get("arm_model_data") is not None:
                raise ModelError("tipping points of the arm-level model need the exact engine")
            else:
                ta = tipping_analysis(md, spec, probs, thresholds=[t for t in th if t <= 1] or [1.0], bias=bias,
                                      table=table)
            out["tipping_point"], out["bias_curve"], out["tipping_point_note"] = ta["tipping_point"], ta["curve"], None
            out["tipping_sentences"] = [tipping_sentence(r) for r in ta["tipping_point"]]
        except ModelError as exc:
            out["tipping_point"], out["bias_curve"], out["tipping_point_note"] = None, None, str(exc)
            out["tipping_sentences"] = []
    ev = evalue_summary(raw[("pooled",)], rare_outcome=rare_outcome)
    out["evalue"] = ev
    out["evalue_sentence"] = evalue_sentence(ev, treatment)
    out["evalue_adjusted"], out["evalue_adjusted_sentence"] = None, None
    if adjusted_fit:  # the further confounding, beyond the assumed bias, that explains the adjusted HR away
        eva = evalue_summary(post[("pooled",)], rare_outcome=rare_outcome)
        out["evalue_adjusted"] = eva
        out["evalue_adjusted_sentence"] = evalue_sentence(eva, treatment, adjusted=True)
    out["absolute"] = absolute_effects(post, list(absolute_rows), seed=seed, ci_prob=ci_prob)
    out["absolute_sentences"] = [absolute_sentence(r, treatment) for r in out["absolute"]]
    out["benefit_curve"] = benefit_curve(post)
    out["benefit_table"] = benefit_table(post)
    pooled = _hr_block(raw[("pooled",)], ci_prob)
    adjusted = None
    if adjusted_fit:
        adjusted = {**_hr_block(post[("pooled",)], ci_prob),
                    "prob": {t: float(post[("pooled",)].cdf(math.log(t))) for t in th}}
    out["grade_draft"] = grade_draft(
        pooled_hr=pooled["hr"], pooled_ci95=pooled["ci95"], predictive_ci95=_hr_block(raw[("predictive",)], ci_prob)["ci95"],
        thresholds=th, prob_pooled={t: float(raw[("pooled",)].cdf(math.log(t))) for t in th},
        tipping_point=out["tipping_point"], adjusted=adjusted,
        bias_assumptions=out["bias_assumptions"] if bias is not None else None, indirectness=indirectness,
        assumed_bias_range=(bias.common.ratio_interval() if bias is not None and bias.common is not None
                            and bias.common.sigma > 0 else None), k=md.k)
    return out
