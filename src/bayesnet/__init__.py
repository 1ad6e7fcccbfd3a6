"""bayesnet: Bayesian evidence modelling of hazard ratios for guideline panels.

Verbs that compose (each documented with its formula and reference):
    load_evidence / derive  ->  fit  ->  Posterior (summaries, predictive, probabilities)
                                     ->  sweep / influence  ->  report
Everything is imported lazily: `bayesnet --help` loads neither pandas nor PyMC, and
PyMC is imported only where sampling happens.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bayesnet")
except PackageNotFoundError:  # pragma: no cover
    __version__ = "0.0.0+unknown"


_LAZY = {
    "EvidenceError": ("bayesnet.evidence", "EvidenceError"),
    "EvidenceTable": ("bayesnet.evidence", "EvidenceTable"),
    "derive": ("bayesnet.evidence", "derive"),
    "load_evidence": ("bayesnet.api", "load_evidence"),  # select= (select_ deprecated)
    "fit": ("bayesnet.api", "fit"),
    "read_spec": ("bayesnet.spec", "read_spec"),
    "Spec": ("bayesnet.spec", "Spec"),
    "sweep": ("bayesnet.sensitivity", "sweep"),
    "influence": ("bayesnet.sensitivity", "influence"),
    "multiverse": ("bayesnet.multiverse_analysis", "multiverse"),
    "write_report": ("bayesnet.report", "write_report"),
    "Posterior": ("bayesnet.posterior", "Posterior"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name):  # lazy access to the heavier layers
    import importlib

    if name in _LAZY:
        mod, attr = _LAZY[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(f"module 'bayesnet' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
