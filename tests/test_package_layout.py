"""The package's layout is its architecture: the library (``themetag/``) never reaches back into
the DVC layer (``stages/``), the tests or the benchmarks, and never imports DVC, so it runs
wherever the bundle is used."""

from __future__ import annotations

import ast

import pytest

from harness.dvc_repo import ROOT

LIBRARY = sorted((ROOT / "themetag").rglob("*.py"))
FORBIDDEN = ("stages", "tests", "bench", "dvc")


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
    return roots


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_library_imports_nothing_from_stages_tests_bench_or_dvc(path):
    assert not imported_roots(path.read_text()) & set(FORBIDDEN)


@pytest.mark.parametrize(
    "path",
    sorted([*(ROOT / "bench").rglob("*.py"), *(ROOT / "harness").rglob("*.py")]),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_benchmarks_and_the_harness_import_no_test_module(path):
    """Benchmarks and tests share helpers through harness/, never through each other; and the
    stages and the library never import the harness (the DVC copies it makes do not hold it)."""
    assert "tests" not in imported_roots(path.read_text())


@pytest.mark.parametrize("path", [*LIBRARY, *sorted((ROOT / "stages").glob("*.py"))], ids=lambda p: p.name)
def test_nothing_that_runs_in_a_stage_imports_the_harness(path):
    assert "harness" not in imported_roots(path.read_text())


def test_the_check_sees_an_import_of_stages():
    """The check above would pass on a parser that found nothing; show it finds one."""
    assert "themetag" in imported_roots((ROOT / "stages" / "package.py").read_text())
    assert imported_roots("import dvc.api\nfrom stages.paths import X\n") == {"dvc", "stages"}


def test_stages_holds_only_entry_points():
    """Every module in stages/ runs as ``python -m stages.<name>``: it has a main guard."""
    for path in sorted((ROOT / "stages").glob("*.py")):
        if path.name != "__init__.py":
            assert 'if __name__ == "__main__":' in path.read_text(), f"{path.name} is not an entry point"


def test_the_readme_stays_within_its_ceiling_and_its_links_resolve():
    """The README is for a newcomer: at most 250 lines; the long tables live in docs/, and every
    relative link (and #anchor) it gives points at a file and heading that exist."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for target in re.findall(r"\]\(([^)\s]+)\)", readme):
        if "://" in target:
            continue
        path, _, anchor = target.partition("#")
        file = ROOT / path
        assert file.exists(), target
        if anchor and file.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), flags=re.M)
            slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, target
