"""One call for the observational-evidence blocks of summary.json (issue 10): bias
assumptions, tipping points and the bias curve, E-values, absolute effects, P(HR < t)
across thresholds, and the GRADE draft. Used by `bayesnet fit` and `bayesnet report` once
`[bias]`, `[[absolute]]` and the new `[report]` keys are in the spec."""

from __future__ import annotations

import math

from .absolute import (
    SEED,
    absolute_effects,
    absolute_sentence,
    benefit_curve,
    benefit_table,
)
from .bias import (
    describe_bias,
    tipping_analysis,
    tipping_probabilities,
    tipping_sentence,
)
from .errors import ModelError
from .evalue import evalue_sentence, evalue_summary
from .evidence.conversions import interval_tails
from .grade import grade_draft

__all__ = ["observational_blocks"]


def _hr_block(m, ci_prob: float = 0.95) -> dict:
    q = m.quantile([0.5, *interval_tails(ci_prob)])
    return {"hr": math.exp(q[0]), "ci95": [math.exp(q[1]), math.exp(q[2])]}


def observational_blocks(post, *, md=None, spec=None, unadjusted=None, bias=None, evidence=None,
                         absolute_rows=(), tipping_overrides=None, rare_outcome: bool = False,
                         treatment: str = "the treatment", indirectness=None, seed: int = SEED,
                         ci_prob: float = 0.95) -> dict:
    """summary.json blocks for `post` (the headline posterior: bias-adjusted when `bias` is
    given, with `unadjusted` the fit without bias; otherwise `post` is unadjusted).

    Returns {"bias_assumptions": [...], "tipping_point": [...] or None, "tipping_point_note",
    "bias_curve", "evalue", "evalue_sentence", "absolute": [...], "absolute_sentences",
    "benefit_curve", "benefit_table", "grade_draft"}. Tipping points use the exact engine on
    the unadjusted data plus the per-study biases of `bias` (MCMC-only specs get None and a
    note); E-values are for the HR as the studies report it (unadjusted)."""
    md = md or post.model_data
    spec = spec or post.spec
    raw = unadjusted or post
    th = list(spec.thresholds)
    out: dict = {"bias_assumptions": describe_bias(bias)}
    probs = tipping_probabilities(th, tipping_overrides)
    table = evidence.table if evidence is not None and hasattr(evidence, "table") else evidence
    try:
        fixed = post.extras.get("fixed_bias")  # a model's own fixed-bias object (the arm-level model)
        if fixed is not None:
            from .bias import bias_curve, tipping_points

            ta = {"tipping_point": tipping_points(md, spec, probs, _fixed=fixed),
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
    out["absolute"] = absolute_effects(post, list(absolute_rows), seed=seed, ci_prob=ci_prob)
    out["absolute_sentences"] = [absolute_sentence(r, treatment) for r in out["absolute"]]
    out["benefit_curve"] = benefit_curve(post)
    out["benefit_table"] = benefit_table(post)
    pooled = _hr_block(raw[("pooled",)], ci_prob)
    adjusted = None
    if unadjusted is not None:
        adjusted = {**_hr_block(post[("pooled",)], ci_prob),
                    "prob": {t: float(post[("pooled",)].cdf(math.log(t))) for t in th}}
    out["grade_draft"] = grade_draft(
        pooled_hr=pooled["hr"], pooled_ci95=pooled["ci95"], predictive_ci95=_hr_block(raw[("predictive",)], ci_prob)["ci95"],
        thresholds=th, prob_pooled={t: float(raw[("pooled",)].cdf(math.log(t))) for t in th},
        tipping_point=out["tipping_point"], adjusted=adjusted,
        bias_assumptions=out["bias_assumptions"] if bias is not None else None, indirectness=indirectness,
        assumed_bias_range=(bias.common.ratio_interval() if bias is not None and bias.common is not None
                            and bias.common.sigma > 0 else None))
    return out
