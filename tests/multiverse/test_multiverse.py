"""The multiverse (bayesnet.multiverse_analysis): grid checks, one fit per setting equal to
the one-axis sweep and to direct fits, failures recorded, shares over equivalent choices
only, the ANOVA against a hand-built balanced design, part files, resume and Dask."""

from __future__ import annotations

import copy
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesnet.api import evidence_for, fit, load_spec
from bayesnet.errors import SpecError
from bayesnet.format import prob_key
from bayesnet.multiverse_analysis import (
    AXES,
    influence_anova,
    multiverse,
    multiverse_columns,
    parse_grid,
    read_grid,
    run_to_directory,
    setting_id,
    settings_of,
)
from bayesnet.priors import parse_prior
from bayesnet.sensitivity import row_from_posterior, sweep
from tests.conftest import TOL

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "data": {"dataset": "gepnet_ptr", "select": "primary"},
    "model": {"effects": "random"},
    "priors": {"mu": {"dist": "normal", "mu": 0.0, "sigma": 1.0}, "tau": {"dist": "half_normal", "sigma": 0.5}},
    "bias": {"common": {"mu": -0.18, "sigma": 0.12}, "by": {"data_source": {"single_center": {"mu": -0.1, "sigma": 0.2}}}},
    "report": {"thresholds": [1.0, 0.8]},
}
TAUS = [{"dist": "half_normal", "sigma": 0.25}, {"dist": "half_normal", "sigma": 1.0},
        {"dist": "half_cauchy", "scale": 0.5}]
MUS = [{"dist": "normal", "mu": 0.0, "sigma": 1.0}, {"dist": "flat"}]
NUMBERS = ["hr_median", "hr_low", "hr_high", "pred_hr_low", "pred_hr_high", "tau_median",
           "p_hr_lt_1", "p_hr_lt_0.8", "p_pred_hr_lt_1", "p_pred_hr_lt_0.8"]


@pytest.fixture(scope="module")
def spec():
    return load_spec(copy.deepcopy(BASE))


def small_grid(n_priors: int = 2) -> dict:
    return {"multiverse": {
        "selection": [{"label": "primary"}, {"label": "largest", "keep_overlap": "largest"},
                      {"label": "SEER only", "class": "uncertain", "family": "SEER"}],
        "model": [{"label": "random"}, {"label": "fixed", "class": "non-equivalent", "effects": "fixed"}],
        "priors": [{"label": f"tau {i}", "tau": t} for i, t in enumerate(TAUS[:n_priors])],
        "bias": [{"label": "none", "class": "uncertain"}, {"label": "shipped", **BASE["bias"]}],
    }}


# ---------------------------------------------------------------------------------------- grid


def test_grid_problems_are_all_reported_in_one_pass_naming_axis_and_entry(spec):
    g = small_grid()
    mv = g["multiverse"]
    mv["model"].append({"label": "bad", "effects": "mixed", "random_dist": "cauchy"})
    mv["priors"].append({"label": "tau 0", "tau": {"dist": "half_normal", "sigma": -1}})
    mv["selection"].append({"label": "x", "keep_overlap": "smallest", "colour": "red"})
    mv["bias"].append({"label": "b", "class": "maybe", "common": {"mu": "a", "sigma": 0.1}})
    mv["exclude"] = [{"model": "nope"}, {"axis": "x"}]
    with pytest.raises(SpecError) as e:
        parse_grid(g, spec)
    msgs = e.value.problems
    text = "\n".join(msgs)
    for frag in ("[[multiverse.model]] #3 'bad': [model].effects: 'mixed' is not allowed",
                 "[[multiverse.model]] #3 'bad': [model].random_dist: 'cauchy' is not allowed",
                 "[[multiverse.priors]] #3 'tau 0': label 'tau 0' is used twice",
                 "[[multiverse.priors]] #3 'tau 0': [priors].tau",
                 "[[multiverse.selection]] #4 'x': unknown key(s) colour",
                 "[[multiverse.selection]] #4 'x': [data].keep_overlap: 'smallest' is not allowed",
                 "[[multiverse.bias]] #3 'b': class: 'maybe' is not allowed",
                 "[[multiverse.bias]] #3 'b': [bias].common.mu",
                 "[multiverse].exclude #1: model = 'nope' is not a label",
                 "[multiverse].exclude #2: unknown axis 'axis'"):
        assert frag in text, (frag, msgs)
    assert len(msgs) >= 10


