"""From what a paper reports to (log_hr, se) on the log hazard-ratio scale.

One function per formula. The effect scale is the log hazard ratio of the treated arm
versus the control arm: negative values mean that treated patients die at a lower rate.

References
----------
Tierney JF, Stewart LA, Ghersi D, Burdett S, Sydes MR (2007). Practical methods for
incorporating summary time-to-event data into meta-analysis. Trials 8:16.
Parmar MKB, Torri V, Stewart L (1998). Extracting summary statistics to perform
meta-analyses of the published literature for survival endpoints. Stat Med 17:2815-34.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.special import ndtr, ndtri

__all__ = [
    "Effect",
    "z_for_level",
    "from_hr_ci",
    "from_ci_only",
    "from_hr_p",
    "from_log_hr_se",
    "from_logrank",
    "from_survival_proportions",
    "from_medians",
    "invert",
    "ci_from_log_hr_se",
    "p_from_log_hr_se",
]


@dataclass(frozen=True)
class Effect:
    """A study effect on the log-HR scale with the tag of how it was derived."""

    log_hr: float
    se: float
    derivation: str


def z_for_level(level: float = 0.95) -> float:
    """Standard-normal quantile z = Phi^-1((1 + level) / 2) for a two-sided interval."""
    return float(ndtri((1.0 + level) / 2.0))


def from_hr_ci(hr: float, ci_low: float, ci_high: float, level: float = 0.95) -> Effect:
    """HR with its confidence interval.

    log_hr = ln HR;  se = (ln U - ln L) / (2 z),  z = Phi^-1((1 + level)/2).
    (Tierney et al. 2007, Trials 8:16, method 1.)
    """
    se = (math.log(ci_high) - math.log(ci_low)) / (2.0 * z_for_level(level))
    return Effect(math.log(hr), se, "hr_ci")


def from_ci_only(ci_low: float, ci_high: float, level: float = 0.95) -> Effect:
    """A confidence interval with no point estimate: the point is imputed as the centre
    of the interval on the log scale, log_hr = (ln L + ln U) / 2; se as in `from_hr_ci`.
    Tagged ``imputed_point_estimate``."""
    se = (math.log(ci_high) - math.log(ci_low)) / (2.0 * z_for_level(level))
    return Effect(0.5 * (math.log(ci_low) + math.log(ci_high)), se, "imputed_point_estimate")


def from_hr_p(hr: float, p: float, bound: bool = False) -> Effect:
    """HR with a two-sided p-value (Wald test assumed).

    se = |ln HR| / Phi^-1(1 - p/2). With a bound ("p < 0.001") the same formula gives an
    upper bound on the se, which is used as a conservative value
    (tag ``se_from_p_bound``); an exact p gives tag ``se_from_p``.
    Raises ValueError when HR = 1 or p >= 1, which carry no information on the se.
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p = {p} cannot give a standard error (needs 0 < p < 1)")
    if hr == 1.0:
        raise ValueError("HR = 1 cannot give a standard error from a p-value")
    se = abs(math.log(hr)) / float(-ndtri(p / 2.0))
    return Effect(math.log(hr), se, "se_from_p_bound" if bound else "se_from_p")


def from_log_hr_se(log_hr: float, se: float) -> Effect:
    """A log HR with its standard error, used as given."""
    return Effect(float(log_hr), float(se), "log_hr_se")


def from_logrank(o_minus_e: float, v: float) -> Effect:
    """Peto's one-step estimate from the log-rank O - E and its variance V:
    log_hr = (O - E) / V,  se = 1 / sqrt(V). (Tierney et al. 2007, method 2.)"""
    return Effect(o_minus_e / v, 1.0 / math.sqrt(v), "logrank_peto")


def from_survival_proportions(
    surv_treated: float, surv_control: float, n_treated: float, n_control: float
) -> Effect:
    """Survival proportions S_t, S_c at one time point under proportional hazards.

    log_hr = ln(-ln S_t) - ln(-ln S_c);  se = sqrt(1/E_t + 1/E_c) with approximate
    event counts E = n (1 - S). Crude: it ignores censoring and the shape of the curves
    (Parmar et al. 1998; Tierney et al. 2007). Tagged ``from_survival_proportions``.
    """
    e_t = n_treated * (1.0 - surv_treated)
    e_c = n_control * (1.0 - surv_control)
    log_hr = math.log(-math.log(surv_treated)) - math.log(-math.log(surv_control))
    return Effect(log_hr, math.sqrt(1.0 / e_t + 1.0 / e_c), "from_survival_proportions")


def from_medians(
    median_treated: float,
    median_control: float,
    events_treated: float,
    events_control: float,
    tag: str = "from_medians",
) -> Effect:
    """Median survival times under exponential survival: the hazard is ln 2 / median, so
    log_hr = ln(M_c / M_t);  se = sqrt(1/E_t + 1/E_c) with the event counts
    (reported, or approximated by the caller). Crude. Mean survival times give the same
    ratio under the exponential model (mean = median / ln 2)."""
    log_hr = math.log(median_control) - math.log(median_treated)
    return Effect(log_hr, math.sqrt(1.0 / events_treated + 1.0 / events_control), tag)


def invert(effect: Effect) -> Effect:
    """An effect reported as control vs treated, turned into treated vs control:
    log_hr -> -log_hr, se unchanged (the CI bounds swap and invert). The tag gains
    ``+inverted``."""
    return Effect(-effect.log_hr, effect.se, effect.derivation + "+inverted")


def ci_from_log_hr_se(log_hr: float, se: float, level: float = 0.95) -> tuple[float, float]:
    """The HR confidence interval exp(log_hr -/+ z se)."""
    z = z_for_level(level)
    return math.exp(log_hr - z * se), math.exp(log_hr + z * se)


def p_from_log_hr_se(log_hr: float, se: float) -> float:
    """Two-sided Wald p-value 2 (1 - Phi(|log_hr| / se))."""
    return float(2.0 * ndtr(-abs(log_hr) / se))
