"""The what-if grid behind the report's interactive panel: for a fixed common bias ratio R
(reported HR / true HR) that replaces the ``[bias] common`` prior, with the per-study
``[bias.by]`` terms kept as specified (the tipping-point model, `bayesnet.bias`), the
probabilities P(true HR < t), pooled and in a new setting, at every threshold of the
benefit table (`bayesnet.absolute.BENEFIT_TABLE_HR`) and of the spec, and the absolute
effects per 1000 at every ``[[absolute]]`` baseline, on a grid of R from 0.5 to 1 in
steps of 0.01.

The probabilities come from the function the bias curve uses (`bias._FixedBias.probs`,
the exact engine's tau grid reweighted in closed form), started from the evidence AS
REPORTED (the fit without ``[bias]``), so the grid equals `bias.bias_curve` of the same
data at the curve's ratios. Absolute effects: S_treated = S_control^HR over the whole
fixed-bias posterior of the HR, median and equal-tailed interval as
`bayesnet.absolute.absolute_effect` gives them (a baseline with ``n`` is taken as fixed
here, and the block says so: ``baseline_uncertainty_ignored``).
"""

from __future__ import annotations

import math

import numpy as np

from .absolute import BENEFIT_TABLE_HR, AbsoluteRow
from .bias import _curve_ratios, _FixedBias
from .evidence.conversions import interval_tails
from .format import threshold

__all__ = ["WHAT_IF_RATIOS", "what_if_grid"]

#: the grid of R: 0.5 to 1 in steps of 0.01 (the bias curve's default ratios)
WHAT_IF_RATIOS = np.linspace(0.5, 1.0, 51)


def what_if_thresholds(spec) -> list[float]:
    """The benefit table's thresholds and the spec's, from 0.3 to 1.5, ascending."""
    ths = set(BENEFIT_TABLE_HR) | {float(t) for t in spec.thresholds if 0.3 <= float(t) <= 1.5}
    return sorted(ths)


def what_if_grid(post, ratios=None, thresholds=None, ci_prob: float = 0.95) -> dict:
    """The what-if grid of a posterior fitted by the exact engine (see the module
    docstring): {"ratio": [R...], "thresholds": [t...], "pooled": {"<t>": [P(HR < t) per
    R]}, "predictive": {...}, "absolute": [{label, time_years, baseline_survival,
    "pooled": [{median, ci95} per R], "predictive": [...]}], "basis": ...}. Differences
    are alive per 1000 (positive = more alive with the treatment). Raises ModelError when
    the exact engine does not apply (as the tipping points)."""
    spec = post.spec
    bias = getattr(spec, "bias", None)
    as_reported = post.reported  # the fit of the studies as reported (no [bias])
    table = post.evidence.table if getattr(post, "evidence", None) is not None else None
    rf = post.extras.get("fixed_bias")  # a model's own fixed-bias object (the arm-level model)
    if rf is None:
        rf = _FixedBias(as_reported.model_data, spec, bias, table)
    if ratios is None:  # the slider's steps and the bias curve's points (the same for k <= 1000)
        ratios = np.unique(np.concatenate([WHAT_IF_RATIOS, _curve_ratios(as_reported.model_data.k)]))
    ratios = np.asarray(ratios, float)
    deltas = np.log(ratios)
    ths = what_if_thresholds(spec) if thresholds is None else [float(t) for t in thresholds]
    out = {"ratio": [float(r) for r in ratios], "thresholds": ths, "pooled": {}, "predictive": {}, "absolute": [],
           "basis": ("fixed common bias R replacing the [bias] common prior; per-study [bias.by] biases as "
                     "specified; the studies as reported otherwise")}
    for q in ("pooled", "predictive"):
        for t in ths:
            out[q][threshold(t)] = [float(v) for v in rf.probs(deltas, t, q)]
    tails = interval_tails(ci_prob)
    for row in getattr(spec, "absolute", None) or ():
        fixed = AbsoluteRow(row.time_years, row.label, row.survival)  # the baseline as given
        blk = {"label": row.label, "time_years": row.time_years, "baseline_survival": row.survival,
               "baseline_uncertainty_ignored": row.n is not None, "pooled": [], "predictive": []}
        ls0 = math.log(fixed.survival)
        for d in deltas:
            for q in ("pooled", "predictive"):
                # the median and equal-tailed interval of `absolute_effect` (a decreasing map of the
                # log-HR quantiles), without its moments and HPD interval
                x = rf.marginal(d, q).quantile([0.5, *tails])
                diff = 1000.0 * (np.exp(ls0 * np.exp(x)) - fixed.survival)
                blk[q].append({"median": float(diff[0]), "ci95": [float(diff[2]), float(diff[1])]})
        out["absolute"].append(blk)
    return out
