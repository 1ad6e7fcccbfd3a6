"""Publication-bias analysis of a fitted posterior: the glue between a `Posterior` (its
studies' log-HRs, standard errors and, where the evidence table has them, events) and
`publication_bias_summary`, plus the GRADE publication-bias domain it implies.

Events columns used for Debray's test when present: ``events_treated`` and
``events_control`` (per arm), else ``events_total`` (or ``events``)."""

from __future__ import annotations

import math

import numpy as np

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
    """summary.json's ``publication_bias`` block for the studies of `post` (log-HR and se as
    analysed, display labels where the table has them). `cfg`: a PublicationBiasConfig or
    the raw ``[publication_bias]`` table (None: the defaults)."""
    # publication bias concerns the estimates as reported: never the bias-shifted data
    post = post.reported
    md = post.model_data
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
                                    events_total=col("events_total", "events"), seed=seed)


def grade_publication_bias(pb: dict) -> dict:
    """The GRADE publication-bias domain {concern, sentence} from a ``publication_bias``
    block: below 10 studies it cannot be assessed (no rating down on that ground alone,
    but the panel is told); otherwise serious when the inclusion Bayes factor for bias
    components exceeds 3 (moderate evidence, Jeffreys' scale) or Egger's p < 0.10."""
    k = pb["k"]
    avg = pb.get("averaging") or {}
    bf = (avg.get("inclusion_bf") or {}).get("bias")
    eg = pb.get("egger") or {}
    with_b, without = avg.get("pooled", {}).get("hr", {}), avg.get("without_bias_components", {}).get("pooled", {}).get("hr", {})
    shift = ""
    if with_b.get("median") and without.get("median"):
        shift = (f"; the model-averaged HR is {with_b['median']:.2f} with the bias models and {without['median']:.2f} "
                 f"without them")
    bf_txt = f"inclusion Bayes factor for bias {bf:.2f}" if bf is not None else "no Bayes factor"
    eg_txt = f"Egger's test p = {eg['p']:.2f}" if eg.get("p") is not None else "Egger's test not run"
    signal = (bf is not None and bf > 3) or (eg.get("p") is not None and eg["p"] < 0.10)
    if k < MIN_STUDIES:
        return {"concern": "possible (panel to judge)" if signal else "cannot be assessed",
                "sentence": f"Publication bias: with {k} studies it cannot be assessed reliably ({eg_txt}; {bf_txt}, "
                            f"which with so few studies depends strongly on the priors of the bias models{shift})"
                            + ("; there are signals of small-study effects" if signal else "")
                            + "; the panel should judge it from how the evidence was searched and whether unpublished "
                              "or negative studies are likely."}
    serious = signal
    return {"concern": "serious" if serious else "not serious",
            "sentence": f"Publication bias: {'suspected' if serious else 'not detected'} ({eg_txt}; {bf_txt}{shift})."}