def test_absent_axis_keeps_the_spec_section_and_exclude_drops_combinations(spec):
    g = {"multiverse": {"priors": [{"label": "a", "tau": TAUS[0]}, {"label": "b", "tau": TAUS[1]}],
                        "model": [{"label": "random"}, {"label": "fixed", "effects": "fixed"}],
                        "exclude": [{"model": "fixed", "priors": ["b"]}]}}
    grid = parse_grid(g, spec)
    assert [c.label for c in grid.axes["selection"]] == ["(spec)"]
    assert grid.axes["selection"][0].section == spec.data and grid.axes["bias"][0].section == spec.bias
    combos = [(s["model"].label, s["priors"].label) for s in settings_of(grid)]
    assert combos == [("random", "a"), ("random", "b"), ("fixed", "a")]
    assert grid.thresholds == (1.0, 0.8)


def test_shipped_grid_has_at_least_1000_settings():
    spec = load_spec(ROOT / "models" / "ptr_bias_adjusted.toml")
    grid = read_grid(ROOT / "models" / "ptr_multiverse.toml", spec)
    assert len(settings_of(grid)) >= 1000
    assert all(len(grid.axes[a]) >= 2 for a in AXES)


def test_setting_ids_are_stable_and_depend_only_on_labels():
    a = setting_id({"selection": "s", "model": "m", "priors": "p", "bias": "b"})
    assert a == setting_id(("s", "m", "p", "b")) and len(a) == 12
    assert a != setting_id(("s", "m", "p", "b2"))


# ---------------------------------------------------------------------------------------- numbers


def test_one_axis_multiverse_equals_sweep(spec):
    """The priors axis alone (tau x mu crossed into entries, in the sweep's order) gives the
    sweep's numbers row for row."""
    grid = {"multiverse": {"priors": [{"label": f"{i}-{j}", "tau": t, "mu": m}
                                      for i, t in enumerate(TAUS) for j, m in enumerate(MUS)]}}
    res = multiverse(spec, grid)
    sw = sweep(spec, grid={"tau": [parse_prior(t, "tau", "scale") for t in TAUS],
                           "mu": [parse_prior(m, "mu", "effect") for m in MUS]})
    df = res.table
    assert list(df.columns) == multiverse_columns([1.0, 0.8])
    assert (df["status"] == "ok").all() and len(df) == len(sw) == 6
    for c in NUMBERS:
        np.testing.assert_allclose(df[c].to_numpy(), sw[c].to_numpy(), rtol=TOL["float"], atol=TOL["float"], err_msg=c)
    np.testing.assert_allclose(np.exp(df["log_hr_median"]), df["hr_median"], rtol=TOL["float"])
    assert (df["k"] == sw["k"]).all()


def test_settings_equal_direct_fits_of_the_patched_spec(spec):
    """A setting's row is the fit of the base spec with its sections replaced, as a user would
    write it: checked for a selection (keep_overlap), a fixed-effect model and no bias."""
    res = multiverse(spec, small_grid(1))
    row = res.table.set_index(list(AXES)).loc[("largest", "fixed", "tau 0", "none")]
    raw = copy.deepcopy(BASE)
    raw.pop("bias")
    raw["data"]["keep_overlap"] = "largest"
    raw["model"]["effects"] = "fixed"
    raw["priors"]["tau"] = TAUS[0]
    post = fit(raw, frequentist=False)
    want = row_from_posterior(post)
    for c in NUMBERS:
        assert row[c] == pytest.approx(want[c], rel=TOL["float"], abs=TOL["float"]), c
    assert row["k"] == post.k


