"""Safe output: a run never loses a user's files and never leaves half-written results.

* :func:`check_output_dir` refuses an output directory that is not ours to replace: the
  current directory or a parent of it, ``/``, the home directory, a project root (a
  directory holding ``.git`` or ``pyproject.toml``), an existing file, a symlink, an empty
  path, a path under a file, and an existing directory that bayesnet did not write.
* :func:`atomic_directory` writes into a private ``.partial`` directory beside the target
  and swaps it into place whole, with a manifest (``.bayesnet-manifest.json``) naming the
  files written, under an exclusive lock (``.NAME.lock`` beside the target), so that two
  runs into the same directory never interleave. Any failure, including Ctrl-C and SIGTERM
  (the CLI turns SIGTERM into an exception), removes the partial directory; partial
  directories left by a killed run (SIGKILL) are removed by the next run into the same
  parent directory once their process is gone.
* :func:`write_text_atomic` writes one file by rename.
* :func:`stored` rounds every number bayesnet stores (summary.json, the CSVs, posterior.nc)
  to ``STORED_DIGITS`` significant digits, in this one place: :func:`csv_text` /
  :func:`write_csv` write tables and ``api.to_json`` writes JSON through it, so regenerating
  an output writes identical bytes even where the last bits of a computation differ.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from pathlib import Path

from .errors import OutputError

MANIFEST = ".bayesnet-manifest.json"

# Significant digits of every stored number. Ten is far beyond what any reported number
# needs (the reports print 2-4) and far above the exact engine's quadrature accuracy
# (~1e-6 relative), and well below double precision (15-17 digits), so last-bit
# differences between runs (another CPU, BLAS or summation order) do not reach the files.
STORED_DIGITS = 10
PARTIAL_MARK = ".bayesnet-partial"

# Outputs written before the manifest existed (bayesnet <= 0.x): a directory whose entries
# are all of these names (and figures/ holds only figures) and that holds one of the
# anchors is recognised as ours.
_LEGACY_NAMES = {"summary.json", "studies.csv", "posterior.nc", "report.html", "report.md", "sweep.csv",
                 "influence.csv", "psense.csv", "overlap.csv", "arms.csv", "sweep.png", "sweep.svg",
                 "influence.png", "influence.svg", "figures"}
_LEGACY_ANCHORS = {"summary.json", "sweep.csv", "report.html"}

# Set by the CLI's SIGINT/SIGTERM handler. A library that swallows KeyboardInterrupt
# (nutpie returns the draws so far) cannot make us commit a half-run: atomic_directory
# checks this before the final swap.
INTERRUPTED = threading.Event()


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt when the user interrupted the run (even if a library
    caught the original KeyboardInterrupt)."""
    if INTERRUPTED.is_set():
        raise KeyboardInterrupt


def _version() -> str:
    from . import __version__

    return __version__


# ---------------------------------------------------------------------------------------
# Where an output may go
# ---------------------------------------------------------------------------------------

def _is_project_root(p: Path) -> bool:
    return (p / ".git").exists() or (p / "pyproject.toml").exists()


def _entries(d: Path) -> list[str]:
    """Relative paths (POSIX) of every file and directory under `d`, sorted."""
    out = []
    for root, dirs, files in os.walk(d):
        rel = Path(root).relative_to(d)
        for name in dirs + files:
            out.append((rel / name).as_posix())
    return sorted(out)


def written_by_bayesnet(d: Path) -> tuple[bool, str]:
    """(True, "") when directory `d` is empty or holds only what bayesnet wrote there
    (the files its manifest lists, or an output from before manifests); otherwise
    (False, why)."""
    names = os.listdir(d)
    if not names:
        return True, ""
    mf = d / MANIFEST
    if mf.is_file() and not mf.is_symlink():
        try:
            manifest = json.loads(mf.read_text(encoding="utf-8"))
            listed = set(manifest["files"])
        except (OSError, ValueError, KeyError, TypeError):
            return False, f"its {MANIFEST} is unreadable"
        extra = [e for e in _entries(d) if e != MANIFEST and e not in listed
                 and not any(f.startswith(e + "/") for f in listed)]
        if extra:
            shown = ", ".join(extra[:5]) + (" ..." if len(extra) > 5 else "")
            return False, f"it holds files bayesnet did not write ({shown})"
        return True, ""
    top = set(names)
    figs = d / "figures"
    legacy = (top <= _LEGACY_NAMES and top & _LEGACY_ANCHORS
              and all((d / n).is_file() and not (d / n).is_symlink() for n in top - {"figures"})
              and (not figs.exists() or (figs.is_dir() and not figs.is_symlink() and all(
                  f.suffix in (".png", ".svg") and f.is_file() for f in figs.iterdir()))))
    if legacy:
        return True, ""
    return False, ""


