"""dvc.yaml's code deps match the code: DVC reruns a stage only when a listed dep changes, so a
module a stage imports but does not list would leave stale results that `dvc status` calls
up to date. Paths in dvc.yaml must also be the ones the code writes and reads (themetag/pipeline/paths.py).
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.dvc_repo import ROOT
from themetag.pipeline import paths

# Modules that cannot change a stage's outputs, so listing them would only make an edit rerun
# every stage (an edited error message would rerun all tuning). Package markers (``__init__.py``)
# are left out of the closure too: test_package_markers_hold_no_code checks that they cannot matter.
ALLOWED = {
    "themetag/errors.py": "error messages and the CLI wrapper: text on failure, never an output",
    "themetag/atomic.py": "how a file is written (temporary name, rename, mode), not what",
    "themetag/pipeline/paths.py": "where files go; test_dvc_yaml_paths_are_the_paths_the_code_uses checks them",
    "themetag/tuning/storage_url.py": "refuses a URL that holds a password; changes no output",
}
PROJECT_PACKAGES = ("stages", "themetag")


def module_file(dotted: str) -> str | None:
    """``a.b.c`` -> ``a/b/c.py`` when that module file exists (packages give None)."""
    path = dotted.replace(".", "/") + ".py"
    return path if (ROOT / path).is_file() else None


def project_imports(module_file_: Path) -> set[str]:
    """Project module files (``stages/x.py``, ``themetag/sub/x.py``) that ``module_file_``
    imports, at any depth in the file: ``from themetag.pipeline import paths`` names the module
    ``themetag/pipeline/paths.py``, ``from themetag.tagging.bundle import load_bundle`` names
    ``themetag/tagging/bundle.py``."""
    found: set[str | None] = set()
    for node in ast.walk(ast.parse(module_file_.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT_PACKAGES:
            found.add(module_file(node.module))
            found |= {module_file(f"{node.module}.{alias.name}") for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {module_file(a.name) for a in node.names if a.name.split(".")[0] in PROJECT_PACKAGES}
    return {f for f in found if f}


def closure(module_file: str) -> set[str]:
    """``module_file`` and every project module it imports; for a stage's entry point, also what
    ``stages/__init__.py`` imports, which ``python -m stages.x`` runs first (the BLAS pin)."""
    seen, todo = set(), [module_file]
    if module_file.startswith("stages/"):
        todo.extend(project_imports(ROOT / "stages/__init__.py"))
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(project_imports(ROOT / current) - seen)
    return seen


# every stage file; their paths are all the root's (wdir)
DVC_YAMLS = ("dvc.yaml", "stages/tuning/dvc.yaml")


def all_stages() -> dict[str, dict]:
    """Every stage of every dvc.yaml, by name."""
    out: dict[str, dict] = {}
    for rel in DVC_YAMLS:
        spec = yaml.safe_load((ROOT / rel).read_text())
        out |= spec["stages"]
    return out


def test_every_dvc_yaml_is_listed():
    """A stage file the tests did not read would escape every check here."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "dvc.yaml", "*/dvc.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert set(listed) == set(DVC_YAMLS)


@pytest.mark.parametrize("rel", DVC_YAMLS[1:])
def test_every_other_stage_file_runs_from_the_root(rel):
    for name, stage in yaml.safe_load((ROOT / rel).read_text())["stages"].items():
        assert stage.get("wdir") == "../..", f"{rel}: stage {name} needs wdir: ../.."


def entry_path(entry: str | dict) -> str:
    """A deps or outs entry's path: an entry with options is a one-key mapping."""
    return str(next(iter(entry))) if isinstance(entry, dict) else str(entry)


def test_dvc_repro_reaches_every_stage():
    """`dvc repro` runs the root dvc.yaml and what is upstream of it, not the stages downstream of
    it in another file: a stage no root stage needs (at any depth) would silently never run."""
    spec = {}
    for name, stage in all_stages().items():
        body = stage.get("do", stage)
        outs = [entry_path(e) for key in ("outs", "metrics", "plots") for e in body.get(key, [])]
        spec[name] = ([entry_path(d) for d in body.get("deps", [])], outs)

    def feeds(out: str, dep: str) -> bool:  # a directory dep holds the outs beneath it, and the reverse
        out, dep = out.split("${")[0], dep.split("${")[0]
        return out == dep or out.startswith(dep.rstrip("/") + "/") or dep.startswith(out.rstrip("/") + "/")

    reached = set(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])
    todo = list(reached)
    while todo:
        deps = spec[todo.pop()][0]
        for name, (_, outs) in spec.items():
            if name not in reached and any(feeds(o, d) for o in outs for d in deps):
                reached.add(name)
                todo.append(name)
    assert reached == set(spec), f"dvc repro would never run {sorted(set(spec) - reached)}"


