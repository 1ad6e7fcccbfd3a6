"""The `bayesnet` command line: thin, it parses arguments, calls the library and maps
errors to exit codes (0 ok, 2 bad input, 3 failed MCMC diagnostics)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_BAD_INPUT, EXIT_DIAGNOSTICS = 0, 2, 3


def _print_problems(problems, stream=sys.stderr) -> None:
    for p in problems:
        print(str(p), file=stream)


def call_guarded(fn):
    """Run fn(); map bad input to exit code 2 with readable messages (never a traceback).
    Returns (result, None) or (None, exit code)."""
    from .errors import SpecError
    from .evidence import EvidenceError

    try:
        return fn(), None
    except EvidenceError as exc:
        _print_problems(exc.problems)
        print(f"{sum(p.level == 'error' for p in exc.problems)} error(s) in the evidence table.", file=sys.stderr)
        return None, EXIT_BAD_INPUT
    except (SpecError, FileNotFoundError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None, EXIT_BAD_INPUT


def _format_table(ev) -> str:
    import pandas as pd

    t = ev.display_table()
    show = pd.DataFrame({
        "study": t["study"],
        "HR": t["hr"].map(lambda x: f"{x:.3f}"),
        "95% CI": [f"{a:.3f}-{b:.3f}" for a, b in zip(t["ci_low"], t["ci_high"])],
        "log_hr": t["log_hr"].map(lambda x: f"{x:.4f}"),
        "se": t["se"].map(lambda x: f"{x:.4f}"),
        "derivation": t["derivation"],
        "warnings": t["warnings"].map(lambda w: (w[:90] + "...") if len(w) > 93 else w),
    })
    with pd.option_context("display.width", 250, "display.max_colwidth", 100):
        return show.to_string(index=False)


def cmd_validate(args) -> int:
    from .evidence import EvidenceError, load_evidence
    from .io import write_text_atomic

    if (args.data is None) == (args.dataset is None):
        print("error: give a DATA.csv file or --dataset NAME (not both)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.dataset:
            ev = load_evidence(dataset=args.dataset, select_=args.select, base_dir=Path("models"))
        else:
            ev = load_evidence(path=args.data, select_=args.select)
    except EvidenceError as exc:
        _print_problems(exc.problems)
        n = sum(p.level == "error" for p in exc.problems)
        print(f"{n} error(s): the evidence table is not valid.", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.keep_overlap:
        from .evidence import select_overlap

        kept, dropped = select_overlap(ev.table, keep=args.keep_overlap)
        ev.table = kept.reset_index(drop=True)
        if len(dropped):
            import pandas as pd

            ev.excluded = pd.concat([x for x in (ev.excluded, dropped[["study", "reason"]]) if x is not None])
    print(f"{ev.source}: {ev.k} valid row(s)")
    print(_format_table(ev))
    if ev.excluded is not None and len(ev.excluded):
        print(f"\nExcluded by the selection ({len(ev.excluded)} row(s)):")
        for s, r in zip(ev.excluded["study"], ev.excluded["reason"]):
            print(f"  - {s}: {r}")
    if ev.problems:
        print(f"\n{len(ev.problems)} warning(s):")
        _print_problems(ev.problems, sys.stdout)
    if args.out:
        write_text_atomic(args.out, ev.table.to_csv(index=False))
        print(f"\nwrote {args.out}")
    return EXIT_OK


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
    v.add_argument("--keep-overlap", choices=["largest", "most_recent", "all"],
                   help="keep one row per overlap_group (shared source population) by this rule")
    v.add_argument("--out", help="write the derived table to this CSV file")
    v.set_defaults(func=cmd_validate)

    for name, mod in (("fit", "fit"), ("sweep", "sweep"), ("report", "report")):
        try:
            import importlib
            m = importlib.import_module(f"bayesnet.cli_{mod}")
        except ModuleNotFoundError:
            continue
        m.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
