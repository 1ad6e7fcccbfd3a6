"""The analysis spec (TOML): parse, check every key, fill defaults. Documented once, here
and in the README ("The model spec").

    [data]     dataset | path, select, include/exclude, keep_overlap, family
    [model]    effects, random_dist, random_df, covariates, reference, heterogeneity, population
    [priors]   mu, beta, tau, omega, and [priors.coef] per-coefficient overrides
    [report]   thresholds, harm_threshold, title, question, tipping_probability, rare_outcome, treatment,
               group_columns, outcome, comparator, scenarios, published, show_hpd,
               multiverse (a grid TOML: the report's "Every reasonable analysis")
    [mcmc]     chains, draws, tune, target_accept, seed
    [bias]     common = {mu, sigma}, [bias.by.<column>] <level> = {mu, sigma}   (bayesnet.bias)
    [[absolute]]  time_years, label, survival, n                               (bayesnet.absolute)
    [arm_model]   baseline priors of the arm-level model                      (bayesnet.arm_analysis)
    [publication_bias]  effect, heterogeneity, ensemble, direction, ...       (bayesnet.pubbias.config)
"""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SpecError
from .priors import Prior, parse_prior
from .validate import SEED_ALLOWED, Problems, is_int, is_num, is_seed, is_str, is_str_list

if TYPE_CHECKING:  # the section parsers import spec-level helpers; no import at run time
    from .absolute_spec import AbsoluteRow
    from .bias_spec import BiasSpec
    from .pubbias.config import PublicationBiasConfig

__all__ = ["ALLOWED", "DataSpec", "McmcSpec", "ModelSpec", "PriorsSpec", "ReportSpec", "Spec", "SpecError",
           "parse_section", "read_spec", "spec_from_dict"]


def _tuple(obj, name: str) -> None:
    """Store a list-valued field of a frozen section as a tuple."""
    v = getattr(obj, name)
    if v is not None and not isinstance(v, tuple):
        object.__setattr__(obj, name, tuple(v))


@dataclass(frozen=True)
class DataSpec:
    """[data]: where the studies come from. `dataset` (a shipped dataset) or `path` (a CSV
    file, relative to the spec file); `select` a selection name or TOML file; `include` /
    `exclude` study ids (without `select`: of all rows; with it: of the selected rows);
    `keep_overlap` replaces the selection's overlap rule (best_adjusted, largest,
    most_recent, all); `family` keeps one registry family (column registry_family) and
    the rows with none, before the overlap rule. Without dataset and path: the shipped
    GEP-NET dataset, primary selection."""

    dataset: str | None = "gepnet_ptr"
    path: str | Path | None = None
    select: str | dict | None = "primary"
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None
    keep_overlap: str | None = None
    family: str | None = None

    def __post_init__(self) -> None:
        _tuple(self, "include")
        _tuple(self, "exclude")


@dataclass(frozen=True)
class ModelSpec:
    """[model]: random or fixed effects, the random-effects distribution, covariates (with
    optional reference levels), heterogeneity ("shared" or "by:<column>") and an optional
    population column (three-level model)."""

    effects: str = "random"              # "random" | "fixed"
    random_dist: str = "normal"          # "normal" | "student_t"
    random_df: float = 4.0               # degrees of freedom of Student-t effects
    covariates: tuple[str, ...] = ()
    reference: Mapping[str, str] = field(default_factory=dict)
    heterogeneity: str = "shared"        # "shared" | "by:<column>"
    population: str | None = None

    def __post_init__(self) -> None:
        _tuple(self, "covariates")

    @property
    def random(self) -> bool:
        return self.effects == "random"


def _prior(dist: str, kind: str, **params: float) -> Prior:
    return Prior(dist=dist, params=params, kind=kind)


