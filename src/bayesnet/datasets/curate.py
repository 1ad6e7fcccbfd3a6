"""Rebuild the shipped data files from the curated sources (a documented, reproducible step).

    python -m bayesnet.datasets.curate /work/shared/data

copies ``gepnet_ptr_studies.csv`` (re-curated, below), ``gepnet_baseline_survival.csv``,
``nlm_resection_case_series.csv``, ``nlm_review_table1_arms.csv`` and
``gepnet_published_meta_analyses.csv`` into ``bayesnet/datasets/data/``.

``gepnet_ptr_studies.csv`` is changed in two ways only, so that every reported number and
text survives byte for byte:

- whole numbers written as floats by the source's spreadsheet export ("2015.0", "442.0")
  in ``year``, ``n_treated``, ``n_control`` and ``n_total`` are written as integers;
- a column ``registry_family`` is added after ``overlaps_with``: "SEER" for SEER,
  SEER-Medicare and California Cancer Registry rows (the California registry is a SEER
  registry), "NCDB" for NCDB rows, empty otherwise (see `registry_family`).

The other files are copied unchanged.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sys
from pathlib import Path

__all__ = ["COPIED", "curate_gepnet_ptr", "main", "registry_family"]

COPIED = ("gepnet_baseline_survival.csv", "nlm_resection_case_series.csv", "nlm_review_table1_arms.csv",
          "gepnet_published_meta_analyses.csv")
INTEGER_COLUMNS = ("year", "n_treated", "n_control", "n_total")
_WHOLE = re.compile(r"^(-?\d+)\.0+$")


def registry_family(row: dict) -> str:
    """The registry family of a row: "SEER" (data_source SEER or SEER-Medicare, or a
    regional registry that is the California Cancer Registry, a SEER registry), "NCDB"
    (data_source NCDB), "" otherwise."""
    src = row.get("data_source", "").strip()
    if src in ("SEER", "SEER-Medicare"):
        return "SEER"
    if src == "NCDB":
        return "NCDB"
    if src == "regional_registry":
        text = " ".join(row.get(c, "") for c in ("label", "country", "notes", "subgroup", "source_quote"))
        if "california" in text.lower():
            return "SEER"
    return ""


def curate_gepnet_ptr(text: str) -> str:
    """The shipped ``gepnet_ptr_studies.csv`` built from the source file's text."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise ValueError("gepnet_ptr_studies.csv: no rows")
    fields = [c for c in rows[0] if c != "registry_family"]
    at = fields.index("overlaps_with") + 1 if "overlaps_with" in fields else len(fields)
    fields = fields[:at] + ["registry_family"] + fields[at:]
    for r in rows:
        for c in INTEGER_COLUMNS:
            m = _WHOLE.match(r.get(c, "").strip())
            if m:
                r[c] = m.group(1)
        r["registry_family"] = registry_family(r)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m bayesnet.datasets.curate SOURCE_DATA_DIR", file=sys.stderr)
        return 2
    src, dst = Path(argv[0]), Path(__file__).resolve().parent / "data"
    name = "gepnet_ptr_studies.csv"
    (dst / name).write_text(curate_gepnet_ptr((src / name).read_text(encoding="utf-8")), encoding="utf-8")
    for f in COPIED:
        shutil.copyfile(src / f, dst / f)
        (dst / f).chmod(0o644)
    print(f"wrote {dst / name} and copied {', '.join(COPIED)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
