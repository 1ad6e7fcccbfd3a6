"""Publication-bias analysis of a fitted posterior: the glue between a `Posterior` (its
studies' log-HRs, standard errors and, where the evidence table has them, events) and
`publication_bias_summary`, plus the GRADE publication-bias domain it implies.

Events columns used for Debray's test when present: ``events_treated`` and
``events_control`` (per arm), else ``events_total`` (or ``events``)."""

from __future__ import annotations

import math

import numpy as np

from ..errors import ModelError
from ..format import bf as fmt_bf
from .summary import publication_bias_summary
from .tests import MIN_STUDIES

__all__ = ["analyse_publication_bias", "grade_publication_bias"]


def _column(table, *names):
    for n in names:
        if table is not None and n in table.columns:
            v = np.array([float(x) if str(x).strip() not in ("", "nan", "None") else math.nan
                          for x in table[n]], float)
            if np.isfinite(v).any():
                return v
    return None


def analyse_publication_bias(post, cfg=None, seed: int = 20261123) -> dict:
    """summary.json's ``publication_bias`` block for the studies of `post` as reported
    (``post.reported``: log-HR and se as the studies reported them, never the bias-shifted
    data; display labels where the table has them), the funnel centred on the pooled HR
    of the analysis as reported. `cfg`: a PublicationBiasConfig or the raw
    ``[publication_bias]`` table (None: the defaults)."""
    # publication bias concerns the estimates as reported: never the bias-shifted data
    post = post.reported
    md = post.extras.get("model_data_as_reported", post.model_data)
    if md.k < 2:
        raise ModelError(f"publication bias needs at least 2 studies, got {md.k}: with one study there is no "
                         "funnel, no small-study test and no model average (select more studies in [data])")
    table = post.evidence.table if post.evidence is not None else None
    labels = list(md.studies)
    if table is not None and "label" in table.columns:
        lab = dict(zip(table["study"].astype(str), table["label"].astype(str)))
        labels = [lab.get(s) or s for s in md.studies]
    order = None
    if table is not None:
        pos = {s: i for i, s in enumerate(table["study"].astype(str))}
        order = [pos.get(s) for s in md.studies]

    def col(*names):
        v = _column(table, *names)
        if v is None or order is None or any(i is None for i in order):
            return None
        return v[order]

    if cfg is None:
        cfg = getattr(post.spec, "publication_bias", None)
    return publication_bias_summary(md.y, md.s, cfg, thresholds=tuple(post.spec.thresholds), studies=labels,
                                    events_treated=col("events_treated"), events_control=col("events_control"),
                                    events_total=col("events_total", "events"), seed=seed,
                                    pooled_log_hr=post["pooled"].median(), pooled_label=_funnel_label(post))


def _funnel_label(post) -> str:
    """The basis of the funnel's pooled HR: this posterior's median, as reported."""
    bias = getattr(post.spec, "bias", None)
    return ("pooled HR as reported (Bayesian, no bias adjustment)" if bias is None else
            "pooled HR under the [bias] assumptions (Bayesian)")


def _egger_words(pb: dict) -> tuple[str, float | None]:
    """Egger's small-sample t test in words, and its p (None when not run or undefined)."""
    from ..format import num, p_eq

    eg = pb.get("egger") or {}
    ss = eg.get("small_sample") or {}
    if ss.get("p") is not None:
        return f"Egger's test t = {num(ss['t'])} ({ss['df']} df), p {p_eq(ss['p'])}", ss["p"]
    if eg.get("p") is not None:
        return f"Egger's test p {p_eq(eg['p'])}", eg["p"]
    return (pb.get("egger_note") or "Egger's test not run"), None


def grade_publication_bias(pb: dict) -> dict:
    """The GRADE publication-bias domain {concern, sentence} from a ``publication_bias``
    block: below 10 studies it cannot be assessed (no rating down on that ground alone,
    but the panel is told; Egger's test is reported as having too little power, never as a
    finding, and only an inclusion Bayes factor for bias components above 3 is mentioned
    as a possible signal); otherwise serious when that Bayes factor exceeds 3 (moderate
    evidence, Jeffreys' scale) or Egger's small-sample t test (k - 2 df) gives p < 0.10."""
    k = pb["k"]
    avg = pb.get("averaging") or {}
    bf = (avg.get("inclusion_bf") or {}).get("bias")
    with_b, without = avg.get("pooled", {}).get("hr", {}), avg.get("without_bias_components", {}).get("pooled", {}).get("hr", {})
    shift = ""
    if with_b.get("median") and without.get("median"):
        shift = (f"; the model-averaged HR is {with_b['median']:.2f} with the bias models and {without['median']:.2f} "
                 f"without them")
    bf_txt = f"inclusion Bayes factor for bias {fmt_bf(bf)}" if bf is not None else "no Bayes factor"
    eg_txt, eg_p = _egger_words(pb)
    if k < MIN_STUDIES:
        signal = bf is not None and bf > 3
        eg_part = (f"{eg_txt}, a test with too little power at {k} studies to show or exclude small-study effects"
                   if eg_p is not None else eg_txt)
        return {"concern": "possible (panel to judge)" if signal else "cannot be assessed",
                "sentence": f"Publication bias: with {k} studies it cannot be assessed reliably ({eg_part}; {bf_txt}, "
                            f"which with so few studies depends strongly on the priors of the bias models{shift})"
                            + ("; the bias models are favoured by the Bayes factor, a possible signal of small-study "
                               "effects" if signal else "")
                            + "; the panel should judge it from how the evidence was searched and whether unpublished "
                              "or negative studies are likely."}
    serious = (bf is not None and bf > 3) or (eg_p is not None and eg_p < 0.10)
    return {"concern": "serious" if serious else "not serious",
            "sentence": f"Publication bias: {'suspected' if serious else 'not detected'} ({eg_txt}; {bf_txt}{shift})."}

