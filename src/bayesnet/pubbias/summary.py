"""The ``publication_bias`` block of summary.json, from the evidence (log-HRs, ses and, where
known, events) and the ``[publication_bias]`` section:

    {k, egger: {z, p, ...}, debray: {...} | null, pet_peese: {...}, selection: {...},
     averaging: {models, inclusion_prob, inclusion_bf, pooled: {log_hr, hr}, prob, ...},
     funnel: {...}, caveat}

Every block carries k; below 10 studies the block leads with the caveat that publication
bias cannot be assessed reliably.
"""

from __future__ import annotations

import numpy as np

from ..priors import Prior
from .averaging import fit_ensemble
from .config import PublicationBiasConfig, parse_publication_bias
from .funnel import funnel_data
from .petpeese import pet_peese
from .tests import MIN_STUDIES, UndefinedTest, debray_test, egger_test

__all__ = ["MAX_AVERAGING_K", "publication_bias_summary"]

MAX_AVERAGING_K = 500  # above this many studies the model-averaged ensemble is not run (cost)


def _selection_block(avg: dict) -> dict:
    """The selection-model part of the ensemble: each weight function's posterior probability
    (summed over effect / heterogeneity) and the weight functions' total."""
    by_wf: dict[str, float] = {}
    prior_wf: dict[str, float] = {}
    for m in avg["models"]:
        if m["bias"] == "selection":
            by_wf[m["weightfunction"]] = by_wf.get(m["weightfunction"], 0.0) + m["post_prob"]
            prior_wf[m["weightfunction"]] = prior_wf.get(m["weightfunction"], 0.0) + m["prior_prob"]
    return {"weightfunctions": [{"label": k, "prior_prob": prior_wf[k], "post_prob": v} for k, v in by_wf.items()],
            "post_prob": float(sum(by_wf.values())), "prior_prob": float(sum(prior_wf.values()))}


def publication_bias_summary(y, s, cfg: PublicationBiasConfig | dict | None = None, thresholds=(1.0,),
                             studies=None, events_treated=None, events_control=None, events_total=None,
                             seed: int = 20261123, max_averaging_k: int = MAX_AVERAGING_K,
                             pooled_log_hr: float | None = None, pooled_label: str | None = None) -> dict:
    """All publication-bias analyses of one evidence set. Debray's test runs on the studies
    with known events (per arm if all have both arms, else totals) and says how many; a
    test these data cannot define (identical standard errors or events) is None with a
    note (``egger_note``, ``debray_note``). The funnel is centred on `pooled_log_hr`
    labelled `pooled_label` (`analyse_publication_bias` passes the analysis as reported);
    without it, on the model-averaged HR of the ensemble (the inverse-variance mean when the
    ensemble is not run), labelled as such."""
    if not isinstance(cfg, PublicationBiasConfig):
        cfg = parse_publication_bias(cfg)
    y, s = np.asarray(y, float), np.asarray(s, float)
    k = len(y)
    out: dict = {"k": k}
    if k < MIN_STUDIES:
        out["caveat"] = f"With {k} studies, publication bias cannot be assessed reliably."
    out["egger"] = None
    if k >= 3:
        try:
            out["egger"] = egger_test(y, s)
        except UndefinedTest as exc:
            out["egger_note"] = str(exc)
    debray = None
    try:
        if events_treated is not None and events_control is not None:
            et, ec = np.asarray(events_treated, float), np.asarray(events_control, float)
            ok = np.isfinite(et) & np.isfinite(ec) & (et > 0) & (ec > 0)
            if ok.sum() >= 3:
                debray = debray_test(y[ok], s[ok], events_treated=et[ok], events_control=ec[ok])
        if debray is None and events_total is not None:
            d = np.asarray(events_total, float)
            ok = np.isfinite(d) & (d > 0)
            if ok.sum() >= 3:
                debray = debray_test(y[ok], s[ok], events_total=d[ok])
    except UndefinedTest as exc:
        debray, out["debray_note"] = None, str(exc)
    if debray is not None:
        debray["studies_without_events"] = int(k - debray["k"])
    out["debray"] = debray
    mu_prior = cfg.effect if cfg.effect.is_normal_or_flat else Prior("normal", {"mu": 0.0, "sigma": 1.0})
    same_se = k >= 1 and float(np.ptp(s)) <= 1e-9 * float(np.max(s))
    if k >= 3 and same_se:
        out["pet_peese"] = None
        out["pet_peese_note"] = (f"PET-PEESE is undefined here: all {k} studies have the same standard error, so "
                                 "a trend of the log-HR with it cannot be estimated")
    elif k >= 3:
        out["pet_peese"] = pet_peese(y, s, mu_prior, cfg.heterogeneity, cfg.direction, thresholds)
        out["pet_peese"]["effect_prior"] = mu_prior.describe()
    if k > max_averaging_k:
        # the ensemble's cost grows with k (about 20 s at k = 50); far beyond the sizes of
        # published meta-analyses it is left out rather than stall a report
        out["selection"] = out["averaging"] = None
        out["averaging_note"] = (f"Robust Bayesian model averaging was not run: {k} studies is more than "
                                 f"{max_averaging_k} (its cost grows with k); run bayesnet bias with a subset.")
        w = 1.0 / s**2
        if pooled_log_hr is None:
            pooled_log_hr = float(np.sum(w * y) / np.sum(w))
            pooled_label = "inverse-variance pooled HR (common effect)"
        out["funnel"] = funnel_data(y, s, pooled_log_hr, studies, label=pooled_label)
        return out
    avg = fit_ensemble(y, s, cfg, thresholds=thresholds, seed=seed)
    out["selection"] = _selection_block(avg)
    out["averaging"] = avg
    if pooled_log_hr is None:
        pooled_log_hr = avg["pooled"]["log_hr"]["median"]
        pooled_label = "model-averaged HR (with the publication-bias models)"
    out["funnel"] = funnel_data(y, s, pooled_log_hr, studies, label=pooled_label)
    return out