def test_bias_level_no_study_has_is_a_no_op(spec):
    """A [bias.by] level absent from the selection is dropped in that setting (not an error):
    with SEER only + institutional rows the single-centre bias stays; a case-series bias
    (no case series here) changes nothing."""
    g = {"multiverse": {"bias": [
        {"label": "common", "common": {"mu": -0.18, "sigma": 0.12}},
        {"label": "common + case series", "common": {"mu": -0.18, "sigma": 0.12},
         "by": {"design": {"case_series": {"mu": -0.3, "sigma": 0.2}}}}]}}
    df = multiverse(spec, g).table
    assert (df["status"] == "ok").all(), df["reason"].tolist()
    for c in NUMBERS:
        assert df[c].iloc[0] == df[c].iloc[1], c


def test_failing_setting_is_recorded_and_the_run_goes_on(spec):
    g = small_grid(1)
    g["multiverse"]["selection"].append({"label": "typo", "exclude": ["NoSuchStudy2020"]})
    g["multiverse"]["model"].append({"label": "by country", "covariates": ["no_such_column"]})
    df = multiverse(spec, g).table
    bad = df[(df["selection"] == "typo") | (df["model"] == "by country")]
    assert (bad["status"] == "failed").all() and len(bad) == 4 * 3 * 2 - 3 * 2 * 2
    assert bad.loc[bad["selection"] == "typo", "reason"].str.contains("NoSuchStudy2020").all()
    assert bad.loc[(bad["model"] == "by country") & (bad["selection"] != "typo"),
                   "reason"].str.contains("no_such_column").all()
    assert bad[NUMBERS].isna().all().all()
    good = df.drop(bad.index)
    assert (good["status"] == "ok").all() and good[NUMBERS].notna().all().all()


def test_exact_incapable_setting_is_needs_mcmc_with_reason(spec):
    g = {"multiverse": {"model": [{"label": "normal"}, {"label": "t", "random_dist": "student_t"}]}}
    df = multiverse(spec, g).table
    assert df["status"].tolist() == ["ok", "needs_mcmc"]
    assert "Student-t" in df["reason"].iloc[1] and np.isnan(df["hr_median"].iloc[1])
    assert df["k"].iloc[1] == df["k"].iloc[0]


def test_headline_share_counts_only_equivalent_settings(spec):
    """A non-equivalent prior that puts the HR above 1 changes the count over all settings,
    never the headline count (over settings built only from equivalent choices)."""
    g = small_grid(2)
    g["multiverse"]["priors"].append({"label": "harm", "class": "non-equivalent",
                                      "mu": {"dist": "normal", "mu": 1.0, "sigma": 0.05}})
    res = multiverse(spec, g)
    df, s = res.table, res.summary
    cls = {a: {c.label: c.cls for c in res.grid.axes[a]} for a in AXES}
    eq = np.logical_and.reduce([df[a].map(cls[a]).eq("equivalent") for a in AXES])
    key = prob_key(1.0)
    want_eq = int((df.loc[eq, key] > 0.95).sum())
    share = s["share"]["1"]
    assert share["equivalent"][f"{key}_gt_0.95"]["of"] == int(eq.sum()) == 2 * 1 * 2 * 1
    assert share["equivalent"][f"{key}_gt_0.95"]["count"] == want_eq
    assert share["all"][f"{key}_gt_0.95"]["of"] == len(df)
    assert share["all"][f"{key}_gt_0.95"]["count"] == int((df[key] > 0.95).sum())
    assert (df.loc[df["priors"] == "harm", key] < 0.5).all()  # the non-equivalent prior does move the answer
    assert f"{want_eq} of {int(eq.sum())} settings in this grid built only from choices marked equivalent" \
        in s["headline"]
    assert "probability" in s["headline"] and "%" not in s["headline"]
    assert s["hr_range"]["equivalent"]["max"] == pytest.approx(df.loc[eq, "hr_median"].max())


