"""What every result records: data hash, the spec as read, seed, package versions."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ("bayesnet", "numpy", "scipy", "pandas", "xarray", "arviz", "pymc", "pytensor", "nutpie", "matplotlib")


@functools.cache
def _versions() -> tuple:
    out = [("python", sys.version.split()[0])]
    for p in PACKAGES:
        try:
            out.append((p, version(p)))
        except PackageNotFoundError:
            out.append((p, None))
    return tuple(out)


def package_versions() -> dict:
    """Python and package versions. The OS/kernel string is left out on purpose: it changes
    between machines of the same kind and would make committed results differ without any
    change of method (the versions that compute the numbers are all here). Read once per
    process (installed versions do not change under a running analysis)."""
    return dict(_versions())


def data_sha256(ev) -> str:
    """sha256 of the analysed evidence table (study, log_hr, se and covariates) as CSV."""
    return hashlib.sha256(ev.table.to_csv(index=False).encode()).hexdigest()


def created_timestamp() -> str:
    """UTC creation time, ISO 8601 to the second. When SOURCE_DATE_EPOCH is set (the
    reproducible-builds convention, https://reproducible-builds.org/specs/source-date-epoch/)
    that time is used instead of the clock, so rebuilt outputs are byte-identical."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        try:
            ts = int(raw)
        except ValueError:
            from .errors import SpecError

            raise SpecError(f"SOURCE_DATE_EPOCH={raw!r} is not an integer number of seconds since 1970-01-01 UTC; "
                            f"set it to e.g. $(git log -1 --format=%ct) or unset it") from None
        return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
    return datetime.now(UTC).isoformat(timespec="seconds")


def portable_path(p) -> str | None:
    """A path as written into outputs: relative to the current directory when it lies
    under it, else just the file name (no developer's home directory in summary.json)."""
    if p is None:
        return None
    p = Path(p)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.name


def portable_text(text):
    """`text` with any absolute path of the current directory made relative to it."""
    if not isinstance(text, str):
        return text
    if os.path.isabs(text):
        return portable_path(text)
    cwd = str(Path.cwd().resolve())
    return text.replace(cwd + os.sep, "").replace(cwd, ".")


def provenance(post) -> dict:
    ev, spec = post.evidence, post.spec
    src = {}
    if ev is not None:
        src = {"source": portable_text(ev.source), "data_sha256": data_sha256(ev)}
        raw = getattr(post, "input_sha256", None)
        if raw:
            src["input_file_sha256"] = raw
    return {**src, "spec": spec.raw, "spec_path": portable_path(spec.path) if spec.path else None,
            "seed": post.seed, "engine": post.engine, "versions": package_versions(),
            "created": created_timestamp()}
