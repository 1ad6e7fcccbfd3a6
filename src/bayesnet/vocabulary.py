"""Plain words for the codes a data set and bayesnet use: column names, design levels and
the derivation tags of `bayesnet.evidence.derivations`, as the report's tables and
figures show them. One table (`WORDS`), read by `column_name` and `value`; a code not in
it is shown with its underscores as spaces (a curated label such as "NCDB" is kept).

The codes themselves stay what they are in the data, in summary.json and in the CSV
files: only what a reader sees is translated.
"""

from __future__ import annotations

__all__ = ["WORDS", "column_name", "value", "derivation", "level", "left_out"]

#: code -> plain words (column names and values share one table: a code means one thing)
WORDS: dict[str, str] = {
    # evidence columns
    "source_type": "source",
    "design_class": "design class",
    "design": "design",
    "data_source": "data source",
    "overlap_group": "shared population",
    "registry_family": "registry",
    "derivation": "how the HR was obtained",
    "warnings": "flags",
    "tumor_site": "tumour site",
    # design levels
    "case_series": "case series",
    "cohort": "cohort",
    "comparative": "comparative study",
    "propensity": "propensity-adjusted",
    "propensity_weighted_cohort": "propensity-weighted cohort",
    "propensity_matched_cohort": "propensity-matched cohort",
    "rct": "randomised trial",
    "registry": "registry",
    "institutional": "institutional",
    "single_center": "single centre",
    "multicenter": "multicentre",
    # derivation tags (bayesnet.evidence.derivations.CONVERSIONS)
    "log_hr_se": "log-HR and SE as reported",
    "hr_ci": "HR and CI as reported",
    "imputed_point_estimate": "HR imputed from the CI",
    "se_from_p": "SE from the p-value",
    "se_from_p_bound": "SE from a p-value bound",
    "logrank_peto": "from log-rank O-E and V",
    "from_survival_proportions": "from survival proportions",
    "from_medians": "from median survival and deaths",
    "from_medians_events_approx": "from median survival (deaths approximated)",
}

INVERTED = "+inverted"
INVERTED_WORDS = "inverted (reported as control vs treated)"


def column_name(col) -> str:
    """A column's name for a table header or a figure label: "data_source" -> "data source"."""
    c = str(col)
    return WORDS.get(c, c.replace("_", " "))


def value(v) -> str:
    """A categorical value in plain words: "propensity_weighted_cohort" ->
    "propensity-weighted cohort", "single_center" -> "single centre"; a value not in the
    table keeps its text with underscores as spaces; "" stays ""."""
    s = str(v)
    if s in WORDS:
        return WORDS[s]
    return s.replace("_", " ")


def derivation(tag) -> str:
    """A derivation tag in plain words: "se_from_p_bound+inverted" -> "SE from a p-value
    bound; inverted (...)"; tags joined by "+" are translated one by one."""
    s = str(tag or "")
    if not s:
        return ""
    inverted = s.endswith(INVERTED)
    base = s[: -len(INVERTED)] if inverted else s
    words = "; ".join(value(p) for p in base.split("+") if p)
    return words + ("; " + INVERTED_WORDS if inverted else "")


def level(col, lev) -> str:
    """A column's level in plain words: ("data_source", "single_center") -> "data source:
    single centre"."""
    return f"{column_name(col)}: {value(lev)}"


def left_out(omitted, kind: str, labels: dict | None = None) -> str:
    """The row label of a leave-one-out refit (`bayesnet.sensitivity.influence`): "all
    studies", "without <study label>", or "without design: case series" for a level
    ("design=case_series")."""
    if kind == "full":
        return "all studies"
    o = str(omitted)
    if kind == "level" and "=" in o:
        return "without " + level(*o.split("=", 1))
    return "without " + (labels or {}).get(o, o)