def stages_with_code() -> dict[str, tuple[str, list[str]]]:
    """Stage name -> (its entry module file, its deps as written in its dvc.yaml)."""
    out = {}
    for name, stage in all_stages().items():
        body = stage.get("do", stage)
        found = re.search(r"python -m (stages\.\w+)", body["cmd"])
        if found:
            out[name] = (found.group(1).replace(".", "/") + ".py", [str(d) for d in body.get("deps", [])])
    return out


def missing_code_deps(entry: str, deps: list[str]) -> set[str]:
    return closure(entry) - set(deps) - set(ALLOWED)


STAGES = stages_with_code()


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_every_module_a_stage_runs_is_a_dep_of_it(stage):
    entry, deps = STAGES[stage]
    assert not missing_code_deps(entry, deps), f"dvc.yaml: stage {stage} runs these modules but does not list them"


def test_deleting_any_one_code_dep_line_is_caught():
    checked = 0
    for stage, (entry, deps) in STAGES.items():
        for dep in deps:
            if dep.startswith(PROJECT_PACKAGES) and dep.endswith(".py"):
                assert dep in missing_code_deps(entry, [d for d in deps if d != dep]), (stage, dep)
                checked += 1
    assert checked > 30


def test_tuning_never_imports_the_encoder():
    """Tuning reads the features stage's matrices and never encodes: an edit to the encoder must
    rerun the stages that encode (embed, train_final, ...), not every tune stage."""
    for stage in ("screen", "tune", "tune_costly", "select", "features"):
        assert "themetag/features/encoder.py" not in closure(STAGES[stage][0]), stage


def test_allow_list_holds_only_modules_that_exist():
    assert all((ROOT / f).is_file() for f in ALLOWED)


def known_paths() -> set[str]:
    """Every path themetag/pipeline/paths.py defines, with dvc.yaml's templates for the per-item ones."""
    known = {p.as_posix() for p in vars(paths).values() if isinstance(p, Path)}
    known |= {paths.tune_dir("${item.family}-${item.space}", costly).as_posix() for costly in (False, True)}
    known |= {paths.screen_file("${item.family}-${item.space}").as_posix()}
    known |= {paths.plan_file("${item.family}-${item.space}").as_posix()}
    return known


def test_dvc_yaml_paths_are_the_paths_the_code_uses():
    known = known_paths()
    for name, stage in all_stages().items():
        body = stage.get("do", stage)
        entries = [*body.get("deps", []), *body.get("outs", []), *body.get("metrics", [])]
        for entry in entries:
            path = entry_path(entry)
            if path.split("/")[0] in ("artifacts", "metrics", "models"):
                assert path in known, (
                    f"dvc.yaml: stage {name} names {path}, which themetag/pipeline/paths.py does not define"
                )


def test_no_entry_point_imports_another():
    entries = {entry for entry, _ in STAGES.values()} | {"stages/predict.py", "stages/tune_worker.py"}
    for entry in sorted(entries):
        others = project_imports(ROOT / entry) & (entries - {entry})
        assert not others, f"{entry} imports the entry point(s) {sorted(others)}; move shared code to a library module"


def test_package_markers_hold_no_code():
    """The closure above skips ``__init__.py``; that is safe only while they hold nothing that
    could change an output: a docstring, or (the package root) names loaded on first use that no
    stage imports. ``stages/__init__.py`` may pin the BLAS kernels: the closure follows its imports."""
    for marker in sorted((ROOT / "themetag").rglob("__init__.py")):
        body = ast.parse(marker.read_text()).body
        if marker == ROOT / "themetag/__init__.py":
            continue
        assert all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body), marker
    for entry in (ROOT / "stages").glob("*.py"):
        tree = ast.parse(entry.read_text())
        rooted = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "themetag"]
        assert not rooted, f"{entry.name} imports from themetag's root; import the module that holds the name"


def test_a_skipped_candidate_s_stage_imports_nothing_that_tunes(tmp_path):
    """A third of the tune stages on the default config are skips (naive Bayes on embeddings, the
    trees off TF-IDF); each one is a process, and importing scikit-learn, Optuna and pandas cost
    it a second more than the skip itself."""
    import shutil
    import subprocess
    import sys

    from harness.dvc_repo import ROOT

    shutil.copy(ROOT / "params.yaml", tmp_path)
    code = (
        "import sys; sys.argv = ['tune', '--family', 'nb', '--space', 'embeddings']\n"
        "from stages.tune import main\nmain()\n"
        "print(sorted({'sklearn', 'optuna', 'pandas'} & {m.split('.')[0] for m in sys.modules}))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "tune@nb-embeddings: skipped (nb needs non-negative input" in out.stdout
    assert out.stdout.strip().endswith("[]"), out.stdout
    assert (tmp_path / "artifacts/tune/first/nb-embeddings/summary.json").exists()
