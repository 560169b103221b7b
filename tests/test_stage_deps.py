"""dvc.yaml's code deps match the code: DVC reruns a stage only when a listed dep changes, so a
module a stage imports but does not list would leave stale results that `dvc status` calls
up to date. Paths in dvc.yaml must also be the ones the code writes and reads (stages/paths.py).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from stages import paths
from tests.dvc_repo import ROOT

# Modules that cannot change a stage's outputs, so listing them would only make an edit rerun
# every stage (an edited error message would rerun all tuning).
ALLOWED = {
    "stages/__init__.py": "empty package marker",
    "stages/errors.py": "error messages and the CLI wrapper: text on failure, never an output",
    "stages/atomic.py": "how a file is written (temporary name, rename, mode), not what",
    "stages/paths.py": "where files go; test_dvc_yaml_paths_are_the_paths_the_code_uses checks them",
    "stages/storage_url.py": "refuses a URL that holds a password; changes no output",
}


def project_imports(module_file: Path) -> set[str]:
    """Project modules (``stages/x.py``) that ``module_file`` imports, at any depth in the file."""
    found = set()
    for node in ast.walk(ast.parse(module_file.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "stages":
            if node.module == "stages":  # from stages import paths
                found |= {f"stages/{alias.name}.py" for alias in node.names}
            else:
                found.add(node.module.replace(".", "/") + ".py")
        elif isinstance(node, ast.Import):
            found |= {a.name.replace(".", "/") + ".py" for a in node.names if a.name.startswith("stages.")}
    return {f for f in found if (ROOT / f).is_file()}


def closure(module_file: str) -> set[str]:
    seen, todo = set(), [module_file]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(project_imports(ROOT / current) - seen)
    return seen


def stages_with_code() -> dict[str, tuple[str, list[str]]]:
    """Stage name -> (its entry module file, its deps as written in dvc.yaml)."""
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    out = {}
    for name, stage in spec.items():
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
            if dep.startswith("stages/") and dep.endswith(".py"):
                assert dep in missing_code_deps(entry, [d for d in deps if d != dep]), (stage, dep)
                checked += 1
    assert checked > 30


def test_allow_list_holds_only_modules_that_exist():
    assert all((ROOT / f).is_file() for f in ALLOWED)


def known_paths() -> set[str]:
    """Every path stages/paths.py defines, with dvc.yaml's templates for the per-item ones."""
    known = {p.as_posix() for p in vars(paths).values() if isinstance(p, Path)}
    known |= {paths.features_file("${item}").as_posix(), paths.features_file("${item.space}").as_posix()}
    known |= {paths.tune_dir("${item.family}-${item.space}", costly).as_posix() for costly in (False, True)}
    return known


def test_dvc_yaml_paths_are_the_paths_the_code_uses():
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    known = known_paths()
    for name, stage in spec.items():
        body = stage.get("do", stage)
        entries = [*body.get("deps", []), *body.get("outs", []), *body.get("metrics", [])]
        for entry in entries:
            path = next(iter(entry)) if isinstance(entry, dict) else str(entry)
            if path.split("/")[0] in ("artifacts", "metrics", "models"):
                assert path in known, f"dvc.yaml: stage {name} names {path}, which stages/paths.py does not define"


def test_no_entry_point_imports_another():
    entries = {entry for entry, _ in STAGES.values()} | {"stages/predict.py", "stages/tune_worker.py"}
    for entry in sorted(entries):
        others = project_imports(ROOT / entry) & (entries - {entry})
        assert not others, f"{entry} imports the entry point(s) {sorted(others)}; move shared code to a library module"
