"""bayesnet: Bayesian evidence modelling of hazard ratios for guideline panels.

Verbs that compose (each documented with its formula and reference):
    load_evidence / derive  ->  fit  ->  Posterior (summaries, predictive, probabilities)
                                     ->  sweep / influence  ->  report
Heavy dependencies (PyMC) are imported only where sampling happens.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bayesnet")
except PackageNotFoundError:  # pragma: no cover
    __version__ = "0.0.0+unknown"

from .evidence import EvidenceError, EvidenceTable, derive, load_evidence  # noqa: E402,F401


def __getattr__(name):  # lazy access to the heavier layers
    import importlib

    lazy = {
        "fit": ("bayesnet.api", "fit"),
        "read_spec": ("bayesnet.spec", "read_spec"),
        "Spec": ("bayesnet.spec", "Spec"),
        "sweep": ("bayesnet.sensitivity", "sweep"),
        "influence": ("bayesnet.sensitivity", "influence"),
        "write_report": ("bayesnet.report", "write_report"),
    }
    if name in lazy:
        mod, attr = lazy[name]
        return getattr(importlib.import_module(mod), attr)
    raise AttributeError(name)
