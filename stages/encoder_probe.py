"""Stage encoder_probe: choose the sentence encoder of ``model: auto`` spaces for this data set.

Runs before any full encoding (``themetag/features/encoder_probe.py`` says how and why). Writes
``artifacts/encoder_choice.json`` (the chosen model and length: what the later stages depend on,
so a rerun that chooses the same encoder reruns nothing after it) and
``metrics/encoder_probe.json`` (the figures behind the choice). With one candidate, or when no
listed space is ``auto``, nothing is encoded.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from themetag.atomic import write_json
from themetag.errors import InputError, run_cli
from themetag.features.encoder import Encoder
from themetag.features.encoder_choice import candidate_confs, listed_auto
from themetag.features.encoder_probe import budget, label, probe
from themetag.features.vector_cache import default_root
from themetag.pipeline import paths
from themetag.pipeline.artifacts import load_folds, load_texts
from themetag.pipeline.params import load_params
from themetag.tuning.race import screen_sample
from themetag.tuning.record import recorded_encoder


def encode(conf: dict, texts: list[str]) -> np.ndarray:
    return Encoder.from_conf(conf).use_cache(default_root()).encode(texts)


def main() -> None:
    params = load_params(resolve=False)
    settings = params.get("encoder_probe") or {}
    auto = listed_auto(params)
    cands = candidate_confs(params, auto or params["features"].get("embeddings", {}))
    if not cands:
        raise InputError("params.yaml: encoder_probe.candidates is empty; list at least one {model, max_tokens}")
    started = time.perf_counter()
    kept = recorded_encoder(params) if auto is not None else None
    if kept:
        choice = {"model": kept["model"], "max_tokens": int(kept["max_tokens"])}
        figures = {
            "candidates": [label(c) for c in cands],
            "chosen": label({**auto, **choice}),
            "why": f"kept from the tuning record ({params['reuse']['record']}), where the probe chose it; "
            "nothing probed (-S reuse.retune=all probes again)",
        }
    elif auto is None or len(cands) == 1:
        why = "no listed space uses model: auto" if auto is None else "the only candidate"
        choice, figures = (
            {"model": cands[0]["model"], "max_tokens": cands[0]["max_tokens"]},
            {
                "candidates": [label(c) for c in cands],
                "chosen": label(cands[0]),
                "why": f"{why}; nothing probed",
            },
        )
    else:
        fold, themes = load_folds()
        labels = pd.read_csv(paths.LABELS, keep_default_na=False)[themes].to_numpy(dtype=int)
        texts = load_texts()
        seed = int(settings.get("seed", 0))
        rows = screen_sample(labels, int(settings["rows"]), seed)
        rows = np.arange(len(texts)) if rows is None else rows
        longest = max(cands, key=lambda c: c["max_tokens"])
        lengths = Encoder.from_conf({**cands[0], "max_tokens": longest["max_tokens"]}).word_pieces(
            [texts[i] for i in rows]
        )
        n, cap, cut = budget(lengths, int(settings["max_word_pieces"]), int(settings["min_rows"]))
        if n < len(rows):
            rows = screen_sample(labels, n, seed)

        def encode_within(conf: dict, sample: list[str]) -> np.ndarray:
            return encode({**conf, "max_tokens": min(conf["max_tokens"], cap)} if cap else conf, sample)

        choice, figures = probe(texts, labels, themes, fold, cands, rows, float(settings["min_gain"]), encode_within)
        figures["budget"] = {
            "word_pieces": int(lengths.sum()),
            "max_word_pieces": int(settings["max_word_pieces"]),
            "rows": int(len(rows)),
            "max_tokens": cap,
            "why": cut or "within budget",
        }
        if cut:
            figures["why"] += f" ({cut})"
    figures["seconds"] = round(time.perf_counter() - started, 1)
    write_json(paths.ENCODER_CHOICE, choice)
    write_json(paths.ENCODER_PROBE_METRICS, figures)
    print(f"encoder_probe: {figures['chosen']}: {figures['why']} ({figures['seconds']} s)")


if __name__ == "__main__":
    run_cli(main)
