"""The exceptions a user can cause, in one family.

Everything a user can get wrong (a spec key, an evidence row, a selection, an output path)
raises a subclass of :class:`BayesnetError`; the CLI maps them to exit code 2 (bad input)
or 3 (:class:`DiagnosticsFailed`). Any other exception is a bug in bayesnet: the CLI exits
1 with "internal error: please report" and the traceback.
"""

from __future__ import annotations


class BayesnetError(Exception):
    """Base of every user-facing error. The message names what is wrong and the fix."""

    exit_code = 2


class SpecError(BayesnetError, ValueError):
    """A spec (or sweep grid) key or value is not allowed; the message names it and lists
    what is allowed. `.problems` may hold several messages found in one pass."""

    def __init__(self, message: str | None = None, problems: list[str] | None = None):
        self.problems = list(problems or ([message] if message else []))
        if message is None:
            message = (f"{len(self.problems)} problem(s) in the spec:\n" if len(self.problems) > 1 else "") + \
                "\n".join(self.problems)
        super().__init__(message)


class EvidenceError(BayesnetError, ValueError):
    """The evidence table has errors; `.problems` holds all of them (and the warnings found
    in the same pass)."""

    def __init__(self, problems):
        self.problems = list(problems)
        errors = [p for p in self.problems if getattr(p, "level", "error") == "error"]
        super().__init__(
            f"{len(errors)} error(s) in the evidence table:\n" + "\n".join(str(p) for p in errors)
        )


class InputError(SpecError, EvidenceError):
    """Problems found in one pass in more than one input: the spec, the data columns it
    names, the evidence file. `.problems` lists every one (spec messages as text, evidence
    problems as `Problem`s), each naming its file. Caught by ``except SpecError`` and by
    ``except EvidenceError`` alike."""

    def __init__(self, problems):
        self.problems = list(problems)
        errors = [p for p in self.problems if getattr(p, "level", "error") == "error"]
        Exception.__init__(self, f"{len(errors)} problem(s) in the inputs:\n" + "\n".join(str(p) for p in errors))


class SelectionError(BayesnetError, ValueError):
    """A selection (named, TOML, include/exclude, overlap rule) cannot be applied."""


class OutputError(BayesnetError, OSError):
    """An output path cannot be used (not written by bayesnet, a file, the current
    directory, a full disk, ...)."""


class ModelError(BayesnetError, ValueError):
    """The model cannot be fitted as stated (improper posterior, collinear covariates,
    too few studies for a requested feature)."""


class MissingExtraError(BayesnetError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


class DiagnosticsFailed(BayesnetError, RuntimeError):
    """MCMC diagnostics failed their gate; `.diagnostics` holds the numbers."""

    exit_code = 3

    def __init__(self, diagnostics):
        self.diagnostics = diagnostics
        super().__init__("MCMC diagnostics failed: " + "; ".join(diagnostics.get("problems", [])))
