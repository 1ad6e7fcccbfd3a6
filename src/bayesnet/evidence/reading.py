"""Read an evidence CSV file as text, safely, with every problem named.

`read_table` is what `derive` and `load_evidence` use for a path. The rules:

- Only a regular file is read (a directory, ``/dev/zero``, a FIFO or a socket is an
  error), and only up to `MAX_BYTES` (50 MB), checked before reading.
- Encoding: UTF-8, with or without a byte-order mark (BOM); UTF-16 and UTF-32 with a BOM
  are read too. Anything else (e.g. Latin-1 / Windows-1252 from Excel's plain "CSV") is an
  error naming the line of the first bad bytes, with the fix "save the file as UTF-8".
- Delimiter: the header line is sniffed for ``,``, ``;`` and tab; the one giving the
  most fields wins (a tie goes to ``,``). A file separated by ``;`` or tabs is read and a
  warning says so. In a ``;``-separated file, decimal commas in numeric columns
  (``0,45``, ``<0,001``) are read as decimal points, with one warning per column; in a
  ``,``-separated file a (quoted) decimal comma is an error from `derive`.
- Structure: an empty file, a header with no data rows, a row with more or fewer fields
  than the header (extra fields that are all empty are tolerated: spreadsheets add them),
  an unclosed quote, a duplicated column name, and a column with data but no name are
  errors naming the line.
- Rows: a *row* is a data record of the file, counted from 1 after the header (row N is
  spreadsheet row N + 1); blank records are skipped but counted, so row numbers match the
  file. A *line* is a physical line of the file (a quoted field may span lines). Every
  cell is kept as text, so ids such as ``007`` and reported decimals survive; the row
  number is kept in the column ``_row``.

Every problem is a `Problem` naming the file; errors are raised together as one
`EvidenceError`, warnings are returned with the table.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import stat
from pathlib import Path

import pandas as pd

from ..errors import EvidenceError
from .table import Problem

__all__ = ["MAX_BYTES", "ROW_COLUMN", "read_table"]

#: The largest evidence file read, in bytes (50 MB: about 500,000 study rows).
MAX_BYTES = 50 * 1024 * 1024
#: The column holding each row's 1-based data-row number in the file.
ROW_COLUMN = "_row"
#: The effect columns read as numbers (re-exported by `bayesnet.evidence.validation`).
NUMERIC_COLUMNS = (
    "hr", "ci_low", "ci_high", "ci_level", "log_hr", "se", "o_minus_e", "v",
    "surv_treated", "surv_control", "n_treated", "n_control", "n_total",
    "median_treated", "median_control", "events_treated", "events_control",
)

_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
_DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
_DECIMAL_COMMA = re.compile(r"^(\s*(?:[<>=≤]|<=)?\s*[+\-\u2212]?\d*),(\d+\s*)$")
_SAVE_UTF8 = ("save the file as UTF-8 (in Excel: File > Save As > 'CSV UTF-8 (Comma delimited)'; "
              "in LibreOffice: character set 'Unicode (UTF-8)')")


def _problem(level, source, row, column, message, fix):
    return Problem(level, source, row, None, column, message, fix)


def _read_bytes(path: Path, source: str) -> bytes:
    def fail(message, fix):
        raise EvidenceError([_problem("error", source, None, None, message, fix)])

    try:
        st = os.stat(path)
    except FileNotFoundError:
        fail("the evidence file does not exist", "check the path (a relative [data] path is relative to the spec file)")
    except OSError as exc:
        fail(f"the evidence file cannot be opened ({exc.strerror or exc})", "check the path and its permissions")
    if stat.S_ISDIR(st.st_mode):
        fail("this is a directory, not a CSV file", "give the path of the CSV file itself")
    if not stat.S_ISREG(st.st_mode):
        fail("this is not a regular file (a device, pipe or socket)", "save the table to an ordinary CSV file")
    if st.st_size > MAX_BYTES:
        fail(f"the file is {st.st_size / 2**20:.1f} MB, above the {MAX_BYTES // 2**20} MB limit for an evidence table",
             "give a CSV of study rows (one row per study estimate); split or trim the file")
    try:
        with open(path, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):  # replaced since the check
                fail("this is not a regular file", "save the table to an ordinary CSV file")
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        fail(f"the evidence file cannot be read ({exc.strerror or exc})", "check the file and its permissions")
    if len(data) > MAX_BYTES:
        fail(f"the file is larger than the {MAX_BYTES // 2**20} MB limit for an evidence table",
             "give a CSV of study rows; split or trim the file")
    return data


def _decode(data: bytes, source: str) -> str:
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise EvidenceError([_problem(
                    "error", source, None, None,
                    f"the file starts with a {name} byte-order mark but is not valid {name} "
                    f"(bad bytes at byte {exc.start + len(bom)})", _SAVE_UTF8)]) from None
    if data.count(b"\x00") > len(data) // 4 and len(data) >= 4:
        raise EvidenceError([_problem("error", source, None, None,
                                      "the file looks like UTF-16 without a byte-order mark (or is not a text file)",
                                      _SAVE_UTF8)])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    bad_lines, first = [], None
    for no, line in enumerate(data.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            if first is None:
                first = (no, line[exc.start:exc.start + 1])
            bad_lines.append(no)
    shown = ", ".join(map(str, bad_lines[:5])) + (f" and {len(bad_lines) - 5} more" if len(bad_lines) > 5 else "")
    no, byte = first
    try:
        hint = f"; '{data.split(b'\n')[no - 1].decode('cp1252').strip()[:60]}' read as Windows-1252/Latin-1"
    except UnicodeDecodeError:
        hint = ""
    raise EvidenceError([_problem(
        "error", source, None, None,
        f"the file is not valid UTF-8: byte 0x{byte.hex()} on line {no} (lines with invalid bytes: {shown}); it is "
        f"probably Latin-1 / Windows-1252{hint}", _SAVE_UTF8)])


def _sniff(header: str) -> str:
    best, best_n = ",", 0
    for d in (",", ";", "\t"):
        try:
            n = len(next(csv.reader([header], delimiter=d)))
        except (csv.Error, StopIteration):
            continue
        if n > best_n:
            best, best_n = d, n
    return best


def header_columns(path) -> set[str] | None:
    """The lower-cased column names of a CSV file's header line, from a bounded read (the
    first 64 KiB; `,`, `;` or tab, whichever the line holds most), or None when the path is
    not a readable regular file. For telling the kind of evidence a file holds before it is
    read in full by `read_table`."""
    p = Path(path)
    try:
        if not p.is_file():
            return None
        with p.open("rb") as fh:
            head = fh.read(65536).decode("utf-8-sig", errors="replace").splitlines()[:1]
    except OSError:
        return None
    if not head:
        return set()
    sep = max((",", ";", "\t"), key=head[0].count)
    return {c.strip().strip('"').lower() for c in head[0].split(sep)}


def read_table(path: str | Path, source: str | None = None) -> tuple[pd.DataFrame, list]:
    """Read an evidence CSV as text. Returns (table, warnings): every cell a string
    (missing cells are ""), the columns named as in the header (stripped of surrounding
    whitespace), plus ``_row``, the 1-based data row of the file. Raises `EvidenceError`
    with every problem found (each naming the file and the line or row)."""
    path = Path(path)
    source = source or str(path)
    text = _decode(_read_bytes(path, source), source)
    if not text.strip():
        raise EvidenceError([_problem("error", source, None, None, "the file is empty",
                                      "add a header line (e.g. study,hr,ci_low,ci_high) and one line per study")])
    header_line = next(ln for ln in text.splitlines() if ln.strip())
    delim = _sniff(header_line)
    warnings, errors = [], []
    if delim != ",":
        warnings.append(_problem("warning", source, None, None,
                                 f"the file is separated by {_DELIMITERS[delim]}, not commas; it was read that way",
                                 "nothing to do if the columns below are right; otherwise save the file as CSV "
                                 "with commas"))

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    records = []  # (first line, last line, fields)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            msg = str(exc)
            if "end of data" in msg or "EOF" in msg:
                errors.append(_problem("error", source, None, None,
                                       f"a quote (\") opened on line {start} is never closed",
                                       "close the quote, or remove it (a field with a comma needs quotes on both "
                                       "sides)"))
            else:
                errors.append(_problem("error", source, None, None, f"line {reader.line_num} cannot be parsed ({msg})",
                                       "a quoted field must be quoted as a whole, e.g. \"Smith, 2019\"; check "
                                       "the quotes on this line"))
            raise EvidenceError(errors) from None
        records.append((start, reader.line_num, fields))
    while records and not any(f.strip() for f in records[0][2]):
        records.pop(0)  # leading blank lines before the header
    header_rec, data_recs = records[0], records[1:]
    names = [c.strip() for c in header_rec[2]]
    if header_rec[2] and header_rec[2][0].startswith("\ufeff"):  # a second BOM, e.g. after an editor round trip
        names[0] = names[0].lstrip("\ufeff").strip()

    width = len(names)
    rows, row_numbers = [], []
    for n, (first, last, fields) in enumerate(data_recs, 1):
        lines = f"line {first}" if first == last else f"lines {first}-{last}"
        if not any(f.strip() for f in fields):
            continue  # a blank record: counted, not read
        if len(fields) > width and not any(f.strip() for f in fields[width:]):
            fields = fields[:width]
        if len(fields) != width:
            errors.append(_problem("error", source, n, None,
                                   f"{lines} (row {n}) has {len(fields)} field(s) but the header has {width}",
                                   f"give every line {width} fields separated by '{delim}'; a value containing "
                                   f"'{delim}' must be quoted"))
            continue
        rows.append(fields)
        row_numbers.append(n)

    named = [i for i, c in enumerate(names) if c]
    for i, c in enumerate(names):
        if not c and any(r[i].strip() for r in rows):
            errors.append(_problem("error", source, None, None,
                                   f"column {i + 1} has values but no name in the header (line {header_rec[0]})",
                                   "give the column a name in the header, or delete it"))
    seen: dict[str, int] = {}
    for i in named:
        if names[i] in seen:
            errors.append(_problem("error", source, None, names[i],
                                   f"the column name '{names[i]}' appears twice in the header (columns "
                                   f"{seen[names[i]] + 1} and {i + 1})",
                                   "rename or delete one of the two columns"))
        else:
            seen[names[i]] = i
    if ROW_COLUMN in seen:
        errors.append(_problem("error", source, None, ROW_COLUMN,
                               f"the column name '{ROW_COLUMN}' is reserved (bayesnet keeps each row's number in it)",
                               "rename the column"))
    if not errors and not rows:
        errors.append(_problem("error", source, None, None, "the file has a header but no data rows",
                               "add one line per study estimate below the header"))
    if errors:
        raise EvidenceError(errors + warnings)

    df = pd.DataFrame([[r[i] for i in named] for r in rows], columns=[names[i] for i in named], dtype=object)
    if delim == ";":

        for c in df.columns:
            if c.strip().lower().replace(" ", "_") not in (*NUMERIC_COLUMNS, "p_value"):
                continue
            hits = df[c].map(lambda s: bool(_DECIMAL_COMMA.match(s)))
            if hits.any():
                example = df.loc[hits, c].iloc[0]
                df.loc[hits, c] = df.loc[hits, c].map(lambda s: _DECIMAL_COMMA.sub(r"\1.\2", s))
                warnings.append(_problem("warning", source, None, c,
                                         f"{int(hits.sum())} value(s) with a decimal comma read as decimals "
                                         f"('{example.strip()}' as '{_DECIMAL_COMMA.sub(r'\1.\2', example).strip()}')",
                                         "nothing to do if these are decimals; a thousands separator must be removed"))
    df[ROW_COLUMN] = row_numbers
    return df, warnings