@dataclass(frozen=True)
class PriorsSpec:
    """[priors]: mu (intercept: the pooled log-HR at the reference levels), beta (every other
    coefficient), tau (between-study SD), omega (population SD), and [priors.coef]
    per-coefficient overrides keyed "covariate:level" (or "mu")."""

    mu: Prior = field(default_factory=lambda: _prior("normal", "effect", mu=0.0, sigma=1.0))
    beta: Prior = field(default_factory=lambda: _prior("normal", "effect", mu=0.0, sigma=0.5))
    tau: Prior = field(default_factory=lambda: _prior("half_normal", "scale", sigma=0.5))
    omega: Prior = field(default_factory=lambda: _prior("half_normal", "scale", sigma=0.5))
    coef: Mapping[str, Prior] = field(default_factory=dict)

    def for_coefficient(self, name: str) -> Prior:
        """The prior of coefficient `name` ("mu" or "covariate:level"): its [priors.coef]
        override, else mu for the intercept and beta for the others."""
        if name in self.coef:
            return self.coef[name]
        return self.mu if name == "mu" else self.beta

    def top(self) -> dict[str, Prior]:
        """The top-level priors by name (mu, beta, tau, omega)."""
        return {"mu": self.mu, "beta": self.beta, "tau": self.tau, "omega": self.omega}


@dataclass(frozen=True)
class ReportSpec:
    """[report]: benefit thresholds and the harm threshold (HRs, as written), title, question,
    tipping probabilities by threshold, whether the outcome is rare (E-values), the
    treatment's name, and `group_columns`: the evidence columns that describe the kind of
    study (shown in the studies table, left out level by level in the influence analysis,
    the first with two or more levels stratifies the report when the model has no
    covariates); when not given, the model's covariates. `multiverse` names a grid TOML
    (bayesnet.multiverse_analysis): the report then gains "Every reasonable analysis"."""

    thresholds: tuple[float, ...] = (1.0, 0.8)
    harm_threshold: float = 1.25
    title: str | None = None
    question: str | None = None
    tipping_probability: Mapping[float, float] | None = None
    rare_outcome: bool = False
    treatment: str | None = None
    group_columns: tuple[str, ...] | None = None
    # the Summary-of-Findings table's outcome and comparator names (bayesnet.report.sof)
    outcome: str | None = None
    comparator: str | None = None
    # other specs (paths relative to this spec) whose headline the report shows beside its
    # own: the same evidence under other stated assumptions (e.g. a pessimistic bias prior)
    scenarios: tuple[str, ...] = ()
    # published pooled results the report relates its answer to: tables with dataset + id
    # (a row of a shipped published-meta-analyses table) and a note on what differs
    published: tuple[Mapping, ...] = ()
    # the headline table shows the equal-tailed interval; true adds the HPD column beside it
    show_hpd: bool = False
    multiverse: str | None = None        # a multiverse grid TOML (relative to the spec file)

    def __post_init__(self) -> None:
        _tuple(self, "thresholds")
        _tuple(self, "group_columns")
        _tuple(self, "scenarios")
        _tuple(self, "published")


@dataclass(frozen=True)
class McmcSpec:
    """[mcmc]: sampler settings of the MCMC engine (nutpie)."""

    chains: int = 4
    draws: int = 1000
    tune: int = 1000
    target_accept: float = 0.95
    seed: int = 20261122


SECTIONS = {"data": DataSpec, "model": ModelSpec, "priors": PriorsSpec, "report": ReportSpec, "mcmc": McmcSpec}
ALLOWED = {name: {f.name for f in dataclasses.fields(cls)} for name, cls in SECTIONS.items()}


def _plain(v):
    """A section value as written in TOML/JSON (for the provenance copy of the spec)."""
    if isinstance(v, Prior):
        return v.to_dict()
    if isinstance(v, Path):
        return str(v)
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, Mapping):
        return {(k if isinstance(k, str) else f"{k:g}"): _plain(x) for k, x in v.items()}
    return v


