"""One validator for every input file a user writes: the analysis spec, the selections
(``datasets/selections/*.toml``), the sensitivity grids and the prior tables.

Every problem is worded the same way and all of them are collected in one pass:

    FILE: [section].key: found VALUE (TYPE); allowed: WHAT IS ALLOWED
    FILE: [section]: unknown key(s) a, b; allowed: x, y, z
    FILE: [section].key: 'v' is not allowed; allowed: p, q

``Problems(where=..., error=...)`` collects them; ``raise_if_any()`` raises one exception
(``SpecError`` by default) whose ``.problems`` lists them, each prefixed with the file.
"""

from __future__ import annotations

import math
import numbers

from .errors import SpecError

__all__ = ["SEED_ALLOWED", "SEED_MAX", "Problems", "check_seed", "is_int", "is_num", "is_seed", "is_str",
           "is_str_list", "loc"]

#: The largest random seed: the samplers take an unsigned 32-bit seed (0 to 2^32 - 1).
SEED_MAX = 2**32 - 1
SEED_ALLOWED = f"an integer from 0 to {SEED_MAX} (2^32 - 1), e.g. 20261122"


def is_num(x) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_int(x) -> bool:
    """An int (not a bool)."""
    return isinstance(x, int) and not isinstance(x, bool)


def is_seed(x) -> bool:
    """An integer (not a bool) from 0 to SEED_MAX = 2^32 - 1."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and 0 <= int(x) <= SEED_MAX


def check_seed(seed, where: str = "seed") -> int | None:
    """`seed` as an int (None stays None); a SpecError naming `where` when it is not an
    integer from 0 to 2^32 - 1 (a negative or larger seed is bad input, never an overflow
    inside the sampler)."""
    if seed is None:
        return None
    if not is_seed(seed):
        raise SpecError(f"{where}: found {seed!r} ({type(seed).__name__}); allowed: {SEED_ALLOWED}")
    return int(seed)


def is_str(x) -> bool:
    """A non-blank string."""
    return isinstance(x, str) and x.strip() != ""


def is_str_list(x) -> bool:
    """A list of strings."""
    return isinstance(x, list) and all(isinstance(v, str) for v in x)


def loc(section: str, key: str | None = None) -> str:
    """Where a value sits: "[section].key", "[section]", or "key" for top-level keys."""
    if not section:
        return key or ""
    head = f"[{section}]" if section.replace("_", "").isalnum() else section
    return f"{head}.{key}" if key else head


class Problems:
    """Collects every problem found in one pass. `where` (a file name, or "" for a dict)
    prefixes each message when raised; `error` is the exception class raised."""

    def __init__(self, where: str = "", error: type[Exception] = SpecError) -> None:
        self.where = where
        self.error = error
        self.items: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.items)

    def add(self, msg: str) -> None:
        self.items.append(msg)

    def check(self, section: str, key: str, value, ok, allowed: str) -> bool:
        """Record "[section].key: found VALUE (TYPE); allowed: ALLOWED" unless ok(value)."""
        try:
            good = bool(ok(value))
        except (TypeError, ValueError):
            good = False
        if not good:
            self.add(f"{loc(section, key)}: found {value!r} ({type(value).__name__}); allowed: {allowed}")
        return good

    def keys(self, section: str, d: dict, allowed, noun: str = "key(s)", shown: str | None = None) -> bool:
        """Record "[section]: unknown key(s) a, b; allowed: x, y" for keys of `d` not in
        `allowed` (`shown`: the allowed keys as listed, default sorted)."""
        unknown = set(d) - set(allowed)
        if unknown:
            head = f"{loc(section)}: " if section else ""
            self.add(f"{head}unknown {noun} {', '.join(sorted(map(str, unknown)))}; "
                     f"allowed: {shown or ', '.join(sorted(allowed))}")
        return not unknown

    def choice(self, section: str, key: str, value, allowed) -> bool:
        """Record "[section].key: 'v' is not allowed; allowed: p, q" unless value is in `allowed`."""
        try:
            ok = value in allowed
        except TypeError:
            ok = False
        if not ok:
            self.add(f"{loc(section, key)}: {value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")
        return ok

    def table(self, section: str, value, example: str) -> bool:
        """Record "[section]: found V (TYPE); allowed: a table ..." unless value is a dict."""
        if isinstance(value, dict):
            return True
        head = f"{loc(section)}: " if section else ""
        self.add(f"{head}found {value!r} ({type(value).__name__}); allowed: a table, e.g. {example}")
        return False

    def run(self, fn, *args):
        """Call a check that raises SpecError (or this collector's error); record its
        problems and go on. Returns the check's result, or None when it raised."""
        try:
            return fn(*args)
        except (SpecError, self.error) as exc:
            self.items.extend(getattr(exc, "problems", None) or [str(exc)])
            return None

    def messages(self) -> list[str]:
        """The problems, each prefixed with "FILE: " (once)."""
        if not self.where:
            return list(self.items)
        pre = f"{self.where}: "
        return [m if m.startswith(pre) else pre + m for m in self.items]

    def raise_if_any(self) -> None:
        """Raise one `error` listing every problem (`.problems` holds them)."""
        if not self.items:
            return
        msgs = self.messages()
        if self.error is SpecError or issubclass(self.error, SpecError):
            raise self.error(problems=msgs)
        exc = self.error((f"{len(msgs)} problem(s):\n" if len(msgs) > 1 else "") + "\n".join(msgs))
        exc.problems = msgs
        raise exc
