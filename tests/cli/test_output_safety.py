"""Never lose a user's files: what --out may replace, partial directories, concurrent runs."""

import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bayesnet.cli import main
from bayesnet.errors import OutputError
from bayesnet.io import MANIFEST, atomic_directory, output_lock, remove_stale_partials

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "models" / "ptr_random_effects.toml"
SRC = ROOT / "src"


def fit(out, *extra):
    return main(["fit", str(SPEC), "--engine", "exact", "--out", str(out), *map(str, extra)])


def leftovers(d: Path):
    return sorted(p.name for p in d.iterdir() if p.name.endswith((".partial", ".old", ".lock")))


def test_unrelated_directory_is_never_replaced(tmp_path, capsys):
    danger = tmp_path / "danger"
    danger.mkdir()
    (danger / "notes.txt").write_text("my notes")
    (danger / "studies.csv").write_text("my own studies")
    assert fit(danger) == 2
    err = capsys.readouterr().err
    assert f"{danger} exists and was not written by bayesnet; choose another --out or remove it" in err
    assert "Traceback" not in err
    assert sorted(p.name for p in danger.iterdir()) == ["notes.txt", "studies.csv"]
    assert (danger / "notes.txt").read_text() == "my notes"
    assert (danger / "studies.csv").read_text() == "my own studies"
    assert leftovers(tmp_path) == []


def test_bayesnet_output_is_replaced_and_has_a_manifest(tmp_path, capsys):
    out = tmp_path / "res"
    assert fit(out) == 0
    m = json.loads((out / MANIFEST).read_text())
    assert m["written_by"] == "bayesnet" and {"summary.json", "studies.csv"} <= set(m["files"])
    assert "version" in m
    (out / "summary.json").write_text("stale")
    assert fit(out) == 0                        # ours: replaced
    assert json.loads((out / "summary.json").read_text())["engine"] == "exact"
    (out / "notes.txt").write_text("added by the user")
    assert fit(out) == 2                        # a user file inside: refused, named
    assert "notes.txt" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "added by the user"
    assert leftovers(tmp_path) == []


def test_output_from_before_manifests_is_recognised(tmp_path):
    out = tmp_path / "old"
    (out / "figures").mkdir(parents=True)
    for f in ("summary.json", "studies.csv", "report.md", "report.html", "figures/forest.png"):
        (out / f).write_text("x")
    assert fit(out) == 0 and (out / MANIFEST).is_file() and not (out / "report.md").exists()


@pytest.mark.parametrize("where", [".", "..", "cwd_abs"])
def test_out_current_directory_or_parent_refused(tmp_path, monkeypatch, capsys, where):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "keep.txt").write_text("keep")
    monkeypatch.chdir(work)
    out = str(work) if where == "cwd_abs" else where
    assert fit(out) == 2
    err = capsys.readouterr().err
    assert "current directory" in err and "choose another --out" in err and "Traceback" not in err
    assert (work / "keep.txt").read_text() == "keep"
    assert leftovers(work) == [] and leftovers(work.parent) == [] and leftovers(tmp_path) == []


def test_out_root_home_and_project_root_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert fit("/") == 2
    assert "root directory" in capsys.readouterr().err
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert fit(home) == 2
    assert "home directory" in capsys.readouterr().err
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert fit(proj) == 2
    assert "project root" in capsys.readouterr().err
    assert (proj / "pyproject.toml").exists()


def test_out_the_input_csv_is_refused_and_left_a_file(tmp_path, capsys):
    f = tmp_path / "studies.csv"
    text = "study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\nB,0.7,0.5,0.98\nC,0.6,0.4,0.9\n"
    f.write_text(text)
    assert fit(f, "--data", f) == 2
    assert "is an existing file" in capsys.readouterr().err
    assert f.is_file() and f.read_text() == text
    assert leftovers(tmp_path) == []


def test_out_symlink_empty_and_under_a_file_refused(tmp_path, capsys):
    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    assert fit(link) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert link.is_symlink() and list(target.iterdir()) == []
    assert fit("") == 2
    assert "empty" in capsys.readouterr().err
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert fit(f / "sub") == 2
    assert f"{f} is a file" in capsys.readouterr().err
    assert f.read_text() == "x" and leftovers(tmp_path) == []


def test_disk_full_while_writing_exit_2_nothing_left(tmp_path, monkeypatch, capsys):
    import errno

    import bayesnet.api

    out = tmp_path / "res"
    assert fit(out) == 0
    before = (out / "summary.json").read_text()

    def full(post, d, summary):
        (Path(d) / "summary.json").write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bayesnet.api, "write_fit_outputs", full)
    assert fit(out) == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err
    assert (out / "summary.json").read_text() == before and leftovers(tmp_path) == []


# --- partial directories ------------------------------------------------------------------

SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from bayesnet.io import atomic_directory
    with atomic_directory(Path(sys.argv[1])) as tmp:
        (tmp / "posterior.nc").write_bytes(b"truncated")
        Path(sys.argv[2]).write_text("ready")
        time.sleep(60)
