"""The ``[publication_bias]`` spec section: priors and ensemble of the model-averaged
publication-bias analysis (RoBMA-PSMA; Bartos et al. 2023, Res Synth Methods 14:99-116).

    [publication_bias]
    effect = { dist = "student_t", nu = 2, mu = 0, sigma = 0.13 }      # mean log-HR under H1
    heterogeneity = { dist = "inv_gamma", alpha = 2.42, beta = 0.30 }  # tau under H1
    pet = { dist = "half_cauchy", scale = 1 }       # PET slope on se (towards the benefit side)
    peese = { dist = "half_cauchy", scale = 5 }     # PEESE slope on se^2
    ensemble = "psma"          # "psma" (RoBMA-PSMA: 6 weight functions + PET + PEESE),
                               # "pp" (PET + PEESE only) or "sm" (weight functions only)
    direction = "negative"     # "significant" = HR < 1 (negative) or HR > 1 (positive)
    prior_prob = { effect = 0.5, heterogeneity = 0.5, bias = 0.5 }
    weightfunctions = [ { sided = "two", steps = [0.05], alpha = [1, 1], prior_weight = 1 }, ... ]

Defaults. effect and heterogeneity: the empirical priors for log-HR meta-analyses of
Bartos et al. (2023, "Empirical prior distributions for Bayesian meta-analyses of binary and
time-to-event outcomes"; BayesTools priors-informed.R): mu ~ Student-t(0, 0.13, df 2),
tau ~ inverse-gamma(shape 2.42, scale 0.30). pet, peese, weight functions and prior model
probabilities: RoBMA 3.6 ``set_default_priors`` (PET Cauchy(0, 1) and PEESE Cauchy(0, 5)
truncated to [0, inf), six weight functions of 1/12 each, PET and PEESE 1/4 each of the bias
half; prior_scale "none"). RoBMA's own defaults for the effect and tau (normal(0, 1),
inv_gamma(1, 0.15), Cohen's d scale) are stated exactly by writing them in the section.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import SpecError
from ..priors import Prior, parse_prior
from ..validate import Problems, is_num
from .selection import ROBMA_WEIGHTFUNCTIONS, WeightFunction

__all__ = ["ALLOWED_KEYS", "DEFAULTS", "ENSEMBLE_NAMES", "PublicationBiasConfig", "ensemble_name", "parse_publication_bias"]

ALLOWED_KEYS = {"effect", "heterogeneity", "pet", "peese", "ensemble", "direction", "prior_prob", "weightfunctions"}
DEFAULTS = {
    "effect": {"dist": "student_t", "nu": 2.0, "mu": 0.0, "sigma": 0.13},
    "heterogeneity": {"dist": "inv_gamma", "alpha": 2.42, "beta": 0.30},
    "pet": {"dist": "half_cauchy", "scale": 1.0},
    "peese": {"dist": "half_cauchy", "scale": 5.0},
    "ensemble": "psma",
    "direction": "negative",
    "prior_prob": {"effect": 0.5, "heterogeneity": 0.5, "bias": 0.5},
}
ENSEMBLES = ("psma", "pp", "sm")
ENSEMBLE_NAMES = {"psma": "RoBMA-PSMA", "pp": "RoBMA-PP (PET and PEESE)", "sm": "RoBMA selection models"}


def ensemble_name(ensemble: str) -> str:
    """How a report names the `ensemble` of ``[publication_bias]`` (Bartos et al. 2023)."""
    return ENSEMBLE_NAMES.get(ensemble, f"RoBMA ({ensemble})")


@dataclass(frozen=True)
class PublicationBiasConfig:
    effect: Prior
    heterogeneity: Prior
    pet: Prior
    peese: Prior
    ensemble: str = "psma"
    direction: str = "negative"
    prior_prob: dict = field(default_factory=lambda: dict(DEFAULTS["prior_prob"]))
    weightfunctions: tuple[WeightFunction, ...] = ROBMA_WEIGHTFUNCTIONS

    def to_dict(self) -> dict:
        return {"effect": self.effect.to_dict(), "heterogeneity": self.heterogeneity.to_dict(),
                "pet": self.pet.to_dict(), "peese": self.peese.to_dict(), "ensemble": self.ensemble,
                "direction": self.direction, "prior_prob": dict(self.prior_prob),
                "weightfunctions": [{"sided": w.sided, "steps": list(w.steps), "alpha": list(w.alpha),
                                     "prior_weight": w.prior_weight} for w in self.weightfunctions]}


def parse_publication_bias(raw: dict | None) -> PublicationBiasConfig:
    """Check the ``[publication_bias]`` table (None or {} = all defaults). Raises SpecError
    listing every problem found (``.problems``), in the shared style of `bayesnet.validate`."""
    raw = {} if raw is None else raw
    sec = "publication_bias"
    where = "[publication_bias]"
    P = Problems()
    if not P.table(sec, raw, '{ ensemble = "psma", direction = "negative" }'):
        P.raise_if_any()
    P.keys(sec, raw, ALLOWED_KEYS)
    priors = {}
    for key, kind in (("effect", "effect"), ("heterogeneity", "scale"), ("pet", "scale"), ("peese", "scale")):
        pr = P.run(parse_prior, raw.get(key, DEFAULTS[key]), f"{where}.{key}", kind)
        if pr is not None:
            priors[key] = pr
    for key in ("heterogeneity", "pet", "peese"):
        if key in priors and priors[key].dist == "flat":
            P.add(f"{where}.{key}: a flat prior has no marginal likelihood (Bayes factors need proper priors); "
                  f"use e.g. {{ dist = \"half_cauchy\", scale = 1 }}")
    if "effect" in priors and priors["effect"].dist == "flat":
        P.add(f"{where}.effect: a flat prior has no marginal likelihood; use e.g. "
              f"{{ dist = \"normal\", mu = 0, sigma = 1 }}")
    ensemble = raw.get("ensemble", DEFAULTS["ensemble"])
    P.check(sec, "ensemble", ensemble, lambda v: v in ENSEMBLES,
            "psma (RoBMA-PSMA), pp (PET and PEESE), sm (selection models)")
    direction = raw.get("direction", DEFAULTS["direction"])
    P.check(sec, "direction", direction, lambda v: v in ("negative", "positive"),
            "negative (HR < 1 counts as significant, the default), positive")
    pp = raw.get("prior_prob", {})
    prior_prob = dict(DEFAULTS["prior_prob"])
    pp_sec = f"{where}.prior_prob"
    if P.table(pp_sec, pp, "{ effect = 0.5, heterogeneity = 0.5, bias = 0.5 }"):
        P.keys(pp_sec, pp, prior_prob, shown="effect, heterogeneity, bias")
        for k, v in pp.items():
            if k in prior_prob and P.check(pp_sec, k, v, lambda x: is_num(x) and 0.0 < x < 1.0,
                                           "a probability strictly between 0 and 1"):
                prior_prob[k] = float(v)
    wfs = ROBMA_WEIGHTFUNCTIONS
    if "weightfunctions" in raw:
        tab = raw["weightfunctions"]
        if P.check(sec, "weightfunctions", tab, lambda v: isinstance(v, list) and len(v) > 0,
                   'a non-empty list of tables such as '
                   '{ sided = "one", steps = [0.025, 0.05], alpha = [1, 1, 1], prior_weight = 1 }'):
            wfs = []
            for i, t in enumerate(tab):
                w = f"{where}.weightfunctions[{i}]"
                if not P.table(w, t, '{ sided = "one", steps = [0.025, 0.05] }'):
                    continue
                P.keys(w, t, ("sided", "steps", "alpha", "prior_weight"), shown="sided, steps, alpha, prior_weight")
                steps = t.get("steps")
                if not P.check(w, "steps", steps, lambda v: isinstance(v, list) and v and all(is_num(x) for x in v),
                               "a list of p-values, e.g. [0.025, 0.05]"):
                    continue
                alpha = t.get("alpha")
                if alpha is not None and not P.check(w, "alpha", alpha,
                                                     lambda v: isinstance(v, list) and all(is_num(x) for x in v),
                                                     "a list of positive numbers"):
                    continue
                pw = t.get("prior_weight", 1.0)
                if not P.check(w, "prior_weight", pw, is_num, "a positive number"):
                    continue
                try:
                    wfs.append(WeightFunction(t.get("sided"), tuple(steps), tuple(alpha) if alpha else None, float(pw)))
                except SpecError as e:
                    for m in e.problems:
                        P.add(f"{w}: {m}")
            wfs = tuple(wfs)
    P.raise_if_any()
    return PublicationBiasConfig(effect=priors["effect"], heterogeneity=priors["heterogeneity"], pet=priors["pet"],
                                 peese=priors["peese"], ensemble=ensemble, direction=direction,
                                 prior_prob=prior_prob, weightfunctions=wfs)
