"""The analysis spec (TOML): parse, check every key, fill defaults. Documented once, here
and in the README ("The model spec").

    [data]     dataset | path, select | include/exclude
    [model]    effects, random_dist, random_df, covariates, reference, heterogeneity, population
    [priors]   mu, beta, tau, omega, and [priors.coef] per-coefficient overrides
    [report]   thresholds, harm_threshold, title, question
    [mcmc]     chains, draws, tune, target_accept, seed
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .priors import Prior, parse_prior

__all__ = ["Spec", "read_spec", "spec_from_dict", "SpecError", "ALLOWED"]


from .errors import SpecError  # noqa: E402  (re-exported)


ALLOWED = {
    "data": {"dataset", "path", "select", "include", "exclude"},
    "model": {"effects", "random_dist", "random_df", "covariates", "reference", "heterogeneity", "population"},
    "priors": {"mu", "beta", "tau", "omega", "coef"},
    "report": {"thresholds", "harm_threshold", "title", "question"},
    "mcmc": {"chains", "draws", "tune", "target_accept", "seed"},
}
DEFAULTS = {
    "data": {"dataset": "gepnet_ptr", "select": "primary"},
    "model": {"effects": "random", "random_dist": "normal", "random_df": 4.0, "covariates": [],
              "reference": {}, "heterogeneity": "shared", "population": None},
    "priors": {"mu": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
               "beta": {"dist": "normal", "mu": 0.0, "sigma": 0.5},
               "tau": {"dist": "half_normal", "sigma": 0.5},
               "omega": {"dist": "half_normal", "sigma": 0.5}},
    "report": {"thresholds": [1.0, 0.8], "harm_threshold": 1.25, "title": None, "question": None},
    "mcmc": {"chains": 4, "draws": 1000, "tune": 1000, "target_accept": 0.95, "seed": 20261122},
}


@dataclass
class Spec:
    """A checked analysis spec. `raw` is the spec as read (for provenance)."""

    data: dict
    model: dict
    priors: dict[str, Prior]
    coef_priors: dict[str, Prior]
    report: dict
    mcmc: dict
    raw: dict = field(default_factory=dict)
    path: Path | None = None
    name: str = "analysis"

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def thresholds(self) -> list[float]:
        return list(self.report["thresholds"])

    @property
    def harm(self) -> float:
        return float(self.report["harm_threshold"])

    def with_priors(self, **priors: Prior) -> "Spec":
        """A copy with some top-level priors replaced (used by sweeps)."""
        new = copy.copy(self)
        new.priors = {**self.priors, **priors}
        raw = copy.deepcopy(self.raw)
        raw.setdefault("priors", {}).update({k: v.to_dict() for k, v in priors.items()})
        new.raw = raw
        return new

    def with_data(self, **data) -> "Spec":
        new = copy.copy(self)
        new.data = {**{k: v for k, v in self.data.items() if k not in ("dataset", "path") or not
                       ({"dataset", "path"} & set(data))}, **data}
        raw = copy.deepcopy(self.raw)
        raw["data"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in new.data.items()}
        new.raw = raw
        return new

    def with_model(self, **model) -> "Spec":
        new = copy.copy(self)
        new.model = {**self.model, **model}
        raw = copy.deepcopy(self.raw)
        raw.setdefault("model", {}).update(model)
        new.raw = raw
        return new


def _check_keys(section: str, d: dict) -> None:
    unknown = set(d) - ALLOWED[section]
    if unknown:
        raise SpecError(f"[{section}]: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(ALLOWED[section]))}")


def _choice(section: str, key: str, value, allowed) -> None:
    if value not in allowed:
        raise SpecError(f"[{section}].{key}: {value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


def spec_from_dict(raw: dict, path: Path | None = None) -> Spec:
    """Check a spec given as a dict (the parsed TOML)."""
    raw = copy.deepcopy(raw)
    unknown = set(raw) - set(ALLOWED)
    if unknown:
        raise SpecError(f"unknown section(s) {', '.join(sorted(unknown))}; allowed: {', '.join(ALLOWED)}")
    sec = {}
    for s in ALLOWED:
        d = raw.get(s, {})
        if not isinstance(d, dict):
            raise SpecError(f"[{s}] must be a table")
        _check_keys(s, d)
        sec[s] = d

    data = dict(sec["data"])
    if "dataset" in data and "path" in data:
        raise SpecError("[data]: give either 'dataset' or 'path', not both")
    if "dataset" not in data and "path" not in data:
        data["dataset"] = DEFAULTS["data"]["dataset"]
        data.setdefault("select", DEFAULTS["data"]["select"])
    if "dataset" in data:
        from . import datasets

        _choice("data", "dataset", data["dataset"], datasets.names())
    for key in ("include", "exclude"):
        if key in data and (not isinstance(data[key], list) or not all(isinstance(x, str) for x in data[key])):
            raise SpecError(f"[data].{key}: must be a list of study ids")

    model = {**DEFAULTS["model"], **sec["model"]}
    _choice("model", "effects", model["effects"], ("random", "fixed"))
    _choice("model", "random_dist", model["random_dist"], ("normal", "student_t"))
    if not isinstance(model["random_df"], (int, float)) or model["random_df"] <= 0:
        raise SpecError("[model].random_df: must be a positive number (degrees of freedom of Student-t effects)")
    covs = model["covariates"]
    if not isinstance(covs, list) or not all(isinstance(c, str) for c in covs):
        raise SpecError("[model].covariates: must be a list of column names, e.g. [\"design\", \"data_source\"]")
    if len(set(covs)) != len(covs):
        raise SpecError("[model].covariates: a covariate is listed twice")
    ref = model["reference"]
    if not isinstance(ref, dict):
        raise SpecError("[model].reference: must be a table such as { design = \"cohort\" }")
    for c in ref:
        if c not in covs:
            raise SpecError(f"[model].reference: '{c}' is not one of the covariates ({', '.join(covs) or 'none'})")
    het = model["heterogeneity"]
    if het != "shared":
        if not (isinstance(het, str) and het.startswith("by:")):
            raise SpecError(f"[model].heterogeneity: {het!r} is not allowed; allowed: shared, by:<column> (e.g. by:design)")
    if model["effects"] == "fixed" and (het != "shared" or model["population"]):
        raise SpecError("[model]: effects = \"fixed\" cannot have heterogeneity by group or a population effect")
    if model["population"] is not None and not isinstance(model["population"], str):
        raise SpecError("[model].population: must be a column name such as \"overlap_group\"")

    pri_raw = sec["priors"]
    priors = {}
    for name, kind in (("mu", "effect"), ("beta", "effect"), ("tau", "scale"), ("omega", "scale")):
        priors[name] = parse_prior(pri_raw.get(name, DEFAULTS["priors"][name]), f"[priors].{name}", kind)
    coef = {}
    for cname, table in (pri_raw.get("coef") or {}).items():
        coef[cname] = parse_prior(table, f"[priors.coef].\"{cname}\"", "effect")

    report = {**DEFAULTS["report"], **sec["report"]}
    th = report["thresholds"]
    if not isinstance(th, list) or not th or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 for x in th):
        raise SpecError("[report].thresholds: must be a non-empty list of positive HRs, e.g. [1.0, 0.8]")
    hm = report["harm_threshold"]
    if isinstance(hm, bool) or not isinstance(hm, (int, float)) or not hm > 0 or not math.isfinite(hm):
        raise SpecError("[report].harm_threshold: must be a positive HR, e.g. 1.25")

    mcmc = {**DEFAULTS["mcmc"], **sec["mcmc"]}
    for k in ("chains", "draws", "tune", "seed"):
        if not isinstance(mcmc[k], int) or isinstance(mcmc[k], bool) or mcmc[k] < (0 if k == "seed" else 1):
            raise SpecError(f"[mcmc].{k}: must be a positive integer")
    if not 0.5 <= float(mcmc["target_accept"]) < 1.0:
        raise SpecError("[mcmc].target_accept: must be in [0.5, 1)")

    name = path.stem if path else "analysis"
    return Spec(data=data, model=model, priors=priors, coef_priors=coef, report=report, mcmc=mcmc,
                raw=raw, path=path, name=name)


def read_spec(path: str | Path) -> Spec:
    """Read and check a TOML spec file. Raises SpecError naming the offending key."""
    path = Path(path)
    if not path.exists():
        raise SpecError(f"spec file not found: {path}")
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    try:
        return spec_from_dict(raw, path=path.resolve())
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
