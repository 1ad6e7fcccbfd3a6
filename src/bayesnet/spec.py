"""The analysis spec (TOML): parse, check every key, fill defaults. Documented once, here
and in the README ("The model spec").

    [data]     dataset | path, select | include/exclude
    [model]    effects, random_dist, random_df, covariates, reference, heterogeneity, population
    [priors]   mu, beta, tau, omega, and [priors.coef] per-coefficient overrides
    [report]   thresholds, harm_threshold, title, question, tipping_probability, rare_outcome, treatment,
               group_columns
    [mcmc]     chains, draws, tune, target_accept, seed
    [bias]     common = {mu, sigma}, [bias.by.<column>] <level> = {mu, sigma}   (bayesnet.bias)
    [[absolute]]  time_years, label, survival, n                               (bayesnet.absolute)
    [arm_model]   baseline priors of the arm-level model                      (bayesnet.arm_analysis)
    [publication_bias]  effect, heterogeneity, ensemble, direction, ...       (bayesnet.pubbias.config)
"""

from __future__ import annotations

import copy
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .priors import Prior, parse_prior

__all__ = ["ALLOWED", "Spec", "SpecError", "read_spec", "spec_from_dict"]


from .errors import SpecError

ALLOWED = {
    "data": {"dataset", "path", "select", "include", "exclude"},
    "model": {"effects", "random_dist", "random_df", "covariates", "reference", "heterogeneity", "population"},
    "priors": {"mu", "beta", "tau", "omega", "coef"},
    "report": {"thresholds", "harm_threshold", "title", "question", "tipping_probability", "rare_outcome",
               "treatment", "group_columns"},
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
    "report": {"thresholds": [1.0, 0.8], "harm_threshold": 1.25, "title": None, "question": None,
               "tipping_probability": None, "rare_outcome": False, "treatment": None,
               "group_columns": None},
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
    bias: object = None                  # bayesnet.bias.BiasSpec or None ([bias])
    absolute: list = field(default_factory=list)   # bayesnet.absolute.AbsoluteRow ([[absolute]])
    arm_model: dict = field(default_factory=dict)  # raw [arm_model] (checked by bayesnet.arm_analysis)
    publication_bias: object = None      # bayesnet.pubbias.config.PublicationBiasConfig or None (defaults)

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def thresholds(self) -> list[float]:
        return list(self.report["thresholds"])

    @property
    def harm(self) -> float:
        return float(self.report["harm_threshold"])

    def with_priors(self, **priors: Prior) -> Spec:
        """A copy with some top-level priors replaced (used by sweeps)."""
        new = copy.copy(self)
        new.priors = {**self.priors, **priors}
        raw = copy.deepcopy(self.raw)
        raw.setdefault("priors", {}).update({k: v.to_dict() for k, v in priors.items()})
        new.raw = raw
        return new

    def with_data(self, **data) -> Spec:
        new = copy.copy(self)
        new.data = {**{k: v for k, v in self.data.items() if k not in ("dataset", "path") or not
                       ({"dataset", "path"} & set(data))}, **data}
        raw = copy.deepcopy(self.raw)
        raw["data"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in new.data.items()}
        new.raw = raw
        return new

    def with_model(self, **model) -> Spec:
        new = copy.copy(self)
        new.model = {**self.model, **model}
        raw = copy.deepcopy(self.raw)
        raw.setdefault("model", {}).update(model)
        new.raw = raw
        return new


class _Problems:
    """Collects every problem found in one pass; `check` is the one validator used for
    keys and types across the spec sections."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, msg: str) -> None:
        self.items.append(msg)

    def check(self, section: str, key: str, value, ok, allowed: str) -> bool:
        """Record "[section].key: found VALUE; allowed: ALLOWED" unless ok(value)."""
        try:
            good = bool(ok(value))
        except (TypeError, ValueError):
            good = False
        if not good:
            self.add(f"[{section}].{key}: found {value!r} ({type(value).__name__}); allowed: {allowed}")
        return good

    def run(self, fn, *args):
        """Call a check that raises SpecError; record its problems and go on."""
        try:
            return fn(*args)
        except SpecError as exc:
            self.items.extend(exc.problems or [str(exc)])
            return None


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_str(x) -> bool:
    return isinstance(x, str) and x.strip() != ""


def _check_keys(section: str, d: dict) -> None:
    unknown = set(d) - ALLOWED[section]
    if unknown:
        raise SpecError(f"[{section}]: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(ALLOWED[section]))}")


def _choice(section: str, key: str, value, allowed) -> None:
    try:
        ok = value in allowed
    except TypeError:
        ok = False
    if not ok:
        raise SpecError(f"[{section}].{key}: {value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


def spec_from_dict(raw: dict, path: Path | None = None) -> Spec:
    """Check a spec given as a dict (the parsed TOML). Every problem is collected and
    raised together as one SpecError whose `.problems` lists them."""
    raw = copy.deepcopy(raw)
    as_read = copy.deepcopy(raw)
    P = _Problems()
    where0 = str(path) if path else "spec"
    bias = None
    if "bias" in raw:
        from .bias import parse_bias

        bias = P.run(parse_bias, raw.pop("bias"), where0)
    absolute = []
    if "absolute" in raw:
        from .absolute import parse_absolute

        absolute = P.run(parse_absolute, raw.pop("absolute"), where0) or []
    arm_model = raw.pop("arm_model", {})
    publication_bias = None
    if "publication_bias" in raw:
        from .pubbias.config import parse_publication_bias

        publication_bias = P.run(parse_publication_bias, raw.pop("publication_bias"))
    unknown = set(raw) - set(ALLOWED)
    if unknown:
        P.add(f"unknown section(s) {', '.join(sorted(unknown))}; allowed: {', '.join(ALLOWED)}, bias, absolute, "
              "arm_model, publication_bias")
    sec = {}
    for s in ALLOWED:
        d = raw.get(s, {})
        if not isinstance(d, dict):
            P.add(f"[{s}]: found {d!r}; must be a table ([{s}] with key = value lines)")
            d = {}
        P.run(_check_keys, s, d)
        sec[s] = {k: v for k, v in d.items() if k in ALLOWED[s]}

    data = dict(sec["data"])
    if "dataset" in data and "path" in data:
        P.add("[data]: give either 'dataset' or 'path', not both")
    if "dataset" not in data and "path" not in data:
        data["dataset"] = DEFAULTS["data"]["dataset"]
        data.setdefault("select", DEFAULTS["data"]["select"])
    if "dataset" in data:
        from . import datasets

        P.run(_choice, "data", "dataset", data["dataset"], datasets.names())
    if "path" in data:
        if P.check("data", "path", data["path"], lambda v: isinstance(v, (str, Path)) and str(v).strip() != "",
                   "a string naming a CSV file (relative to the spec file), e.g. \"studies.csv\""):
            base = path.parent if path else Path.cwd()
            f = Path(data["path"])
            f = f if f.is_absolute() else base / f
            if not f.exists():
                P.add(f"[data].path: found {data['path']!r}, but {f} does not exist; give the path of a CSV "
                      f"file (relative to the spec file)")
            elif not f.is_file():
                P.add(f"[data].path: found {data['path']!r}, but {f} is not a regular file (a directory or "
                      f"device); give the path of a CSV file")
    if "select" in data:
        P.check("data", "select", data["select"], lambda v: _is_str(v) or isinstance(v, dict),
                "a selection name such as \"primary\", or the path of a selection TOML file")
    for key in ("include", "exclude"):
        if key in data:
            P.check("data", key, data[key], lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                    "a list of study ids, e.g. [\"Smith 2019\"]")

    model = {**DEFAULTS["model"], **sec["model"]}
    P.run(_choice, "model", "effects", model["effects"], ("random", "fixed"))
    P.run(_choice, "model", "random_dist", model["random_dist"], ("normal", "student_t"))
    P.check("model", "random_df", model["random_df"], lambda v: _is_num(v) and v > 0,
            "a positive number (degrees of freedom of Student-t effects), e.g. 4")
    covs = model["covariates"]
    if P.check("model", "covariates", covs, lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v),
               "a list of column names, e.g. [\"design\", \"data_source\"]"):
        if len(set(covs)) != len(covs):
            P.add("[model].covariates: a covariate is listed twice")
    else:
        covs = []
    ref = model["reference"]
    if P.check("model", "reference", ref, lambda v: isinstance(v, dict),
               "a table such as { design = \"cohort\" }"):
        for c in ref:
            if c not in covs:
                P.add(f"[model].reference: '{c}' is not one of the covariates ({', '.join(covs) or 'none'})")
    het = model["heterogeneity"]
    if het != "shared" and not (isinstance(het, str) and het.startswith("by:") and len(het) > 3):
        P.add(f"[model].heterogeneity: {het!r} is not allowed; allowed: shared, by:<column> (e.g. by:design)")
    if model["effects"] == "fixed" and (het != "shared" or model["population"]):
        P.add("[model]: effects = \"fixed\" cannot have heterogeneity by group or a population effect")
    if model["population"] is not None:
        P.check("model", "population", model["population"], _is_str, "a column name such as \"overlap_group\"")

    pri_raw = sec["priors"]
    priors = {}
    for name, kind in (("mu", "effect"), ("beta", "effect"), ("tau", "scale"), ("omega", "scale")):
        priors[name] = P.run(parse_prior, pri_raw.get(name, DEFAULTS["priors"][name]), f"[priors].{name}", kind)
    coef = {}
    coef_raw = pri_raw.get("coef") or {}
    if P.check("priors", "coef", coef_raw, lambda v: isinstance(v, dict),
               "a table of coefficient names, e.g. [priors.coef] \"design:case_series\" = { dist = \"normal\", mu = 0, sigma = 0.3 }"):
        for cname, table in coef_raw.items():
            coef[cname] = P.run(parse_prior, table, f"[priors.coef].\"{cname}\"", "effect")

    report = {**DEFAULTS["report"], **sec["report"]}
    P.check("report", "thresholds", report["thresholds"],
            lambda th: isinstance(th, list) and th and all(_is_num(x) and x > 0 for x in th),
            "a non-empty list of positive HRs, e.g. [1.0, 0.8]")
    P.check("report", "harm_threshold", report["harm_threshold"], lambda v: _is_num(v) and v > 0,
            "a positive HR, e.g. 1.25")
    for k in ("title", "question", "treatment"):
        if report[k] is not None:
            P.check("report", k, report[k], lambda v: isinstance(v, str), "a text string in quotes")
    P.check("report", "rare_outcome", report["rare_outcome"], lambda v: isinstance(v, bool),
            "true or false (true: the outcome is rare, < 15%, so E-values use the HR as a risk ratio)")
    if report["group_columns"] is None:
        report["group_columns"] = list(covs)
    elif P.check("report", "group_columns", report["group_columns"],
                 lambda v: isinstance(v, list) and all(isinstance(c, str) and c for c in v) and len(set(v)) == len(v),
                 "a list of distinct evidence column names, e.g. [\"design\", \"data_source\"]"):
        report["group_columns"] = list(report["group_columns"])
    else:
        report["group_columns"] = list(covs)
    if report["tipping_probability"] is not None:
        from .bias import parse_tipping_probability

        report["tipping_probability"] = P.run(parse_tipping_probability, report["tipping_probability"], where0)

    mcmc = {**DEFAULTS["mcmc"], **sec["mcmc"]}
    for k in ("chains", "draws", "tune"):
        P.check("mcmc", k, mcmc[k], lambda v: _is_int(v) and v >= 1, "a positive integer")
    P.check("mcmc", "seed", mcmc["seed"], lambda v: _is_int(v) and 0 <= v < 2**63,
            "a non-negative integer, e.g. 20261122")
    P.check("mcmc", "target_accept", mcmc["target_accept"], lambda v: _is_num(v) and 0.5 <= v < 1.0,
            "a number in [0.5, 1), e.g. 0.95")

    if P.items:
        where = f"{path}: " if path else ""
        raise SpecError(problems=[where + (m[len(where0) + 2:] if m.startswith(where0 + ": ") else m)
                                  for m in P.items])
    name = path.stem if path else "analysis"
    if bias is not None and bias.empty:
        bias = None
    full_raw = as_read
    return Spec(data=data, model=model, priors=priors, coef_priors=coef, report=report, mcmc=mcmc,
                raw=full_raw, path=path, name=name, bias=bias, absolute=list(absolute), arm_model=arm_model,
                publication_bias=publication_bias)


def read_spec(path: str | Path) -> Spec:
    """Read and check a TOML spec file. Raises SpecError naming the offending key."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file not found (or not a regular file): {path}")
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None
    return spec_from_dict(raw, path=path.resolve())
