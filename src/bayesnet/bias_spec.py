"""The ``[bias]`` section as data: bias priors (`BiasPrior`, `BiasSpec`), their parser and
the checks against the evidence columns, and ``[report] tipping_probability``. The spec
layer reads these; the bias models themselves (terms of the Gaussian evidence model,
tipping points, the bias curve) are in `bayesnet.bias`, which re-exports every name here.

A bias delta is log(reported HR / true HR): negative means the studies make the treatment
look better than it is."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import SpecError

__all__ = ["MAX_BIAS_MU", "MAX_BIAS_SIGMA", "BiasPrior", "BiasSpec", "check_bias_columns", "parse_bias",
           "parse_tipping_probability", "restrict_bias"]

MAX_BIAS_MU = math.log(20.0)  # a bias prior centred beyond a 20-fold ratio is refused
MAX_BIAS_SIGMA = 10.0         # sigma = 10 (log scale) is already vague; larger is refused


@dataclass(frozen=True)
class BiasPrior:
    """delta ~ N(mu, sigma^2) on the log scale (delta = log(reported HR / true HR));
    sigma = 0 is a fixed, known bias."""

    mu: float
    sigma: float

    @property
    def ratio(self) -> float:
        """exp(mu): the median ratio reported HR / true HR."""
        return math.exp(self.mu)

    def ratio_interval(self, prob: float = 0.95) -> tuple[float, float]:
        from scipy.special import ndtri

        z = float(ndtri(0.5 + prob / 2))
        return math.exp(self.mu - z * self.sigma), math.exp(self.mu + z * self.sigma)


@dataclass(frozen=True)
class BiasSpec:
    """A checked ``[bias]`` section: an optional common bias and per-study biases by
    ``column -> level -> BiasPrior``."""

    common: BiasPrior | None = None
    by: dict = field(default_factory=dict)
    source: str = "[bias]"

    @property
    def empty(self) -> bool:
        return self.common is None and not self.by


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _parse_prior(value, where: str, problems: list[str]) -> BiasPrior | None:
    if not isinstance(value, dict):
        problems.append(f"{where}: must be a table such as {{ mu = -0.18, sigma = 0.12 }}; got {value!r}")
        return None
    unknown = set(value) - {"mu", "sigma"}
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: mu, sigma")
    ok = True
    for k in ("mu", "sigma"):
        if k not in value:
            problems.append(f"{where}: missing '{k}' (a bias is {{ mu = <log ratio of HRs>, sigma = <sd, 0 = fixed> }})")
            ok = False
        elif not _number(value[k]):
            problems.append(f"{where}.{k}: must be a finite number, got {value[k]!r}")
            ok = False
        elif k == "sigma" and value[k] < 0:
            problems.append(f"{where}.sigma: must be >= 0 (0 = a fixed, known bias), got {value['sigma']:g}")
            ok = False
        elif k == "sigma" and value[k] > MAX_BIAS_SIGMA:
            problems.append(f"{where}.sigma: {value['sigma']:g} is beyond {MAX_BIAS_SIGMA:g} on the log-HR scale "
                            f"(a 95% prior range of ratios wider than 3e-9 to 3e8); sigma = {MAX_BIAS_SIGMA:g} is "
                            "already vague: use at most that")
            ok = False
        elif k == "mu" and abs(value[k]) > MAX_BIAS_MU:
            problems.append(f"{where}.mu: {value['mu']:g} centres the bias at a ratio reported HR / true HR of "
                            f"{math.exp(max(min(value['mu'], 700.0), -700.0)):.3g}, beyond a 20-fold ratio (|mu| <= "
                            f"ln 20 = {MAX_BIAS_MU:.3f}); mu is the LOG of the ratio, e.g. mu = -0.18 for 0.84")
            ok = False
    return BiasPrior(float(value["mu"]), float(value["sigma"])) if ok else None


def parse_bias(raw: dict, source: str = "spec", evidence=None) -> BiasSpec:
    """Check a ``[bias]`` table (the parsed TOML) and return a BiasSpec. Every problem is
    collected in one pass and raised as one SpecError (``.problems`` lists them): unknown
    keys, non-numeric or missing mu/sigma, sigma < 0, sigma > 10 (`MAX_BIAS_SIGMA`; 10
    itself, a vague prior, is valid), |mu| > ln 20 (`MAX_BIAS_MU`: a centre beyond a 20-fold
    ratio of HRs), and, when `evidence` (a DataFrame or
    a mapping column -> values) is given, a ``by.<column>.<level>`` naming a column or
    level absent from the evidence (the message lists what exists)."""
    where = f"{source}: [bias]"
    problems: list[str] = []
    if not isinstance(raw, dict):
        raise SpecError(f"{where} must be a table")
    unknown = set(raw) - {"common", "by"}
    if unknown:
        problems.append(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: common, by")
    common = None
    if "common" in raw:
        common = _parse_prior(raw["common"], f"{where}.common", problems)
    by: dict = {}
    if "by" in raw:
        if not isinstance(raw["by"], dict):
            problems.append(f"{where}.by: must be a table [bias.by.<column>] with one {{mu, sigma}} per level")
        else:
            for col, levels in raw["by"].items():
                if not isinstance(levels, dict) or not levels:
                    problems.append(f"{where}.by.{col}: must be a table of levels, e.g. case_series = {{ mu = -0.25, sigma = 0.25 }}")
                    continue
                for lev, val in levels.items():
                    pr = _parse_prior(val, f"{where}.by.{col}.{lev}", problems)
                    if pr is not None:
                        by.setdefault(str(col), {})[str(lev)] = pr
    if evidence is not None and isinstance(raw.get("by"), dict):
        problems += _column_problems(raw["by"], evidence, where)
    if problems:
        raise SpecError(problems=problems)
    return BiasSpec(common=common, by=by, source=source)


def _columns(evidence) -> dict[str, list]:
    if hasattr(evidence, "table"):
        evidence = evidence.table
    if hasattr(evidence, "columns"):
        return {str(c): evidence[c].tolist() for c in evidence.columns}
    return {str(k): list(v) for k, v in dict(evidence).items()}


def _clean(values) -> list[str | None]:
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() in ("", "<NA>", "nan"):
            out.append(None)
        else:
            out.append(str(v).strip())
    return out


def _column_problems(by_raw: dict, evidence, where: str) -> list[str]:
    cols = _columns(evidence)
    problems = []
    for col, levels in by_raw.items():
        if col not in cols:
            problems.append(f"{where}.by.{col}: column '{col}' is not in the evidence; columns: {', '.join(sorted(cols))}")
            continue
        present = sorted({v for v in _clean(cols[col]) if v is not None})
        for lev in (levels if isinstance(levels, dict) else {}):
            if str(lev) not in present:
                problems.append(f"{where}.by.{col}.{lev}: level '{lev}' of '{col}' is not in the selected studies; "
                                f"levels: {', '.join(present) or 'none'}")
    return problems


def restrict_bias(bias: BiasSpec | None, table) -> BiasSpec | None:
    """The bias spec restricted to the column levels present in `table` (a DataFrame):
    for refits on a subset of the studies (leave-one-out, leave-one-level-out). Returns
    None when nothing is left."""
    if bias is None:
        return None
    by = {}
    for col, levels in bias.by.items():
        if col not in table.columns:
            continue
        present = set(_clean(table[col].tolist()))
        kept = {lv: p for lv, p in levels.items() if lv in present}
        if kept:
            by[col] = kept
    out = BiasSpec(common=bias.common, by=by, source=bias.source)
    return None if out.empty else out


def check_bias_columns(bias: BiasSpec, evidence) -> None:
    """Raise one SpecError listing every ``by.<column>.<level>`` absent from `evidence`."""
    raw = {c: dict(levs) for c, levs in bias.by.items()}
    problems = _column_problems(raw, evidence, f"{bias.source}: [bias]")
    if problems:
        raise SpecError(problems=problems)


def parse_tipping_probability(raw, source: str = "spec") -> dict[float, float]:
    """Check ``[report] tipping_probability = { "1" = 0.95, "0.8" = 0.5 }``: keys are HR
    thresholds (as strings), values probabilities in (0, 1)."""
    where = f"{source}: [report].tipping_probability"
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: must be a table such as {{ \"1\" = 0.95, \"0.8\" = 0.5 }}")
    out, problems = {}, []
    for k, v in raw.items():
        try:
            t = float(k)
            if not (t > 0 and math.isfinite(t)):
                raise ValueError
        except ValueError:
            problems.append(f"{where}: key {k!r} is not a positive HR threshold")
            continue
        if not _number(v) or not 0 < v < 1:
            problems.append(f"{where}.\"{k}\": must be a probability strictly between 0 and 1, got {v!r}")
            continue
        out[t] = float(v)
    if problems:
        raise SpecError(problems=problems)
    return out
