"""File output of the report: `write_report` fits, builds the report dict, draws the
figures, and writes report.html, report.md, summary.json, studies.csv, sweep.csv,
influence.csv and figures/ into one directory atomically."""

from __future__ import annotations

from pathlib import Path

from .build import build_report
from .render import render_html, render_markdown
from .text import content

__all__ = ["write_report", "FOREST_MAX_ROWS"]

FOREST_MAX_ROWS = 40


def write_report(spec, out_dir, data=None, engine: str = "auto", seed: int | None = None,
                 allow_failed_diagnostics: bool = False, progress: bool = False) -> Path:
    """Fit, run the sensitivity analyses, and write report.html, report.md, summary.json,
    studies.csv, sweep.csv, influence.csv and figures/*.png|svg into out_dir, atomically.
    A primary MCMC fit that fails its gate raises DiagnosticsFailed before any sensitivity
    refit (unless allow_failed_diagnostics). Returns the output directory (a Path); the
    report's numbers are in <out_dir>/summary.json."""
    from .. import plots
    from ..api import write_fit_outputs
    from ..io import atomic_directory, write_csv

    rep, post = build_report(spec, data=data, engine=engine, seed=seed, progress=progress,
                             allow_failed_diagnostics=allow_failed_diagnostics)
    frames = rep.pop("_frames", {})
    out_dir = Path(out_dir)
    import pandas as pd

    st = pd.DataFrame(rep["studies"])  # summary.json's per-study table: computing it again is O(k) slow
    labels = _labels(post.evidence.table)
    with atomic_directory(out_dir) as tmp:
        figdir = tmp / "figures"
        figs, notes = {}, {}
        title = rep["title"]
        fig, note = plots.forest(post, title=title, studies=st, labels=labels, max_rows=FOREST_MAX_ROWS,
                                 with_note=True)
        figs["forest"] = plots.save(fig, figdir / "forest")[0]
        if note:
            notes["forest"] = note
        from ..evidence.arms import arm_rows_of, is_arm_evidence

        if is_arm_evidence(post.evidence):  # arm rows: survival per arm as the studies reported it
            arms = arm_rows_of(post.evidence.table)[1]
            if arms is not None:
                figs["arm_forest"] = plots.save(plots.arm_forest(arms, rep.get("treatment") or "the treatment"),
                                                figdir / "arm_forest")[0]
        figs["density"] = plots.save(plots.density(post), figdir / "density")[0]
        if "sweep" in frames:
            figs["sweep"] = plots.save(plots.sweep_plot(frames["sweep"]), figdir / "sweep")[0]
            fig, note = plots.influence_plot(frames["influence"], labels=labels, max_rows=FOREST_MAX_ROWS,
                                             with_note=True)
            figs["influence"] = plots.save(fig, figdir / "influence")[0]
            if note:
                notes["influence"] = note
            write_csv(frames["sweep"], tmp / "sweep.csv")
            write_csv(frames["influence"], tmp / "influence.csv")
        from .observational import observational_figures

        rep["thresholds"] = list(post.spec.thresholds)
        figs.update(observational_figures(rep, figdir, plots.save))
        if rep.get("publication_bias"):
            figs["funnel"] = plots.save(plots.funnel(rep["publication_bias"]["funnel"]), figdir / "funnel")[0]
        from .multiverse import write_multiverse_outputs

        figs.update(write_multiverse_outputs(rep, tmp))  # tmp/multiverse/ when the spec names a grid
        rep["figure_notes"] = notes
        blocks = content(rep, figs)
        # summary.json (the report dict) and studies.csv as `bayesnet fit` writes them
        write_fit_outputs(post, tmp, rep, studies=st, posterior_nc=False)
        (tmp / "report.html").write_text(render_html(blocks, figs), encoding="utf-8")
        (tmp / "report.md").write_text(render_markdown(blocks, figs), encoding="utf-8")
    return out_dir


def _labels(table) -> dict[str, str]:
    """Study id -> display name: the `label` column when present and non-empty, else the id."""
    if "label" not in table.columns:
        return {}
    out = {}
    for sid, lab in zip(table["study"].astype(str), table["label"]):
        if isinstance(lab, str) and lab.strip():
            out[sid] = lab.strip()
    return out
