"""The reference values are part of the repository: every file in tests/reference/ is
documented (source, table, version) in its README, and no test reaches outside the
repository for data."""

import re

from ..conftest import REFERENCE, ROOT, ci_skip_violation


def test_every_reference_file_is_documented():
    """A file at the top of tests/reference/ has its own section; a file in a folder is
    named by its path (e.g. `pubbias/robma_biased_k14.json`) where its source is given."""
    readme = (REFERENCE / "README.md").read_text()
    files = sorted(p.relative_to(REFERENCE).as_posix() for p in REFERENCE.rglob("*")
                   if p.is_file() and p.name != "README.md")
    assert len(files) >= 3, f"tests/reference/ holds too few reference files: {files}"
    for name in files:
        if "/" in name:
            assert f"`{name}`" in readme, f"tests/reference/README.md does not document {name}"
        else:
            assert f"## {name}" in readme, f"tests/reference/README.md has no section for {name}"


def test_the_tests_named_in_the_reference_readme_exist():
    """The README says which test uses each reference file; those paths follow the tests
    when they move."""
    readme = (REFERENCE / "README.md").read_text()
    named = sorted(set(re.findall(r"tests/[\w/]+\.py", readme)))
    assert named, "tests/reference/README.md names no test file"
    missing = [n for n in named if not (ROOT / n).is_file()]
    assert not missing, f"tests/reference/README.md names test files that do not exist: {missing}"


def test_no_test_reads_outside_the_repository():
    shared = "sha" + "red"  # spelled apart so that this file does not match itself
    pattern = re.compile(rf"""parent\s*/\s*["']{shared}["']|Path\(\s*["']\.\./{shared}|["']/work/{shared}""")
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py") if pattern.search(p.read_text())]
    assert not offenders, f"tests reading ../shared: {offenders}"


def test_on_ci_only_r_may_skip():
    r_reason = "R with metafor is not installed (apt-get install r-base-core r-cran-metafor)"
    assert ci_skip_violation(r_reason, on_ci=True) is None
    assert "nothing may skip" in ci_skip_violation("no Chromium installed", on_ci=True)
    assert ci_skip_violation("no Chromium installed", on_ci=False) is None
