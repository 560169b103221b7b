"""Compose ``conf/`` into ``params.yaml``: the project's answer to ``dvc repro`` not composing.

``dvc exp run -S ...`` composes ``conf/`` (plus the overrides) into params.yaml, but plain
``dvc repro`` does not (DVC issue 10750). So the first stage of dvc.yaml runs this module
whenever a file under ``conf/`` changes. It does a three-way merge:

* base:   the last composition, kept in ``conf.lock.yaml`` (committed with the code);
* theirs: the composition of ``conf/`` now;
* ours:   ``params.yaml`` now, which may hold ``-S`` overrides or edits made on purpose.

The result is ``theirs``, plus every leaf where ``ours`` differs from ``base``. So conf edits
land, and overrides made on top of the last composition survive.

``python -m stages.compose`` writes params.yaml from conf/ alone (with optional Hydra overrides
after it); ``themetag check`` exits non-zero when params.yaml is not the composition of conf/.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from themetag.atomic import write_text
from themetag.errors import InputError
from themetag.pipeline.ranges import check_ranges
from themetag.tuning.storage_url import refuse_password

CONF_DIR = Path("conf")
PARAMS_FILE = Path("params.yaml")
LOCK_FILE = Path("conf.lock.yaml")
# Keys that dvc.yaml interpolates (the tuning matrix): DVC resolves them before any stage
# runs, so a change to them needs a second `dvc repro`.
TEMPLATED_KEYS = ("models.families", "models.costly", "models.spaces")


def compose(conf_dir: Path = CONF_DIR, overrides: list[str] | None = None) -> str:
    """Return the YAML text DVC's own Hydra integration would write for these overrides."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        with initialize_config_dir(str(conf_dir.resolve()), version_base=None):
            cfg = hydra_compose(config_name="config", overrides=overrides or [])
        OmegaConf.resolve(cfg)
    except (HydraException, OmegaConfBaseException, ValueError) as exc:
        detail = " ".join(str(exc).split())
        raise InputError(
            f"{conf_dir}/: cannot compose the config ({detail}); check conf/config.yaml's defaults list "
            "and that each group option has its file in conf/<group>/"
        ) from None
    refuse_password(str(OmegaConf.select(cfg, "tuning.storage", default="") or ""))
    return OmegaConf.to_yaml(cfg)


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict) and tree:
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: tree}


def _set(tree: dict, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        tree = tree.setdefault(key, {})
    tree[leaf] = value


def _delete(tree: dict, dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    for key in parents:
        tree = tree.get(key, {})
    tree.pop(leaf, None)


def three_way_merge(base: dict, ours: dict, theirs: dict) -> dict:
    """``theirs`` with every leaf that ``ours`` changed relative to ``base`` applied on top."""
    flat_base, flat_ours = _flatten(base), _flatten(ours)
    merged = yaml.safe_load(yaml.safe_dump(theirs))
    for key, value in flat_ours.items():
        if key not in flat_base or flat_base[key] != value:
            _set(merged, key, value)
    for key in flat_base.keys() - flat_ours.keys():
        _delete(merged, key)
    return merged


def _dump(tree: dict) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(tree))


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.exists() else {}


def _get(tree: dict, dotted: str) -> Any:
    for key in dotted.split("."):
        tree = tree.get(key, {}) if isinstance(tree, dict) else {}
    return tree


def stage() -> None:
    """The DVC stage: merge conf/ into params.yaml, then record the composition as the new base."""
    theirs_text = compose()
    theirs = yaml.safe_load(theirs_text)
    ours = _load(PARAMS_FILE)
    base = _load(LOCK_FILE) or theirs
    merged = three_way_merge(base, ours, theirs)
    check_ranges(merged)  # before anything is written: a value out of range stops here, in one line
    changed = merged != ours
    if changed:
        write_text(PARAMS_FILE, theirs_text if merged == theirs else _dump(merged))
    write_text(LOCK_FILE, theirs_text)
    moved = [k for k in TEMPLATED_KEYS if _get(merged, k) != _get(ours, k)]
    if moved:
        raise InputError(
            f"params.yaml: {', '.join(moved)} changed in conf/, and dvc.yaml's stage list depends "
            "on it; run `dvc repro` again to pick up the new stage list"
        )
    print("params.yaml updated from conf/" if changed else "params.yaml already matches conf/")


def stale_params(conf_dir: Path = CONF_DIR) -> str | None:
    """None when params.yaml is the composition of ``conf_dir`` (no overrides), else why not."""
    ours, theirs = _load(PARAMS_FILE), yaml.safe_load(compose(conf_dir))
    if ours == theirs:
        return None
    flat_ours, flat_theirs = _flatten(ours), _flatten(theirs)
    differ = sorted(
        k for k in flat_ours.keys() | flat_theirs.keys() if flat_ours.get(k, ...) != flat_theirs.get(k, ...)
    )
    shown = ", ".join(differ[:5]) + (f" and {len(differ) - 5} more" if len(differ) > 5 else "")
    return (
        f"{PARAMS_FILE}: differs from the composition of {conf_dir}/ at {shown}; run `python -m stages.compose` "
        "to rewrite it from conf/ (or `dvc repro`, which keeps -S overrides made since the last composition)"
    )


def check(conf_dir: Path = CONF_DIR) -> None:
    """Raise InputError unless params.yaml is the composition of ``conf_dir``."""
    problem = stale_params(conf_dir)
    if problem:
        raise InputError(problem)
    print(f"{PARAMS_FILE} matches {conf_dir}/")


def write_params(overrides: list[str]) -> None:
    """Write params.yaml from conf/ plus ``overrides``; without overrides it is also the new base."""
    text = compose(overrides=overrides)
    check_ranges(yaml.safe_load(text))
    write_text(PARAMS_FILE, text)
    if not overrides:
        write_text(LOCK_FILE, text)
    print(f"wrote {PARAMS_FILE}")