def test_anova_on_a_balanced_additive_design():
    """log-HR = a_i + b_j exactly: the two axes carry all the variance, in the ratio of
    their sums of squares (computed by hand), residual 0; a missing cell drops a level."""
    from bayesnet.multiverse_analysis import Choice, Grid

    a, b = [0.0, 0.3, -0.3], [0.1, -0.1]
    axes = {"selection": tuple(Choice("selection", f"s{i}") for i in range(3)),
            "model": (Choice("model", "m"),),
            "priors": tuple(Choice("priors", f"p{j}") for j in range(2)),
            "bias": (Choice("bias", "b"),)}
    grid = Grid(axes=axes, thresholds=(1.0,))
    rows = [{"selection": f"s{i}", "model": "m", "priors": f"p{j}", "bias": "b", "status": "ok",
             "log_hr_median": a[i] + b[j]} for i, j in itertools.product(range(3), range(2))]
    df = pd.DataFrame(rows)
    out = influence_anova(df, grid)
    ss_a, ss_b = 2 * sum(x**2 for x in a), 3 * sum(x**2 for x in b)
    assert out["settings"] == 6 and out["dropped_levels"] == []
    assert out["axes"]["selection"]["share_of_variance"] == pytest.approx(ss_a / (ss_a + ss_b), rel=TOL["float"])
    assert out["axes"]["priors"]["share_of_variance"] == pytest.approx(ss_b / (ss_a + ss_b), rel=TOL["float"])
    assert out["residual_share"] == pytest.approx(0.0, abs=TOL["float"])
    assert out["axes"]["selection"]["hr_by_level"]["s1"] == pytest.approx(np.exp(0.3), rel=TOL["float"])
    df.loc[5, "status"] = "failed"  # s2 x p1 missing: the crossed part drops one level
    out = influence_anova(df, grid)
    assert out["settings"] == 4 and out["dropped_levels"] in ([{"axis": "selection", "label": "s2"}],
                                                            [{"axis": "priors", "label": "p1"}])


def test_xarray_has_one_named_dimension_per_axis(spec):
    res = multiverse(spec, small_grid(2))
    ds = res.dataset
    assert ds["hr_median"].dims == AXES
    assert dict(ds.sizes) == {"selection": 3, "model": 2, "priors": 2, "bias": 2}
    r = res.table.iloc[5]
    assert float(ds["hr_median"].sel(**{a: r[a] for a in AXES})) == r["hr_median"]
    assert list(ds["selection_class"].values) == ["equivalent", "equivalent", "uncertain"]


# ---------------------------------------------------------------------------------------- directory


def test_interrupted_run_leaves_finished_parts_and_resume_equals_uninterrupted(spec, tmp_path, monkeypatch):
    from bayesnet import multiverse_analysis as mva

    grid = small_grid(2)  # 24 settings, 6 parts of 4
    full = run_to_directory(spec, grid, tmp_path / "full", chunk=4)
    real, calls = mva._run_part, []

    def interrupted(job, *rest):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(job, *rest)

    monkeypatch.setattr(mva, "_run_part", interrupted)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_to_directory(spec, grid, out, chunk=4)
    parts = sorted(os.listdir(out / "parts"))
    assert len(parts) == 2 and not (out / "multiverse.csv").exists() and not (out / "summary.json").exists()
    assert not [n for n in os.listdir(out / "parts") if n.startswith(".")]  # nothing half-written
    calls.clear()
    monkeypatch.setattr(mva, "_run_part", lambda job, *rest: (calls.append(1), real(job, *rest))[1])
    res = run_to_directory(spec, grid, out, chunk=4, resume=True)
    assert len(calls) == 4  # the two finished parts were skipped
    assert (out / "multiverse.csv").read_bytes() == (tmp_path / "full" / "multiverse.csv").read_bytes()
    pd.testing.assert_frame_equal(res.table, full.table, check_exact=True)
    s1, s2 = (json.loads((d / "summary.json").read_text()) for d in (out, tmp_path / "full"))
    assert s1 == s2
    # a new run without --resume starts afresh (and gives the same numbers)
    again = run_to_directory(spec, grid, out, chunk=4)
    pd.testing.assert_frame_equal(again.table, full.table, check_exact=True)