@dataclass(frozen=True)
class Spec:
    """A checked analysis spec: one typed, frozen section per TOML table. Change it with
    ``dataclasses.replace`` (``replace(spec, priors=replace(spec.priors, tau=prior))``) or
    the `with_priors` / `with_model` shorthands. `raw` is the effective spec as TOML-like
    dicts (for provenance): the file as read, with every value changed since then."""

    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    priors: PriorsSpec = field(default_factory=PriorsSpec)
    report: ReportSpec = field(default_factory=ReportSpec)
    mcmc: McmcSpec = field(default_factory=McmcSpec)
    path: Path | None = None
    name: str = "analysis"
    bias: BiasSpec | None = None         # [bias]; None = no bias model
    absolute: tuple[AbsoluteRow, ...] = ()  # [[absolute]] baselines
    # [arm_model] as written (prior tables by name: baseline_mean, baseline_sd, time_slope);
    # `bayesnet.arm_analysis.parse_arm_priors` checks it and turns it into priors (at fit time)
    arm_model: Mapping[str, Any] = field(default_factory=dict)
    publication_bias: PublicationBiasConfig | None = None  # [publication_bias]; None = the defaults
    network: Any = None  # [network] (bayesnet.network.spec.NetworkSpec); None = the defaults
    # the spec as read and its sections as parsed from it (to keep `raw` in sync)
    source: Mapping = field(default_factory=dict, repr=False, compare=False)
    parsed: Mapping = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        _tuple(self, "absolute")

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    @property
    def thresholds(self) -> list[float]:
        return list(self.report.thresholds)

    @property
    def harm(self) -> float:
        return float(self.report.harm_threshold)

    @property
    def group_columns(self) -> tuple[str, ...]:
        """The evidence columns that describe the kind of study: `[report] group_columns`,
        or the model's covariates when it is not given."""
        g = self.report.group_columns
        return tuple(self.model.covariates or ()) if g is None else tuple(g)

    @property
    def raw(self) -> dict:
        """The effective spec as TOML-like dicts: the spec as read, with every section value
        that differs from what was read written in (for provenance and summary.json)."""
        raw = copy.deepcopy(dict(self.source))
        for name, cls in SECTIONS.items():
            now, was = getattr(self, name), self.parsed.get(name) or cls()
            if now == was:
                continue
            sec = raw.get(name)
            sec = dict(sec) if isinstance(sec, dict) else {}
            for f in dataclasses.fields(cls):
                v = getattr(now, f.name)
                if v != getattr(was, f.name):
                    if v is None:
                        sec.pop(f.name, None)
                    else:
                        sec[f.name] = _plain(v)
            if name == "data":  # dataset and path exclude each other
                for a, b in (("dataset", "path"), ("path", "dataset")):
                    if getattr(now, a) is not None and getattr(now, b) is None:
                        sec.pop(b, None)
            raw[name] = sec
        return raw

    def with_priors(self, **priors: Prior) -> Spec:
        """A copy with some top-level priors (mu, beta, tau, omega) replaced (sweeps)."""
        return dataclasses.replace(self, priors=dataclasses.replace(self.priors, **priors))

    def with_model(self, **model) -> Spec:
        """A copy with some [model] keys replaced."""
        return dataclasses.replace(self, model=dataclasses.replace(self.model, **model))


def _parse_data(P: Problems, d: dict, path: Path | None) -> DataSpec:
    d = dict(d)
    if "dataset" in d and "path" in d:
        P.add("[data]: give either 'dataset' or 'path', not both")
    if "dataset" not in d and "path" not in d:
        d = {**{"dataset": DataSpec.dataset, "select": DataSpec.select}, **d}
    if "dataset" in d:
        from . import datasets

        P.choice("data", "dataset", d["dataset"], datasets.names())
    if "path" in d:
        if P.check("data", "path", d["path"], lambda v: isinstance(v, (str, Path)) and str(v).strip() != "",
                   "a string naming a CSV file (relative to the spec file), e.g. \"studies.csv\""):
            base = path.parent if path else Path.cwd()
            f = Path(d["path"])
            f = f if f.is_absolute() else base / f
            if not f.exists():
                P.add(f"[data].path: found {d['path']!r}, but {f} does not exist; give the path of a CSV "
                      f"file (relative to the spec file)")
            elif not f.is_file():
                P.add(f"[data].path: found {d['path']!r}, but {f} is not a regular file (a directory or "
                      f"device); give the path of a CSV file")
    if "select" in d:
        P.check("data", "select", d["select"], lambda v: is_str(v) or isinstance(v, dict),
                "a selection name such as \"primary\", or the path of a selection TOML file")
    for key in ("include", "exclude"):
        if key in d and not P.check("data", key, d[key], is_str_list, "a list of study ids, e.g. [\"Smith 2019\"]"):
            d.pop(key)
    if "keep_overlap" in d:
        from .evidence.selection import KEEP_RULES

        if not P.choice("data", "keep_overlap", d["keep_overlap"], KEEP_RULES):
            d.pop("keep_overlap")
        elif not d.get("select"):
            P.add("[data].keep_overlap: replaces the overlap rule of a selection, but [data] has no 'select'; "
                  "give select = \"primary\" (or another selection with an [overlap] table)")
    if "family" in d and not P.check("data", "family", d["family"], is_str,
                                     "a registry family as written in the column registry_family, e.g. \"SEER\""):
        d.pop("family")
    return DataSpec(dataset=d.get("dataset"), path=d.get("path"), select=d.get("select"),
                    include=d.get("include"), exclude=d.get("exclude"), keep_overlap=d.get("keep_overlap"),
                    family=d.get("family"))


