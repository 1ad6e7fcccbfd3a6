"""`bayesnet fit` / `bayesnet report` for a spec whose data have a `treatment` column."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["is_network_args", "run_network"]


def is_network_args(args) -> bool:
    from .api import is_network_spec

    return is_network_spec(args.spec, args.data)


def run_network(args, report: bool) -> int:
    """Fit the network, print its headline and write summary.json, contrasts.csv,
    league.csv, rankings.csv (and, for `report`, report.md, report.html and figures/)
    atomically into args.out. Exit codes as the CLI's: 0 ok, 2 bad input, 3 failed MCMC."""
    from ..cli import EXIT_DIAGNOSTICS, EXIT_OK, call_guarded
    from ..io import atomic_directory
    from .api import analyse_network, network_headline, write_network_outputs

    res, code = call_guarded(lambda: analyse_network(args.spec, args.data, engine=args.engine, seed=args.seed,
                                                     progress=sys.stderr.isatty()))
    if code is not None:
        return code
    post, summary = res
    if not post.ok and not args.allow_failed_diagnostics:
        print("MCMC DIAGNOSTICS FAILED: " + "; ".join(post.diagnostics.get("problems", [])), file=sys.stderr)
        print("no results written (use --allow-failed-diagnostics to write them, marked failed)", file=sys.stderr)
        return EXIT_DIAGNOSTICS
    print(network_headline(summary))
    if args.out is None:
        return EXIT_OK if post.ok else EXIT_DIAGNOSTICS

    def write():
        with atomic_directory(Path(args.out)) as tmp:
            files = write_network_outputs(post, summary, tmp)
            if report:
                from .report import write_network_report

                files += write_network_report(post, summary, tmp)
        return files

    files, code = call_guarded(write)
    if code is not None:
        return code
    print(f"wrote {args.out}/" + ", ".join(files))
    return EXIT_OK if post.ok else EXIT_DIAGNOSTICS