def check_output_dir(out, *, contents: bool = True) -> Path:
    """Return `out` as a Path when bayesnet may write an output directory there (replacing
    what it wrote before); raise OutputError naming the path and the fix otherwise.

    With ``contents=False`` only the path itself is checked (not a link, a file, the
    root, home, the current directory or a project root), not what an existing directory
    holds: that part is only reliable under :func:`output_lock`, because another run may
    be replacing the directory at the same moment."""
    if out is None or str(out).strip() == "":
        raise OutputError("the output directory is empty (--out \"\"): give a directory name, e.g. --out results/run1")
    out = Path(out)
    choose = "choose another --out"
    try:
        st = os.lstat(out)
    except (FileNotFoundError, NotADirectoryError):   # absent, or under a file (below)
        st = None
    except OSError as exc:
        raise _as_output_error(exc, out) from exc
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise OutputError(f"{out} is a symbolic link; bayesnet does not replace links: {choose}")
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{out} is an existing file, not a directory; bayesnet will not replace it: {choose}")
    # the nearest existing ancestor must be a directory (not "a/file.csv/sub")
    anc = out.parent
    while not anc.exists() and anc != anc.parent and not anc.is_symlink():
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise OutputError(f"cannot create {out}: {anc} is a file, not a directory: {choose}")
    res = out.resolve()
    cwd = Path.cwd().resolve()
    home = Path.home().resolve()
    if res == Path(res.anchor) or res == home or res in home.parents:
        raise OutputError(f"{out} is {'the root directory' if res == Path(res.anchor) else 'your home directory'}"
                          f"{'' if res in (home, Path(res.anchor)) else ' or a parent of it'}: {choose} "
                          "(a new subdirectory, e.g. --out results/run1)")
    if res == cwd or res in cwd.parents:
        what = "the current directory" if res == cwd else "a parent of the current directory"
        raise OutputError(f"{out} is {what}; bayesnet replaces its output directory whole: {choose} "
                          "(a new subdirectory, e.g. --out results/run1)")
    if res.is_dir():
        if _is_project_root(res):
            raise OutputError(f"{out} is a project root (it holds .git or pyproject.toml): {choose}")
        if not contents:
            return out
        ok, why = written_by_bayesnet(res)
        if not ok:
            raise OutputError(f"{out} exists and was not written by bayesnet{' (' + why + ')' if why else ''}; "
                              "choose another --out or remove it")
    return out


# ---------------------------------------------------------------------------------------
# One writer at a time
# ---------------------------------------------------------------------------------------

_held: dict[str, list] = {}       # lock path -> [thread id, count, fd]
_held_guard = threading.Lock()


def lock_path(out: Path) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.lock"


@contextlib.contextmanager
def output_lock(out):
    """Hold the exclusive lock of output directory `out` (a file ``.NAME.lock`` beside it,
    locked with fcntl.flock and removed on release). Re-entrant in one thread; a second
    holder (another process or thread) gets OutputError at once."""
    import fcntl

    out = Path(out)
    lp = lock_path(out)
    key = str(lp.resolve()) if lp.parent.exists() else str(lp.absolute())
    me = threading.get_ident()
    with _held_guard:
        h = _held.get(key)
        if h is not None and h[0] == me:
            h[1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    busy = OutputError(f"another bayesnet run is writing {out}; wait for it to finish or choose another --out")
    if _held.get(key) is not None:
        raise busy
    lp.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lp, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise busy from None
        # the previous holder may have removed the file between our open and lock
        try:
            same = os.fstat(fd).st_ino == os.stat(lp).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    with _held_guard:
        _held[key] = [me, 1, fd]
    try:
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with _held_guard:
            del _held[key]
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lp)
        os.close(fd)


# ---------------------------------------------------------------------------------------
# Stale partials
# ---------------------------------------------------------------------------------------

_PARTIAL_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.(?P<kind>partial|old)$")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_partials(parent: Path) -> list[Path]:
    """Remove the ``.NAME.PID.XXXX.partial`` (and ``.old``) directories that bayesnet left
    in `parent` when its process was killed (the process PID is gone). A stale ``.old``
    whose target no longer exists is put back (the previous results). Returns what was
    removed."""
    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for n in names:
        m = _PARTIAL_RE.match(n)
        if not m:
            continue
        p = Path(parent) / n
        if p.is_symlink() or not p.is_dir():
            continue
        if m["kind"] == "partial" and not (p / PARTIAL_MARK).is_file():
            continue
        if m["kind"] == "old" and not written_by_bayesnet(p)[0]:
            continue
        if _pid_alive(int(m["pid"])):
            continue
        target = Path(parent) / m["name"]
        if m["kind"] == "old" and not target.exists() and not target.is_symlink():
            with contextlib.suppress(OSError):
                os.rename(p, target)
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------