def _parse_model(P: Problems, d: dict) -> ModelSpec:
    D = ModelSpec()
    effects = d.get("effects", D.effects)
    random_dist = d.get("random_dist", D.random_dist)
    P.choice("model", "effects", effects, ("random", "fixed"))
    P.choice("model", "random_dist", random_dist, ("normal", "student_t"))
    random_df = d.get("random_df", D.random_df)
    if P.check("model", "random_df", random_df, lambda v: is_num(v) and v > 0,
               "a positive number (degrees of freedom of Student-t effects), e.g. 4"):
        random_df = float(random_df)
    covs = d.get("covariates", list(D.covariates))
    if P.check("model", "covariates", covs, is_str_list, "a list of column names, e.g. [\"design\", \"data_source\"]"):
        if len(set(covs)) != len(covs):
            P.add("[model].covariates: a covariate is listed twice")
    else:
        covs = []
    ref = d.get("reference", {})
    if P.check("model", "reference", ref, lambda v: isinstance(v, dict), "a table such as { design = \"cohort\" }"):
        for c in ref:
            if c not in covs:
                P.add(f"[model].reference: '{c}' is not one of the covariates ({', '.join(covs) or 'none'})")
    else:
        ref = {}
    het = d.get("heterogeneity", D.heterogeneity)
    if het != "shared" and not (isinstance(het, str) and het.startswith("by:") and len(het) > 3):
        P.add(f"[model].heterogeneity: {het!r} is not allowed; allowed: shared, by:<column> (e.g. by:design)")
    pop = d.get("population", D.population)
    if effects == "fixed" and (het != "shared" or pop):
        P.add("[model]: effects = \"fixed\" cannot have heterogeneity by group or a population effect")
    if pop is not None:
        P.check("model", "population", pop, is_str, "a column name such as \"overlap_group\"")
    return ModelSpec(effects=effects, random_dist=random_dist, random_df=random_df, covariates=tuple(covs),
                     reference=dict(ref), heterogeneity=het, population=pop)


def _parse_priors(P: Problems, d: dict) -> PriorsSpec:
    D = PriorsSpec()
    top = {}
    for name, kind in (("mu", "effect"), ("beta", "effect"), ("tau", "scale"), ("omega", "scale")):
        top[name] = P.run(parse_prior, d[name], f"[priors].{name}", kind) if name in d else getattr(D, name)
    coef = {}
    coef_raw = d.get("coef") or {}
    if P.check("priors", "coef", coef_raw, lambda v: isinstance(v, dict),
               "a table of coefficient names, e.g. [priors.coef] \"design:case_series\" = "
               "{ dist = \"normal\", mu = 0, sigma = 0.3 }"):
        for cname, table in coef_raw.items():
            coef[cname] = P.run(parse_prior, table, f"[priors.coef].\"{cname}\"", "effect")
    return PriorsSpec(**top, coef=coef)