""")


def _wait_for(path: Path, proc, timeout=60):
    t0 = time.time()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() - t0 < timeout
        time.sleep(0.05)


def test_stale_partials_after_sigkill_are_removed_by_the_next_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(tmp_path / "res"), str(ready)], env=env)
    _wait_for(ready, proc)
    proc.kill()
    proc.wait()
    stale = [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    assert len(stale) == 1 and str(proc.pid) in stale[0].name
    # not ours (no marker) or a live process's: kept
    foreign = tmp_path / ".mine.123.abc.partial"
    foreign.mkdir()
    with atomic_directory(tmp_path / "other") as tmp:
        (tmp / "a.txt").write_text("a")
        live = [p for p in tmp_path.iterdir() if p.name.endswith(".partial") and p != foreign]
        assert live == [tmp]                    # the killed run's partial is gone, ours is there
    assert foreign.is_dir() and not stale[0].exists()
    assert remove_stale_partials(tmp_path) == []
    # the killed run's lock file does not block the next run into its directory
    with atomic_directory(tmp_path / "res") as tmp:
        (tmp / "a.txt").write_text("a")
    foreign.rmdir()
    assert leftovers(tmp_path) == [] and (tmp_path / "res" / "a.txt").exists()


def test_previous_results_moved_aside_by_a_killed_run_are_put_back(tmp_path):
    old = tmp_path / ".res.999999999.abcd1234.old"     # no such process
    old.mkdir()
    (old / "summary.json").write_text("{}")
    (old / MANIFEST).write_text(json.dumps({"written_by": "bayesnet", "version": "0", "files": ["summary.json"]}))
    remove_stale_partials(tmp_path)
    assert (tmp_path / "res" / "summary.json").read_text() == "{}" and not old.exists()


@pytest.mark.parametrize("sig,code,word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_signal_during_a_cli_run_leaves_no_partial(tmp_path, sig, code, word):
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        import bayesnet.api
        real = bayesnet.api.write_fit_outputs
        def slow(post, d, summary):
            real(post, d, summary)
            Path({str(tmp_path / 'ready')!r}).write_text("ready")
            time.sleep(60)
        bayesnet.api.write_fit_outputs = slow
        from bayesnet.cli import main
        sys.exit(main(["fit", {str(SPEC)!r}, "--engine", "exact", "--out", {str(tmp_path / 'res')!r}]))
    """)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for(tmp_path / "ready", proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert err.strip().splitlines()[-1] == word and "Traceback" not in err
    assert not (tmp_path / "res").exists()
    assert leftovers(tmp_path) == []


# --- concurrent writers -------------------------------------------------------------------

def _writer(out, ident, barrier, results):
    barrier.wait()
    try:
        with atomic_directory(out) as tmp:
            for name in ("a.txt", "b.txt", "c.txt"):
                (tmp / name).write_text(ident)
                time.sleep(0.001)
        results.put((ident, "ok"))
    except OutputError as exc:
        results.put((ident, str(exc)))
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        results.put((ident, f"UNEXPECTED {type(exc).__name__}: {exc}"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_concurrent_writers_never_interleave(tmp_path):
    ctx = mp.get_context("fork")
    trials, n = 25, 4
    for t in range(trials):
        out = tmp_path / "res"
        barrier, results = ctx.Barrier(n), ctx.Queue()
        procs = [ctx.Process(target=_writer, args=(out, f"w{t}-{i}", barrier, results)) for i in range(n)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        got = dict(results.get(timeout=10) for _ in range(n))
        for ident, r in got.items():
            assert r == "ok" or r.startswith(f"another bayesnet run is writing {out}"), (ident, r)
        assert any(r == "ok" for r in got.values())
        texts = {(out / f).read_text() for f in ("a.txt", "b.txt", "c.txt")}
        assert len(texts) == 1 and got[texts.pop()] == "ok"
        assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "a.txt", "b.txt", "c.txt"]
        assert leftovers(tmp_path) == []


def test_cli_second_run_into_the_same_out_fails_clearly(tmp_path, capsys):
    out = tmp_path / "res"
    holder = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from bayesnet.io import output_lock
        with output_lock(Path({str(out)!r})):
            Path({str(tmp_path / 'ready')!r}).write_text("ready")
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], env={**os.environ, "PYTHONPATH": str(SRC)})
    try:
        _wait_for(tmp_path / "ready", proc)
        assert fit(out) == 2
        assert f"another bayesnet run is writing {out}" in capsys.readouterr().err
        assert not out.exists()
    finally:
        proc.kill()
        proc.wait()


def test_output_lock_is_reentrant_and_removed(tmp_path):
    out = tmp_path / "res"
    with output_lock(out), atomic_directory(out) as tmp:
        (tmp / "x.txt").write_text("x")
    assert (out / "x.txt").read_text() == "x" and leftovers(tmp_path) == []