def _as_output_error(exc: OSError, out: Path) -> OutputError:
    why = exc.strerror or str(exc)
    hint = " (the disk is full)" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    err = OutputError(f"could not write {out}: {why}{hint}; nothing was written and any previous "
                      f"results in {out} are unchanged")
    err.__cause__ = exc
    return err


def _round_float(x: float) -> float:
    return float(f"{x:.{STORED_DIGITS}g}") if math.isfinite(x) else x


def stored(obj):
    """`obj` with every float rounded to STORED_DIGITS significant digits (the nearest
    double to the rounded decimal): Python and numpy floats, float arrays (and xarray
    objects) elementwise, the float columns of a DataFrame, and recursively the values of
    dicts, lists and tuples. Integers, booleans, strings and non-finite values are
    unchanged. Returns a new object; `obj` is not modified."""
    import numpy as np

    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, (float, np.floating)):
        return _round_float(float(obj))
    if isinstance(obj, dict):
        return {k: stored(v) for k, v in obj.items()}
    if isinstance(obj, list) or type(obj) is tuple:
        return type(obj)(stored(v) for v in obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind != "f":
            return obj
        flat = np.fromiter((_round_float(v) for v in obj.ravel().tolist()), dtype=obj.dtype, count=obj.size)
        return flat.reshape(obj.shape)
    import pandas as pd

    if isinstance(obj, pd.DataFrame):
        out = obj.copy()
        for col in out.columns:
            c = out[col]
            if c.dtype.kind == "f":
                out[col] = stored(c.to_numpy())
            elif c.dtype == object:
                out[col] = [stored(v) if isinstance(v, (float, np.floating)) else v for v in c]
        return out
    import xarray as xr

    if isinstance(obj, xr.Dataset):
        out = obj.copy()
        for name, var in obj.data_vars.items():
            out[name] = var.copy(data=stored(var.values))
        return out
    if isinstance(obj, xr.DataTree):                                   # an ArviZ posterior
        return obj.map_over_datasets(stored)
    return obj


def csv_text(frame) -> str:
    """A table as CSV text (no index), its numbers rounded by :func:`stored`."""
    return stored(frame).to_csv(index=False)


def write_csv(frame, path: str | Path) -> None:
    """Write a table to `path` as CSV (no index), its numbers rounded by :func:`stored`."""
    Path(path).write_text(csv_text(frame), encoding="utf-8")


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it into place; an
    OSError (a full disk, no permission) becomes OutputError and leaves `path` as it was."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _as_output_error(exc, path) from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _as_output_error(exc, path) from exc
        raise


def write_manifest(d: Path) -> None:
    """Write ``.bayesnet-manifest.json`` into `d`: every file and directory in it and the
    bayesnet version (no timestamp, so that regenerating an unchanged output leaves it
    unchanged)."""
    files = [e for e in _entries(d) if e not in (MANIFEST, PARTIAL_MARK)]
    text = json.dumps({"written_by": "bayesnet", "version": _version(), "files": files}, indent=1) + "\n"
    (d / MANIFEST).write_text(text, encoding="utf-8")


@contextlib.contextmanager
def _signals_deferred():
    """Defer SIGINT/SIGTERM while the target is swapped (two renames)."""
    sigs = {signal.SIGINT, signal.SIGTERM}
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def atomic_directory(out: str | Path):
    """Yield a private temporary directory beside `out`; on success it replaces `out`
    whole (with a manifest of the files written), on any failure it is removed and `out`
    is left as it was.

    Refuses (OutputError) an `out` that :func:`check_output_dir` refuses, or that another
    run is writing; an OSError while writing (e.g. a full disk) becomes OutputError."""
    out = check_output_dir(out, contents=False)
    with output_lock(out):
        check_output_dir(out)               # what it holds: only reliable under the lock
        parent = out.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _as_output_error(exc, out) from exc
        remove_stale_partials(parent)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}.", suffix=".partial", dir=parent))
        except OSError as exc:
            raise _as_output_error(exc, out) from exc
        try:
            (tmp / PARTIAL_MARK).write_text(f"{os.getpid()}\n")
            os.chmod(tmp, 0o755)
            yield tmp
            raise_if_interrupted()
            os.unlink(tmp / PARTIAL_MARK)
            write_manifest(tmp)
            check_output_dir(out)           # still ours (under the lock)
            with _signals_deferred():
                _swap(tmp, out)
        except OutputError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise _as_output_error(exc, out) from exc
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _swap(tmp: Path, out: Path) -> None:
    """Put directory `tmp` at `out`, replacing a previous `out` (moved aside, restored on
    failure, then removed)."""
    import secrets

    old = None
    if out.exists():
        old = out.parent / f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.old"
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