def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "bayesnet.cli", "multiverse", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def test_cli_killed_with_sigkill_then_resumed_equals_uninterrupted(tmp_path):
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text('[data]\ndataset = "gepnet_ptr"\nselect = "primary"\n[report]\nthresholds = [1.0, 0.8]\n')
    g = small_grid(3)
    g["multiverse"]["priors"] += [{"label": f"mu {i}", "mu": {"dist": "normal", "mu": 0.0, "sigma": s}}
                                  for i, s in enumerate((0.3, 0.5, 2.0, 5.0))]
    grid_path = tmp_path / "grid.toml"
    grid_path.write_text(_toml(g))
    full = tmp_path / "full"
    p = _cli(spec_path, "--grid", grid_path, "--out", full, "--chunk", "6")
    assert p.wait(timeout=600) == 0, p.stderr.read()
    out = tmp_path / "run"
    p = _cli(spec_path, "--grid", grid_path, "--out", out, "--chunk", "6")
    t0 = time.monotonic()
    while time.monotonic() - t0 < 300:
        if (out / "parts").is_dir() and len([n for n in os.listdir(out / "parts") if n.endswith(".csv")]) >= 1:
            break
        if p.poll() is not None:
            break
        time.sleep(0.01)
    killed = p.poll() is None
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=60)
    if killed:
        assert not (out / "multiverse.csv").exists()
    r = _cli(spec_path, "--grid", grid_path, "--out", out, "--chunk", "6", "--resume")
    assert r.wait(timeout=600) == 0, r.stderr.read()
    assert (out / "multiverse.csv").read_bytes() == (full / "multiverse.csv").read_bytes()
    assert (out / "figures" / "specification_curve.png").is_file()
    assert (out / "figures" / "specification_curve.svg").is_file()


def test_cli_bad_grid_is_exit_2_with_every_problem(tmp_path):
    g = small_grid(1)
    g["multiverse"]["model"][0]["effects"] = "mixed"
    g["multiverse"]["bias"][0]["class"] = "maybe"
    grid_path = tmp_path / "grid.toml"
    grid_path.write_text(_toml(g))
    p = _cli(ROOT / "models" / "ptr_bias_adjusted.toml", "--grid", grid_path, "--out", tmp_path / "o")
    assert p.wait(timeout=300) == 2
    err = p.stderr.read()
    assert "[[multiverse.model]] #1 'random': [model].effects" in err and "class: 'maybe'" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_two_worker_local_cluster_equals_the_local_run(spec, tmp_path):
    pytest.importorskip("dask.distributed")
    grid = small_grid(2)
    local = multiverse(spec, grid)
    dist = multiverse(spec, grid, workers=2, chunk=5)
    pd.testing.assert_frame_equal(dist.table, local.table, check_exact=True)
    assert dist.summary == local.summary
    # into a directory (parts written as they finish, in any order), as `--workers 2` runs it
    res = run_to_directory(spec, grid, tmp_path / "d", workers=2, chunk=5)
    pd.testing.assert_frame_equal(res.table, local.table, check_exact=True)
    assert len(os.listdir(tmp_path / "d" / "parts")) == 5