def _parse_report(P: Problems, d: dict, where0: str) -> ReportSpec:
    D = ReportSpec()
    r = {f.name: d.get(f.name, getattr(D, f.name)) for f in dataclasses.fields(ReportSpec)}
    P.check("report", "thresholds", r["thresholds"],
            lambda th: isinstance(th, (list, tuple)) and th and all(is_num(x) and x > 0 for x in th),
            "a non-empty list of positive HRs, e.g. [1.0, 0.8]")
    P.check("report", "harm_threshold", r["harm_threshold"], lambda v: is_num(v) and v > 0,
            "a positive HR, e.g. 1.25")
    for k in ("title", "question", "treatment", "outcome", "comparator"):
        if r[k] is not None:
            P.check("report", k, r[k], lambda v: isinstance(v, str), "a text string in quotes")
    P.check("report", "show_hpd", r["show_hpd"], lambda v: isinstance(v, bool),
            "true or false (true: the headline table also shows the 95% HPD interval)")
    P.check("report", "rare_outcome", r["rare_outcome"], lambda v: isinstance(v, bool),
            "true or false (true: the outcome is rare, < 15%, so E-values use the HR as a risk ratio)")
    if r["tipping_probability"] is not None:
        from .bias_spec import parse_tipping_probability

        r["tipping_probability"] = P.run(parse_tipping_probability, r["tipping_probability"], where0)
    if not isinstance(r["thresholds"], (list, tuple)):
        r["thresholds"] = D.thresholds
    if r["group_columns"] is not None and not P.check(
            "report", "group_columns", r["group_columns"], lambda v: is_str_list(v) and all(v) and len(set(v)) == len(v),
            "a list of distinct evidence column names, e.g. [\"design\", \"data_source\"]"):
        r["group_columns"] = None
    if not P.check("report", "scenarios", r["scenarios"], lambda v: v == () or (is_str_list(v) and all(v)),
                   "a list of spec file names relative to this spec, e.g. [\"ptr_bias_pessimistic.toml\"]"):
        r["scenarios"] = ()
    if not P.check("report", "published", r["published"],
                   lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, Mapping) and is_str(x.get("dataset"))
                                                                  and is_str(x.get("id")) for x in v),
                   "a list of tables { dataset = \"<published table>\", id = \"<row id>\", note = \"...\" }"):
        r["published"] = ()
    if r["multiverse"] is not None and not P.check(
            "report", "multiverse", r["multiverse"], is_str,
            "the path of a multiverse grid TOML file (relative to the spec file), e.g. \"ptr_multiverse.toml\""):
        r["multiverse"] = None
    return ReportSpec(**r)


#: Upper bounds of the [mcmc] sizes: beyond them a run exhausts memory (every chain holds its
#: draws of every parameter and of each study's log-likelihood) long before it adds precision.
MCMC_MAX = {"chains": 64, "draws": 100_000, "tune": 100_000}
MCMC_MAX_TOTAL = 1_000_000  # chains x draws: the draws kept in memory


def _parse_mcmc(P: Problems, d: dict) -> McmcSpec:
    D = McmcSpec()
    m = {f.name: d.get(f.name, getattr(D, f.name)) for f in dataclasses.fields(McmcSpec)}
    sizes_ok = True
    for k, hi in MCMC_MAX.items():
        sizes_ok &= P.check("mcmc", k, m[k], lambda v, hi=hi: is_int(v) and 1 <= v <= hi,
                            f"an integer from 1 to {hi:,} (default {getattr(D, k)})")
    if sizes_ok and m["chains"] * m["draws"] > MCMC_MAX_TOTAL:
        P.add(f"[mcmc]: chains x draws = {m['chains']} x {m['draws']} = {m['chains'] * m['draws']:,} draws; allowed: "
              f"at most {MCMC_MAX_TOTAL:,} (they are all held in memory); use fewer chains or draws")
    P.check("mcmc", "seed", m["seed"], is_seed, SEED_ALLOWED)
    P.check("mcmc", "target_accept", m["target_accept"], lambda v: is_num(v) and 0.5 <= v < 1.0,
            "a number in [0.5, 1), e.g. 0.95")
    return McmcSpec(**m)


def parse_section(P: Problems, name: str, d: dict, path: Path | None = None):
    """One section ("data", "model", "priors", "report" or "mcmc") given as a dict, parsed and
    checked exactly as in a spec file (problems recorded in `P`, unknown keys included); for
    patches of a spec (bayesnet.multiverse_analysis)."""
    P.keys(name, d, ALLOWED[name])
    d = {k: v for k, v in d.items() if k in ALLOWED[name]}
    if name == "data":
        return _parse_data(P, d, path)
    if name == "report":
        return _parse_report(P, d, str(path) if path else "spec")
    return {"model": _parse_model, "priors": _parse_priors, "mcmc": _parse_mcmc}[name](P, d)


