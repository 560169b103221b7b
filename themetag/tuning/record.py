"""The tuning record: what each theme won, kept in git beside the data, so that a labelling round
refits instead of tuning again (``reuse`` in conf/config.yaml; README: a labelling round).

``data/tuning_record.json`` (``reuse.record``) holds, per theme, the winning candidate (family
and space), its hyper-parameters and seed, the out-of-fold figure it reached and the rows and
positives it was tuned on; and the encoder that ``model: auto`` chose. The ``select`` stage writes
the next record to ``artifacts/tuning_record.json``; ``themetag keep-tuning`` (which
``themetag append-batch`` runs first) copies it into ``data/``. A record is an input, not a cache:
a clone of any commit reruns that commit's refits from it, to the same bytes.

A record carries a checksum of its own content, so a hand edit or a damaged file stops the run
in one line; and the digest of the settings it was tuned under (per group, so that the report
can say which group changed), so a record written under another config is never applied.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from themetag.errors import InputError
from themetag.fingerprint import fingerprint

FORMAT = 1
# tuning keys that change where and how fast trials run, never which setting wins
RUNTIME_TUNING = ("n_jobs", "storage", "heartbeat", "timeout")
# what fits a theme's models: train_final takes the reuse stage's fold models when its selection is this
SETTING = ("family", "space", "params", "seed")
THEME_KEYS = ("candidate", "family", "space", "params", "seed", "value", "average_precision", "rows", "positives")
# a theme's runners-up when it was tuned (``reuse.challengers``), refitted beside its winner in a round
CHALLENGER_KEYS = ("candidate", "family", "space", "params", "seed", "value", "average_precision")
FIX = "restore it with `git checkout -- {path}`, rewrite it with `themetag keep-tuning` after a run, or delete it to tune every theme"


def config_digest(params: dict) -> dict[str, str]:
    """Per config group, a digest of the settings that decide what tuning finds (params as
    composed, before ``model: auto`` is resolved: the record keeps the encoder choice itself, so
    the probe's own settings are not among them; ``reuse.retune=all`` probes again)."""
    models = params["models"]
    listed = [*models.get("families", []), *(models.get("costly") or [])]
    return {
        "models": fingerprint(models),
        "families": fingerprint({f: params["families"].get(f) for f in listed}),
        "features": fingerprint({s: params["features"].get(s) for s in models["spaces"]}),
        "tuning": fingerprint({k: v for k, v in params["tuning"].items() if k not in RUNTIME_TUNING}),
        "select": fingerprint(params.get("select")),
    }


def checksum(body: dict) -> str:
    text = json.dumps({k: v for k, v in body.items() if k != "checksum"}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def sealed(body: dict) -> dict:
    """``body`` with its checksum, as a record file holds it."""
    return {**{k: v for k, v in body.items() if k != "checksum"}, "checksum": checksum(body)}


def read_record(path: str | Path | None) -> dict | None:
    """The record at ``path`` (None when there is none), checked: its checksum and every field.
    A damaged or hand-edited record stops here, in one line that names it and the fix."""
    if not path or not Path(path).is_file():
        return None
    fix = FIX.format(path=path)
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable tuning record ({exc}); {fix}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise InputError(f"{path}: not a tuning record of format {FORMAT}; {fix}")
    if body.get("checksum") != checksum(body):
        raise InputError(f"{path}: its checksum does not match its content (edited by hand or damaged); {fix}")
    themes = body.get("themes")
    if not isinstance(themes, dict) or not isinstance(body.get("config"), dict):
        raise InputError(f"{path}: no themes or config in the record; {fix}")
    for theme, entry in themes.items():
        missing = [k for k in THEME_KEYS if not isinstance(entry, dict) or k not in entry]
        if missing:
            raise InputError(f"{path}: theme {theme!r} lacks {', '.join(missing)}; {fix}")
        challengers = entry.get("challengers", [])  # records from before challengers have none
        if not isinstance(challengers, list) or any(
            not isinstance(c, dict) or any(k not in c for k in CHALLENGER_KEYS) for c in challengers
        ):
            raise InputError(f"{path}: theme {theme!r} has a malformed challengers list; {fix}")
    return body


def applies(record: dict | None, params: dict) -> tuple[bool, str]:
    """Whether ``record`` may be reused under ``params`` (composed, unresolved), and why not."""
    if record is None:
        return False, "no tuning record"
    now, then = config_digest(params), record["config"]
    changed = sorted(k for k in now if now[k] != then.get(k))
    if changed:
        return False, f"the record was tuned under other {', '.join(changed)} settings"
    return True, "settings unchanged since the record"


def recorded_encoder(params: dict, checked: str | Path = "artifacts/record.json") -> dict | None:
    """The ``model: auto`` encoder the record chose, when the record (as expand_labels checked it,
    ``checked``) applies and ``reuse.retune`` is not ``all``; else None: the probe decides."""
    if not Path(checked).is_file() or (params.get("reuse") or {}).get("retune") == "all":
        return None
    record = json.loads(Path(checked).read_text(encoding="utf-8")).get("record")
    ok, _ = applies(record, params)
    return record.get("encoder") if ok else None


def theme_entry(
    sel: dict, value: float, ap: float, rows: int, positives: int, challengers: list[dict] | None = None
) -> dict[str, Any]:
    """One theme's record entry from its selection (``artifacts/selection.json``), with its
    runners-up (``challenger``) best first."""
    return {
        **challenger(sel, value, ap),
        "rows": int(rows),
        "positives": int(positives),
        "challengers": challengers or [],
    }


def challenger(sel: dict, value: float, ap: float) -> dict[str, Any]:
    """A candidate's setting and the out-of-fold figures it reached."""
    return {
        "candidate": sel["candidate"],
        "family": sel["family"],
        "space": sel["space"],
        "params": sel["params"],
        "seed": sel["seed"],
        "value": round(float(value), 9),
        "average_precision": round(float(ap), 9),
    }


def promote(entry: dict, name: str) -> dict:
    """``entry`` with its challenger ``name`` as the theme's setting (it refitted best in a round)
    and the former setting first among the challengers. The rows and positives stay those the
    theme was tuned on, so the growth rule still retunes it in time."""
    new = next(c for c in entry["challengers"] if c["candidate"] == name)
    former = {k: entry[k] for k in CHALLENGER_KEYS}
    rest = [c for c in entry["challengers"] if c["candidate"] != name]
    return {**entry, **{k: new[k] for k in CHALLENGER_KEYS}, "challengers": [former, *rest]}
