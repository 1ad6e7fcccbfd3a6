"""The [network] section of a spec (all keys optional):

    [network]
    reference = "none"          # the reference treatment (default: the first alphabetically, as gemtc)
    comparator = "none"         # the comparator of the report's forest (default: the reference)
    node_split = true           # node-splitting for every comparison with direct and indirect evidence
    ume = true                  # the unrelated-mean-effects model compared with the consistency model
    rank_draws = 20000          # draws of the exact posterior behind rankings (SUCRA, rank probabilities)
    interactions = "shared"     # meta-regression on [model] covariates: "shared" or "per_treatment"

A network analysis is switched on by a `treatment` column in the data, not by this section.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..validate import Problems, is_int, is_str

__all__ = ["NetworkSpec", "parse_network"]


@dataclass(frozen=True)
class NetworkSpec:
    reference: str | None = None
    comparator: str | None = None
    node_split: bool = True
    ume: bool = True
    rank_draws: int = 20000
    interactions: str = "shared"


def parse_network(raw) -> NetworkSpec:
    """Check a [network] table; raises SpecError listing every problem."""
    P = Problems()
    if raw is None:
        return NetworkSpec()
    if not P.table("network", raw, "[network] with reference = \"...\""):
        P.raise_if_any()
    allowed = {"reference", "comparator", "node_split", "ume", "rank_draws", "interactions"}
    P.keys("network", raw, allowed)
    out = {}
    for k in ("reference", "comparator"):
        if k in raw and P.check("network", k, raw[k], is_str, "a treatment name (text)"):
            out[k] = raw[k].strip()
    for k in ("node_split", "ume"):
        if k in raw and P.check("network", k, raw[k], lambda v: isinstance(v, bool), "true or false"):
            out[k] = raw[k]
    if "rank_draws" in raw and P.check("network", "rank_draws", raw["rank_draws"],
                                       lambda v: is_int(v) and 1000 <= v <= 1_000_000, "an integer in [1000, 1e6]"):
        out["rank_draws"] = int(raw["rank_draws"])
    if "interactions" in raw and P.choice("network", "interactions", raw["interactions"],
                                          ("shared", "per_treatment")):
        out["interactions"] = raw["interactions"]
    P.raise_if_any()
    return NetworkSpec(**out)
