"""The `bayesnet` command line: thin, it parses arguments, calls the library and maps
errors to exit codes (0 ok, 2 bad input, 3 failed MCMC diagnostics)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_DIAGNOSTICS = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143
ISSUES_URL = "https://github.com/bayesnet/bayesnet/issues"


class Terminated(BaseException):
    """Raised by the CLI's SIGTERM handler so that every `finally`/`except BaseException`
    cleanup runs (no .partial directory is left behind). A BaseException, so that code
    catching Exception (e.g. a sweep recording a failed refit) does not swallow it."""


def _print_problems(problems, stream=None) -> None:
    stream = stream or sys.stderr
    for p in problems:
        print(str(p), file=stream)


def report_error(exc: BaseException) -> int:
    """Print a user-facing error (every problem it holds) and return its exit code:
    BayesnetError subclasses carry theirs (2 bad input, 3 failed diagnostics); a missing or
    unreadable input file is bad input (2); anything else is a bug in bayesnet (1, with the
    traceback)."""
    from .errors import BayesnetError, DiagnosticsFailed, EvidenceError, InputError, SpecError

    if isinstance(exc, InputError):  # the spec, its data columns and the evidence file, in one pass
        for p in exc.problems:
            print(p if hasattr(p, "level") else f"error: {p}", file=sys.stderr)
        n = sum(getattr(p, "level", "error") == "error" for p in exc.problems)
        print(f"{n} error(s) in the spec and its data.", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, EvidenceError):
        _print_problems(exc.problems)
        n = sum(getattr(p, "level", "error") == "error" for p in exc.problems)
        print(f"{n} error(s): the evidence table is not valid.", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, SpecError):
        probs = exc.problems or [str(exc)]
        for p in probs:
            print(f"error: {p}", file=sys.stderr)
        if len(probs) > 1:
            print(f"{len(probs)} problem(s) in the spec.", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, DiagnosticsFailed):
        d = exc.diagnostics or {}
        print(f"MCMC DIAGNOSTICS FAILED: {'; '.join(d.get('problems', [])) or exc}", file=sys.stderr)
        if d.get("suggestion"):
            print(f"suggestion: {d['suggestion']}", file=sys.stderr)
        print("no results written (use --allow-failed-diagnostics to write them, marked failed)", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, BayesnetError):
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)):
        name = exc.filename or ""
        why = {FileNotFoundError: "not found", IsADirectoryError: "is a directory, not a file",
               NotADirectoryError: "a part of this path is a file, not a directory",
               PermissionError: "permission denied"}[type(exc)]
        print(f"error: {name}: {why}" if name else f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    import traceback

    traceback.print_exception(exc, file=sys.stderr)
    print(f"internal error: please report this at {ISSUES_URL} (with the traceback above and the "
          "command you ran)", file=sys.stderr)
    return EXIT_INTERNAL


def call_guarded(fn):
    """Run fn(); map user-facing errors (BayesnetError) to their exit code with readable
    messages and no traceback, and anything else to exit 1 with the traceback. Returns
    (result, None) or (None, exit code). KeyboardInterrupt and SIGTERM propagate to main()."""
    from .io import raise_if_interrupted

    try:
        res = fn()
    except Exception as exc:  # noqa: BLE001 - the CLI boundary
        raise_if_interrupted()
        return None, report_error(exc)
    raise_if_interrupted()
    return res, None


def _format_table(ev) -> str:
    import pandas as pd

    from . import format as fmt

    t = ev.display_table()
    hr_col, ci_col, any_derived, any_inverted = _as_reported(ev.table, t)
    show = pd.DataFrame({
        "study": t["study"],
        "HR": hr_col,
        "95% CI": ci_col,
        "log_hr": t["log_hr"].map(lambda x: fmt.num(x, 4)),
        "se": t["se"].map(lambda x: fmt.num(x, 4)),
        "derivation": t["derivation"],
        "warnings": t["warnings"].map(lambda w: (w[:90] + "...") if len(w) > 93 else w),
    })
    with pd.option_context("display.width", 250, "display.max_colwidth", 100):
        text = show.to_string(index=False)
    if any_derived:
        text += "\n† computed by bayesnet from the row's other numbers (not reported by the study)"
    if any_inverted:
        text += ("\n‡ as reported, control versus treatment (direction = control_vs_treated); log_hr is "
                 "inverted, so that log_hr < 0 favours the treatment in every row")
    return text


def _as_reported(table, display) -> tuple[list[str], list[str], bool, bool]:
    """The HR and CI columns `validate` prints: each number as the study reported it (its
    hr, ci_low, ci_high, with the CI level when it is not 95%; a row reported as control
    versus treatment marked "‡"), and where the study did not report one,
    the value bayesnet derived from log_hr and se, marked "†". Returns (HR texts, CI texts,
    whether any value is derived, whether any is inverted)."""
    import math

    from . import format as fmt

    def given(col, i):
        if col not in table.columns:
            return None
        try:
            v = float(table[col].iloc[i])
        except (TypeError, ValueError):
            return None
        return v if math.isfinite(v) else None

    hrs, cis, derived, any_inv = [], [], False, False
    for i in range(len(table)):
        inv = str(table["derivation"].iloc[i]).endswith("+inverted")
        h, lo, hi = given("hr", i), given("ci_low", i), given("ci_high", i)
        if inv and h is not None and h > 0:
            hrs.append(f"{h:g}‡")
            any_inv = True
        elif h is not None and not inv:
            hrs.append(f"{h:g}")
        else:  # derived, in the row's own direction
            d = display["hr"].iloc[i]
            hrs.append(fmt.hr(1 / d if inv else d, 3) + "†" + ("‡" if inv else ""))
            derived = True
        level = given("ci_level", i)
        lev = "" if level is None or abs(level - 0.95) < 1e-9 else f" ({level:.0%})"
        if lo is not None and hi is not None and lo > 0 and hi > 0:
            cis.append(f"{lo:g}-{hi:g}{lev}" + ("‡" if inv else ""))
            any_inv |= inv
        else:
            a, b = display["ci_low"].iloc[i], display["ci_high"].iloc[i]
            cis.append(fmt.ci((1 / b, 1 / a) if inv else (a, b), 3) + "†" + ("‡" if inv else ""))
            derived = True
            any_inv |= inv
    return hrs, cis, derived, any_inv


def cmd_validate(args) -> int:
    from .evidence import load_evidence
    from .io import csv_text, write_text_atomic

    if (args.data is None) == (args.dataset is None):
        print("error: give a DATA.csv file or --dataset NAME (not both)", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.data is not None and Path(args.data).is_dir():
        print(f"error: {args.data} is a directory; give an evidence table (a CSV file), e.g. "
              "bayesnet validate data/studies.csv", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.out is not None:
        msg = _check_validate_out(args)
        if msg:
            print(f"error: {msg}", file=sys.stderr)
            return EXIT_BAD_INPUT

    def work():
        from .api import arm_evidence_or_none

        ev = arm_evidence_or_none(dataset=args.dataset, path=args.data)  # arm rows: one row per study
        if ev is not None:
            return ev
        if args.dataset:
            ev = load_evidence(dataset=args.dataset, select=args.select, base_dir=Path("models"))
        else:
            ev = load_evidence(path=args.data, select=args.select)
        if args.keep_overlap:
            from .evidence import select_overlap

            kept, dropped = select_overlap(ev.table, keep=args.keep_overlap)
            ev.table = kept.reset_index(drop=True)
            if len(dropped):
                import pandas as pd

                ev.excluded = pd.concat([x for x in (ev.excluded, dropped[["study", "reason"]]) if x is not None])
        return ev

    ev, code = call_guarded(work)
    if code is not None:
        return code
    print(f"{ev.source}: {ev.k} valid row(s)")
    print(_format_table(ev))
    if ev.excluded is not None and len(ev.excluded):
        heading = "Excluded by the selection" if args.select else "Excluded (documented or by the selection)"
        print(f"\n{heading} ({len(ev.excluded)} row(s)):")
        for s, r in zip(ev.excluded["study"], ev.excluded["reason"]):
            print(f"  - {s}: {r}")
    if ev.problems:
        print(f"\n{len(ev.problems)} warning(s):")
        _print_problems(ev.problems, sys.stdout)
    if args.out is not None:
        _, code = call_guarded(lambda: write_text_atomic(args.out, csv_text(ev.table)))
        if code is not None:
            return code
        print(f"\nwrote {args.out}")
    return EXIT_OK


def _check_validate_out(args) -> str | None:
    """Why `validate --out` cannot write its CSV there, or None."""
    out = Path(args.out)
    if str(args.out).strip() == "":
        return "--out is empty: give a CSV file name, e.g. --out derived.csv"
    if out.is_dir():
        return f"--out {out} is a directory; validate writes one CSV file: give a file name, e.g. --out {out / 'derived.csv'}"
    if out.is_symlink():
        return f"--out {out} is a symbolic link; bayesnet does not replace links: choose another --out"
    if args.data is not None and out.exists() and Path(args.data).exists() and out.samefile(args.data):
        return f"--out {out} is the input file; bayesnet will not overwrite its input: choose another --out"
    anc = out.parent
    while not anc.exists() and anc != anc.parent:
        anc = anc.parent
    if not anc.is_dir():
        return f"cannot create {out}: {anc} is a file, not a directory"
    return None


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="bayesnet", description="Bayesian evidence modelling of hazard ratios.")
    p.add_argument("--version", action="version", version=f"bayesnet {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    v = sub.add_parser("validate", help="validate an evidence table and derive log-HRs",
                       description="Validate an evidence table (CSV) or a shipped dataset, derive "
                                   "(log_hr, se) per row and print the table. Exit 0 when valid, 2 when not.")
    v.add_argument("data", nargs="?", help="CSV file, one row per study estimate")
    v.add_argument("--dataset", help="a shipped dataset instead of a file (e.g. gepnet_ptr)")
    v.add_argument("--select", help="a named selection (e.g. primary) or a selection TOML file")
    from .evidence import KEEP_RULES

    v.add_argument("--keep-overlap", choices=list(KEEP_RULES),
                   help="keep one row per overlap_group (shared source population) by this rule")
    v.add_argument("--out", help="write the derived table to this CSV file")
    v.set_defaults(func=cmd_validate)

    for mod in ("fit", "sweep", "report", "bias", "multiverse"):
        try:
            import importlib
            m = importlib.import_module(f"bayesnet.cli_{mod}")
        except ModuleNotFoundError:
            continue
        m.add_parser(sub)
    return p


#: Commands that write figures (they draw with matplotlib's file backend, Agg).
FIGURE_COMMANDS = ("fit", "sweep", "report", "bias")


def use_file_backend() -> None:
    """Draw with matplotlib's Agg backend (files only, no display). Called by the command
    line, which only writes files; importing bayesnet never selects a backend, so that
    notebooks keep their inline figures."""
    import matplotlib

    matplotlib.use("Agg")


def _on_signal(signum, frame):
    from .io import INTERRUPTED

    INTERRUPTED.set()
    if signum == signal.SIGTERM:
        raise Terminated()
    raise KeyboardInterrupt


class _StderrHandler(logging.Handler):
    """Prints a log message on the current sys.stderr (looked up at each message)."""

    def emit(self, record):
        print(self.format(record), file=sys.stderr, flush=True)


def _say_what_is_happening() -> None:
    """Print the engines' INFO messages (e.g. "compiling the model ...") on stderr, once."""
    log = logging.getLogger("bayesnet")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        log.addHandler(_StderrHandler())
        log.setLevel(logging.INFO)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 internal error, 2 bad input,
    3 failed MCMC diagnostics, 130 interrupted, 143 terminated)."""
    from .io import INTERRUPTED

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "command", None) in FIGURE_COMMANDS:
        use_file_backend()
    _say_what_is_happening()
    INTERRUPTED.clear()
    main_thread = threading.current_thread() is threading.main_thread()
    saved = {}
    if main_thread:
        for sig in (signal.SIGINT, signal.SIGTERM):
            saved[sig] = signal.signal(sig, _on_signal)
    try:
        try:
            out = getattr(args, "out", None)
            if out is not None and getattr(args, "command", None) in ("fit", "sweep", "report", "bias"):
                from .io import check_output_dir, output_lock

                # refuse a bad --out before the (long) fit, and hold its lock for the whole
                # run; what an existing directory holds is checked under the lock, where
                # no other run can be replacing it
                _, code = call_guarded(lambda: check_output_dir(out, contents=False))
                if code is not None:
                    return code
                lock = output_lock(out)
                _, code = call_guarded(lock.__enter__)
                if code is not None:
                    return code
                _, code = call_guarded(lambda: check_output_dir(out))
                if code is not None:
                    lock.__exit__(None, None, None)
                    return code
                try:
                    return args.func(args)
                finally:
                    lock.__exit__(None, None, None)
            return args.func(args)
        except (KeyboardInterrupt, Terminated):
            raise
        except Exception as exc:  # noqa: BLE001 - the CLI boundary
            if INTERRUPTED.is_set():
                raise KeyboardInterrupt from None
            return report_error(exc)
    except KeyboardInterrupt:
        _quiet_exit("interrupted")
        return EXIT_INTERRUPTED
    except Terminated:
        _quiet_exit("terminated")
        return EXIT_TERMINATED
    finally:
        for sig, h in saved.items():
            signal.signal(sig, h)
        INTERRUPTED.clear()


def _quiet_exit(word: str) -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    print(word, file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
