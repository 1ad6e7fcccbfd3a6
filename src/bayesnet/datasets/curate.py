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
  registry), "NCDB" for NCDB rows, empty otherwise (see `registry_family`);
- a column ``indirectness`` is added last, from the bayesnet curators' table
  ``gepnet_ptr_indirectness.csv`` in this package's data folder (study, indirectness:
  "<PICO domain>: <reason>" or "none"; bayesnet.grade), keyed by the package's study id
  (``study_id``, with " [outcome]" and " #n" where it repeats, as `bayesnet.datasets`).

The other files are copied unchanged.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import sys
from pathlib import Path

__all__ = ["COPIED", "INDIRECTNESS_FILE", "curate_gepnet_ptr", "main", "read_indirectness", "registry_family", "unique_ids"]

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


INDIRECTNESS_FILE = "gepnet_ptr_indirectness.csv"


def unique_ids(rows: list[dict]) -> list[str]:
    """The package's study ids (as `bayesnet.datasets` loads them): ``study_id``, with
    " [outcome]" when the id repeats and " #n" when that still repeats."""
    ids = [r["study_id"] for r in rows]
    labels = [sid if ids.count(sid) == 1 else f"{sid} [{r['outcome']}]" for sid, r in zip(ids, rows)]
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        if labels.count(lab) > 1:
            seen[lab] = seen.get(lab, 0) + 1
            out.append(f"{lab} #{seen[lab]}")
        else:
            out.append(lab)
    return out


def read_indirectness(path: Path) -> dict[str, str]:
    """{study id: indirectness} from the curators' table (columns study, indirectness)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return {r["study"]: r["indirectness"] for r in csv.DictReader(fh)}


def curate_gepnet_ptr(text: str, indirectness: dict[str, str] | None = None) -> str:
    """The shipped ``gepnet_ptr_studies.csv`` built from the source file's text and the
    curated indirectness table (default: the shipped ``gepnet_ptr_indirectness.csv``);
    a study missing from that table is a ValueError (curate every row)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise ValueError("gepnet_ptr_studies.csv: no rows")
    if indirectness is None:
        indirectness = read_indirectness(Path(__file__).resolve().parent / "data" / INDIRECTNESS_FILE)
    fields = [c for c in rows[0] if c not in ("registry_family", "indirectness")]
    at = fields.index("overlaps_with") + 1 if "overlaps_with" in fields else len(fields)
    fields = fields[:at] + ["registry_family"] + fields[at:] + ["indirectness"]
    ids = unique_ids(rows)
    missing = [i for i in ids if i not in indirectness]
    if missing:
        raise ValueError(f"{INDIRECTNESS_FILE}: no indirectness for {', '.join(missing)}; curate every row")
    for r, sid in zip(rows, ids):
        r["indirectness"] = indirectness[sid]
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
