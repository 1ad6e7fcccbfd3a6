"""`bayesnet report`: the probability-of-benefit report for a guideline panel."""

from __future__ import annotations

import sys

from .cli import EXIT_DIAGNOSTICS, EXIT_OK, call_guarded


def cmd_report(args) -> int:
    from .report import write_report
    code = _network(args)       # data with a `treatment` column: network meta-analysis
    if code is not None:
        return code

    print(f"bayesnet report: fitting {args.spec}, prior sweep and influence analyses ...", file=sys.stderr)
    rep, code = call_guarded(lambda: write_report(
        args.spec, args.out, data=args.data, engine=args.engine, seed=args.seed,
        allow_failed_diagnostics=args.allow_failed_diagnostics, progress=sys.stderr.isatty()))
    if code is not None:
        return code
    from .cli_fit import headline

    if not isinstance(rep, dict):               # write_report returns the output path
        import json
        from pathlib import Path

        rep = json.loads((Path(rep) / "summary.json").read_text(encoding="utf-8"))
    print(headline(rep))
    print(f"wrote {args.out}/report.html, report.md, summary.json, studies.csv, figures/")
    return EXIT_OK if rep["status"] == "ok" else EXIT_DIAGNOSTICS


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write the probability-of-benefit report (HTML, Markdown, figures)",
                       description="Fit SPEC.toml, run the prior sweep and the influence analyses, and write "
                                   "DIR/report.html (self-contained), DIR/report.md, DIR/summary.json, "
                                   "DIR/studies.csv and DIR/figures/*.png|svg, atomically. A spec whose data "
                                   "are arm rows gets the arm-level report. Exit 0 ok, 2 bad input, "
                                   "3 failed MCMC diagnostics.")
    from .cli_fit import add_common

    add_common(p)
    p.add_argument("--out", default="results/report",
                   help="output directory (default results/report); replaced whole, atomically, only when "
                        "it is empty or was written by bayesnet")
    p.set_defaults(func=cmd_report)


def _network(args) -> int | None:
    """The network meta-analysis report when the data have a `treatment` column, else None."""
    from .network.cli import is_network_args, run_network

    return run_network(args, report=True) if is_network_args(args) else None
