"""`bayesnet bias`: publication bias and small-study effects for a spec's studies."""

from __future__ import annotations

from pathlib import Path

from .cli import EXIT_OK, call_guarded


def summary_text(pb: dict, domain: dict) -> str:
    """Plain-text headline of a ``publication_bias`` block."""
    from .format import bf, hr_ci, num, p_eq
    from .pubbias.config import ensemble_name

    lines = [f"{pb['k']} studies"]
    if pb.get("caveat"):
        lines.append(pb["caveat"])
    if pb.get("egger"):
        eg, ss = pb["egger"], pb["egger"].get("small_sample") or {}
        few = " (too little power at this k to show or exclude small-study effects)" if pb["k"] < 10 else ""
        if ss.get("p") is not None:
            lines.append(f"Egger's test (small-sample t test, {ss['df']} df): t = {num(ss['t'])}, p {p_eq(ss['p'])}"
                         f"{few}; z test (metafor default) p {p_eq(eg['p'])}")
        else:
            lines.append(f"Egger's test: z = {num(eg['z'])}, p {p_eq(eg['p'])}{few}")
    elif pb.get("egger_note"):
        lines.append(pb["egger_note"])
    if pb.get("debray"):
        d = pb["debray"]
        lines.append(f"Debray's test ({d['variant']}, {d['k']} studies): t = {num(d['t'])}, p {p_eq(d['p'])}")
    elif pb.get("debray_note"):
        lines.append(pb["debray_note"])
    if pb.get("pet_peese"):
        c = pb["pet_peese"]["conditional"]
        flag = "" if pb["pet_peese"]["reliable"] else " (unreliable: " + "; ".join(pb["pet_peese"]["unreliable_because"]) + ")"
        lines.append(f"PET-PEESE ({c['uses'].upper()}): HR {hr_ci(c['hr']['median'], c['hr']['ci'])}{flag}")
    elif pb.get("pet_peese_note"):
        lines.append(pb["pet_peese_note"])
    a = pb["averaging"]
    if a is None:
        lines.append(pb.get("averaging_note", "model averaging not run"))
        lines.append(domain["sentence"])
        return "\n".join(lines)
    ens = ensemble_name((a.get("priors") or {}).get("ensemble", "psma"))
    lines.append(f"{ens} inclusion BF: " + ", ".join(f"{k} {bf(v)}" for k, v in a["inclusion_bf"].items()))
    w, wo = a["pooled"]["hr"], a["without_bias_components"]["pooled"]["hr"]
    lines.append(f"model-averaged HR {hr_ci(w['median'], w['ci'])}; without the bias models "
                 f"{hr_ci(wo['median'], wo['ci'])}")
    lines.append(domain["sentence"])
    return "\n".join(lines)


def cmd_bias(args) -> int:
    from .api import fit, to_json
    from .io import atomic_directory
    from .pubbias.analysis import analyse_publication_bias, grade_publication_bias

    def run():
        from .errors import BayesnetError

        post = fit(args.spec, data=args.data, engine="auto", frequentist=False, log_likelihood=False)
        try:
            return post, analyse_publication_bias(post)
        except BayesnetError as exc:  # a problem of these studies: name the file they came from
            src = post.evidence.source if args.data is not None else f"{args.spec} ({post.evidence.source})"
            if str(exc).startswith(src):
                raise
            if getattr(exc, "problems", None) or getattr(exc, "diagnostics", None):
                raise  # errors with structured contents carry their own file names
            raise type(exc)(f"{src}: {exc}") from None

    res, code = call_guarded(run)
    if code is not None:
        return code
    post, pb = res
    domain = grade_publication_bias(pb)
    print(summary_text(pb, domain))
    if args.out:
        from . import plots

        def write():
            with atomic_directory(Path(args.out)) as tmp:
                (tmp / "publication_bias.json").write_text(to_json({"publication_bias": pb, "grade_domain": domain}),
                                                           encoding="utf-8")
                plots.save(plots.funnel(pb["funnel"]), tmp / "funnel")

        _, code = call_guarded(write)
        if code is not None:
            return code
        print(f"wrote {args.out}/publication_bias.json, funnel.png, funnel.svg")
    return EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("bias", help="publication bias and small-study effects",
                       description="Funnel plot, Egger's and Debray's tests, Bayesian PET-PEESE and robust Bayesian "
                                   "model averaging (RoBMA-PSMA ensemble) for the studies of SPEC.toml, configured by "
                                   "its [publication_bias] section. With fewer than 10 studies the output says first "
                                   "that publication bias cannot be assessed reliably. Exit 0 ok, 2 bad input.")
    p.add_argument("spec", help="model spec (TOML)")
    p.add_argument("--data", help="CSV evidence table that replaces the spec's [data]")
    p.add_argument("--out", help="output directory: publication_bias.json and the funnel plot (replaced atomically)")
    p.set_defaults(func=cmd_bias)