def spec_from_dict(raw: dict, path: Path | None = None) -> Spec:
    """Check a spec given as a dict (the parsed TOML). Every problem is collected and
    raised together as one SpecError whose `.problems` lists them."""
    raw = copy.deepcopy(raw)
    as_read = copy.deepcopy(raw)
    where0 = str(path) if path else "spec"
    P = Problems(where=str(path) if path else "")
    bias = None
    if "bias" in raw:
        from .bias_spec import parse_bias

        bias = P.run(parse_bias, raw.pop("bias"), where0)
    absolute = []
    if "absolute" in raw:
        from .absolute_spec import parse_absolute

        absolute = P.run(parse_absolute, raw.pop("absolute"), where0) or []
    arm_model = raw.pop("arm_model", {})
    publication_bias = None
    if "publication_bias" in raw:
        from .pubbias.config import parse_publication_bias

        publication_bias = P.run(parse_publication_bias, raw.pop("publication_bias"))
    network = None
    if "network" in raw:
        from .network.spec import parse_network

        network = P.run(parse_network, raw.pop("network"))
    P.keys("", raw, SECTIONS, noun="section(s)",
           shown=f"{', '.join(SECTIONS)}, bias, absolute, arm_model, publication_bias, network")
    sec = {}
    for s in SECTIONS:
        d = raw.get(s, {})
        if not P.table(s, d, f"[{s}] with key = value lines"):
            d = {}
        P.keys(s, d, ALLOWED[s])
        sec[s] = {k: v for k, v in d.items() if k in ALLOWED[s]}
    parsed = {"data": _parse_data(P, sec["data"], path), "model": _parse_model(P, sec["model"]),
              "priors": _parse_priors(P, sec["priors"]), "report": _parse_report(P, sec["report"], where0),
              "mcmc": _parse_mcmc(P, sec["mcmc"])}
    parsed["network"] = network   # [network]: passed to Spec with the sections (not one of SECTIONS)
    # problems from the [bias]/[[absolute]] parsers name the source as "spec" without a path
    P.items = [m[len("spec: "):] if not path and m.startswith("spec: ") else m for m in P.items]
    if bias is not None and bias.empty:
        bias = None
    def make() -> Spec:
        return Spec(**parsed, path=path, name=path.stem if path else "analysis", bias=bias,
                    absolute=tuple(absolute), arm_model=arm_model, publication_bias=publication_bias,
                    source=as_read, parsed=parsed)

    if P:
        exc = SpecError(problems=P.messages())
        # what could be read, so that the evidence and the columns the spec names are still
        # checked in the same pass (bayesnet.api.load_inputs); None when [data] itself is wrong
        exc.partial = None
        if not any(m.startswith("[data]") for m in P.items):
            try:
                exc.partial = make()
            except Exception:  # noqa: BLE001 - a value too broken to hold: the problems say why
                pass
        raise exc
    return make()


def model_and_priors(raw: dict) -> tuple[ModelSpec, PriorsSpec]:
    """The typed [model] and [priors] sections of a spec given as a dict (e.g. the spec a
    summary.json records as provenance), with every default filled in; SpecError if they
    do not parse. Used by the report's Methods paragraph, which must describe the model
    that was fitted, defaults included."""
    P = Problems()
    model = _parse_model(P, dict(raw.get("model") or {}))
    priors = _parse_priors(P, dict(raw.get("priors") or {}))
    P.raise_if_any()
    return model, priors


def read_toml(path: str | Path, what: str = "spec") -> dict:
    """The table of a TOML file (a spec, a grid): a SpecError when it is not a regular file
    ("<what> file not found ...") or not valid TOML (naming the file)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{what} file not found (or not a regular file): {path}")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML ({exc})") from None


def read_spec(path: str | Path) -> Spec:
    """Read and check a TOML spec file. Raises SpecError naming the offending key."""
    path = Path(path)
    return spec_from_dict(read_toml(path, "spec"), path=path.resolve())