def _toml(d: dict) -> str:
    """A grid dict as TOML (enough for these tests: tables of scalars and inline tables)."""
    def val(v):
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {val(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, str):
            return json.dumps(v)
        return repr(v)

    lines = ["[multiverse]"]
    mv = d["multiverse"]
    for k, v in mv.items():
        if k in AXES:
            continue
        lines.append(f"{k} = {val(v)}")
    for axis in AXES:
        for e in mv.get(axis, []):
            lines.append(f"[[multiverse.{axis}]]")
            lines += [f"{k} = {val(v)}" for k, v in e.items()]
    return "\n".join(lines) + "\n"


def test_keep_overlap_and_family_in_data_select_like_the_selection_helpers(spec):
    from bayesnet.evidence.selection import select_family

    base = evidence_for(load_spec({"data": {"dataset": "gepnet_ptr", "select": "primary", "keep_overlap": "all"}}))
    fam = evidence_for(load_spec({"data": {"dataset": "gepnet_ptr", "select": "primary", "keep_overlap": "all",
                                           "family": "SEER"}}))
    want = select_family(base.table, "SEER")[0]
    assert list(fam.table["study"]) == list(want["study"])
    with pytest.raises(SpecError, match="keep_overlap"):
        load_spec({"data": {"dataset": "gepnet_ptr", "keep_overlap": "largest"}})


def test_data_select_with_exclude_removes_ids_from_the_selected_rows():
    prim = evidence_for(load_spec({"data": {"dataset": "gepnet_ptr", "select": "primary"}}))
    drop = "Kaemmerer2019"  # an institutional series: in no overlap group, so no other row replaces it
    assert drop in set(prim.table["study"])
    ev = evidence_for(load_spec({"data": {"dataset": "gepnet_ptr", "select": "primary", "exclude": [drop]}}))
    assert list(ev.table["study"]) == [s for s in prim.table["study"] if s != drop]
    assert drop in set(ev.excluded["study"])


@pytest.mark.mcmc
def test_mcmc_setting_equals_a_direct_mcmc_fit_with_the_setting_seed(spec):
    """mcmc=True: a Student-t setting is sampled, seeded by setting_seed (the spec seed and a
    hash of the labels), so its row is a direct MCMC fit of the patched spec with that seed."""
    import dataclasses

    from bayesnet.multiverse_analysis import setting_seed

    sp = dataclasses.replace(spec, bias=None, mcmc=dataclasses.replace(spec.mcmc, chains=2, draws=600, tune=600,
                                                                       target_accept=0.99))
    g = {"multiverse": {"model": [{"label": "t", "random_dist": "student_t"}]}}
    df = multiverse(sp, g, mcmc=True).table
    assert df["status"].iloc[0] in ("ok", "failed")
    labels = {a: df[a].iloc[0] for a in AXES}
    raw = sp.with_model(random_dist="student_t")
    post = fit(raw, engine="mcmc", seed=setting_seed(sp.mcmc.seed, labels), log_likelihood=False,
               frequentist=False)
    if df["status"].iloc[0] == "ok":
        want = row_from_posterior(post)
        for c in NUMBERS:
            assert df[c].iloc[0] == want[c], c
    else:
        assert not post.ok and "diagnostics" in df["reason"].iloc[0]


def test_report_gains_every_reasonable_analysis_only_when_the_spec_names_a_grid(tmp_path):
    from bayesnet.report import write_report

    g = small_grid(1)
    (tmp_path / "grid.toml").write_text(_toml(g))
    raw = ('[data]\ndataset = "gepnet_ptr"\nselect = "primary"\n[report]\nthresholds = [1.0, 0.8]\n'
           'multiverse = "grid.toml"\n')
    (tmp_path / "with.toml").write_text(raw)
    out = write_report(tmp_path / "with.toml", tmp_path / "out")
    md = (out / "report.md").read_text()
    s = json.loads((out / "multiverse" / "summary.json").read_text())
    assert "Every reasonable analysis" in md and s["headline"] in md
    assert "settings in this grid built only from choices marked equivalent" in s["headline"]
    for f in ("specification_curve", "vibration_of_effects", "axes"):
        assert (out / "figures" / f"multiverse_{f}.png").is_file(), f
        assert f"figures/multiverse_{f}.png" in md
    assert len(pd.read_csv(out / "multiverse" / "multiverse.csv")) == len(settings_of(parse_grid(g, load_spec(
        tmp_path / "with.toml"))))
    (tmp_path / "without.toml").write_text(raw.replace('multiverse = "grid.toml"\n', ""))
    out2 = write_report(tmp_path / "without.toml", tmp_path / "out2")
    assert "Every reasonable analysis" not in (out2 / "report.md").read_text()
    assert not (out2 / "multiverse").exists()


def test_existing_scheduler_equals_the_local_run(spec):
    distributed = pytest.importorskip("dask.distributed")
    grid = small_grid(1)
    local = multiverse(spec, grid)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = multiverse(spec, grid, scheduler=cluster.scheduler_address, chunk=4)
    pd.testing.assert_frame_equal(remote.table, local.table, check_exact=True)


def test_resume_into_another_bayesnet_output_starts_afresh(spec, tmp_path):
    from bayesnet.io import atomic_directory, written_by_bayesnet

    out = tmp_path / "o"
    with atomic_directory(out) as tmp:
        (tmp / "summary.json").write_text("{}")
        (tmp / "studies.csv").write_text("study\n")
    run_to_directory(spec, small_grid(1), out, resume=True, chunk=6)
    assert not (out / "studies.csv").exists() and (out / "multiverse.csv").is_file()
    assert written_by_bayesnet(out) == (True, "")


def test_data_csv_replaces_the_spec_data_source(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("study,hr,ci_low,ci_high,design\nA,0.5,0.3,0.8,cohort\nB,0.7,0.5,1.0,cohort\n"
                 "C,0.9,0.6,1.3,case_series\nD,0.6,0.4,0.9,cohort\n")
    spec = load_spec({"data": {"path": str(f)}, "report": {"thresholds": [1.0, 0.8]}})
    g = {"multiverse": {"selection": [{"label": "all"}, {"label": "no C", "exclude": ["C"]}],
                        "bias": [{"label": "none"}, {"label": "case series", "by": {"design": {
                            "case_series": {"mu": -0.3, "sigma": 0.2}}}}]}}
    df = multiverse(spec, g, data=f).table
    assert df["k"].tolist() == [4, 4, 3, 3] and (df["status"] == "ok").all()
    # the case-series bias is a no-op once the case series is excluded
    assert df["hr_median"].iloc[2] == df["hr_median"].iloc[3] != df["hr_median"].iloc[1]


def test_resume_after_the_data_changed_refits_every_part(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text("study,hr,ci_low,ci_high\nA,0.5,0.3,0.8\nB,0.7,0.5,1.0\nC,0.9,0.6,1.3\n")
    spec = load_spec({"data": {"path": str(f)}, "report": {"thresholds": [1.0, 0.8]}})
    g = {"multiverse": {"priors": [{"label": "a", "tau": TAUS[0]}, {"label": "b", "tau": TAUS[1]}]}}
    first = run_to_directory(spec, g, tmp_path / "o", chunk=1)
    f.write_text("study,hr,ci_low,ci_high\nA,0.6,0.3,0.8\nB,0.7,0.5,1.0\nC,0.9,0.6,1.3\n")
    resumed = run_to_directory(spec, g, tmp_path / "o", chunk=1, resume=True)
    fresh = multiverse(spec, g)
    assert (resumed.table["hr_median"] != first.table["hr_median"]).all()
    pd.testing.assert_frame_equal(resumed.table, fresh.table, check_exact=True)
    assert resumed.summary["provenance"]["data_sha256"] is not None
