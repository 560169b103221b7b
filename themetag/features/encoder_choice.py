"""``model: auto``: which sentence encoder an embeddings space uses, decided per data set.

An embeddings space whose ``model`` is ``auto`` (the default, ``conf/features/embeddings.yaml``)
takes the encoder the ``encoder_probe`` stage chose among ``encoder_probe.candidates``
(``themetag/features/encoder_probe.py``) and wrote to ``artifacts/encoder_choice.json``.
``load_params`` (``themetag/pipeline/params.py``) puts that choice in place of ``auto``, so every stage after the probe (and every
fingerprint of a study) sees a plain model name; before the probe, ``auto`` stays, and using it
stops with a line that says to run the probe.
"""

from __future__ import annotations

from themetag.errors import InputError
from themetag.features.spaces import needs_encoders, space_of
from themetag.pipeline.params import AUTO, embedding_confs


def listed_auto(params: dict) -> dict | None:
    """The first ``auto`` embeddings conf among the spaces ``models.spaces`` lists, or None."""
    for name in params.get("models", {}).get("spaces", []):
        for conf in embedding_confs(params.get("features", {}).get(name)):
            if conf.get("model") == AUTO:
                return conf
    return None


def candidate_confs(params: dict, auto_conf: dict) -> list[dict]:
    """``encoder_probe.candidates`` as full encoder settings (batch size and device from the
    ``auto`` space): the cheapest first, which the others must beat."""
    cands = (params.get("encoder_probe") or {}).get("candidates") or []
    for i, c in enumerate(cands):
        if not isinstance(c, dict) or "model" not in c or not str(c.get("max_tokens", "")).isdigit():
            raise InputError(
                f"conf/config.yaml: encoder_probe.candidates[{i}] is {c!r}; write each candidate as "
                "{model: all-MiniLM-L6-v2, max_tokens: 256} (a name or a folder, and a whole number of word pieces)"
            )
    return [{**auto_conf, "model": str(c["model"]), "max_tokens": int(c["max_tokens"])} for c in cands]


def theme_encoders(params: dict, spaces: dict[str, str]) -> dict[str, str]:
    """Theme -> ``model@max_tokens`` of the encoder(s) its selected space runs, or ``none``."""
    out = {}
    for theme, space in spaces.items():
        confs = space_of(params, space).encoders()
        out[theme] = " + ".join(f"{c['model']}@{c['max_tokens']}" for c in confs) or "none"
    return out


def models_needed(params: dict, chosen: dict | None = None) -> list[str]:
    """Every model the listed spaces may encode with: ``auto`` stands for each candidate, or
    for ``chosen`` alone (the tuning record's encoder)."""
    names: list[str] = []
    for conf in needs_encoders(params):
        if conf.get("model") != AUTO:
            names.append(conf["model"])
        else:
            names += [chosen["model"]] if chosen else [c["model"] for c in candidate_confs(params, conf)]
    return list(dict.fromkeys(names))
