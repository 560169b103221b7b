"""``model: auto``: the encoder probe's rule, the resolution of ``auto``, the fetch's one-line
errors, and the probe as a DVC stage (two lengths of the built-in encoder: no download)."""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from harness.dvc_repo import DvcRepo
from themetag.errors import InputError
from themetag.features.encoder_choice import candidate_confs, listed_auto, models_needed
from themetag.features.encoder_probe import MIN_POSITIVES, budget, decide, gain, probe, themes_ap
from themetag.features.encoder_source import SOURCES, cache_root, default_cache, fetch
from themetag.pipeline.params import load_params, resolve_auto
from themetag.reporting.encoder_note import encoder_section
from themetag.reporting.report_page import changed_choices

MINI = {"model": "all-MiniLM-L6-v2", "max_tokens": 256}
MPNET = {"model": "all-mpnet-base-v2", "max_tokens": 384}


def params_with(spaces: list[str], model: str = "auto") -> dict:
    emb = {"kind": "embeddings", "model": model, "max_tokens": 256, "batch_size": 32, "device": "cpu"}
    return {
        "models": {"spaces": spaces},
        "features": {
            "tfidf": {"kind": "tfidf"},
            "embeddings": emb,
            "tfidf_embeddings": {"kind": "concat", "parts": {"tfidf": {"kind": "tfidf"}, "embeddings": dict(emb)}},
            "mpnet": {"kind": "embeddings", **MPNET, "batch_size": 32, "device": "cpu"},
        },
        "encoder_probe": {"candidates": [MINI, MPNET]},
    }


def test_a_gain_pays_only_when_large_enough_and_shared_by_the_themes():
    steady = gain([0.5, 0.6, 0.7, 0.4], [0.56, 0.67, 0.75, 0.47])
    assert steady["themes"] == 4 and steady["mean"] == pytest.approx(0.0625) and steady["lower"] > 0
    assert decide({"b": steady}, 0.02)[0] == "b"
    assert decide({"b": steady}, 0.07)[0] is None  # below min_gain
    # the same mean, made by one theme and undone by others: the lower bound is below 0
    lumpy = gain([0.5, 0.6, 0.7, 0.4], [0.9, 0.55, 0.65, 0.33])
    assert lumpy["mean"] == pytest.approx(0.0575) and lumpy["lower"] < 0
    chosen, why = decide({"b": lumpy}, 0.02)
    assert chosen is None and "lower bound" in why
    # themes that cannot vote (NaN) are left out; none at all keeps the first candidate
    assert gain([math.nan, 0.5], [0.9, 0.6])["themes"] == 1
    none = gain([math.nan], [math.nan])
    assert none["mean"] is None and decide({"b": none}, 0.02)[0] is None
    # of two paying candidates, the larger mean gain wins
    assert decide({"b": steady, "c": gain([0.5, 0.6, 0.7, 0.4], [0.6, 0.7, 0.8, 0.5])}, 0.02)[0] == "c"


def test_the_probe_budget_binds_only_on_long_texts_fewer_rows_first_then_shorter_inputs():
    assert budget(np.full(1000, 31), 40000, 400) == (1000, None, None)  # mams_acsa's 1,000 rows: unchanged
    rows, cap, why = budget(np.full(1000, 60), 40000, 400)
    assert (rows, cap) == (666, None) and "probed on 666 rows" in why
    rows, cap, why = budget(np.full(1000, 250), 40000, 400)  # abstracts: 400 rows of 100 word pieces
    assert (rows, cap) == (400, 100) and "each input cut to 100 word pieces" in why
    assert rows * cap <= 40000


def test_themes_ap_is_out_of_fold_and_a_rare_theme_does_not_vote():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(40, int), np.zeros(160, int)]
    fold = np.arange(200) % 5
    signal = np.c_[y + rng.normal(0, 0.3, 200), rng.normal(size=(200, 3))]
    noise = rng.normal(size=(200, 40))  # as many columns as a fold's positives: fits them, ranks nothing
    rare = np.zeros(200, int)
    rare[: MIN_POSITIVES - 1] = 1
    one_fold = np.zeros(200, int)
    one_fold[fold == 0] = 1  # every positive in one fold: that fold's training rows have none
    labels = np.c_[y, rare, one_fold]
    good, too_rare, unlearnable = themes_ap(signal, labels, fold)
    assert good > 0.85 and math.isnan(too_rare) and math.isnan(unlearnable)
    assert themes_ap(noise, labels, fold)[0] < 0.45  # chance is 0.2: no leak of the validation rows


def test_probe_picks_the_candidate_whose_vectors_carry_the_themes():
    rng = np.random.default_rng(1)
    n, themes = 300, ["a", "b", "c"]
    labels = (rng.random((n, 3)) < 0.25).astype(int)
    texts = [str(i) for i in range(n)]

    def encode(conf, sample):
        rows = np.array([int(t) for t in sample])
        if conf["max_tokens"] == 8:  # the weak candidate: noise
            return rng.normal(size=(len(rows), 6))
        return np.c_[labels[rows] + rng.normal(0, 0.6, (len(rows), 3)), rng.normal(size=(len(rows), 3))]

    weak, strong = {"model": "m", "max_tokens": 8}, {"model": "m", "max_tokens": 64}
    choice, figures = probe(texts, labels, themes, np.arange(n) % 5, [weak, strong], np.arange(n), 0.02, encode)
    assert choice == {"model": "m", "max_tokens": 64} and figures["chosen"] == "m@64"
    assert set(figures["themes"]) == set(themes) and figures["gain"]["m@64"]["lower"] > 0
    choice, figures = probe(texts, labels, themes, np.arange(n) % 5, [strong, weak], np.arange(n), 0.02, encode)
    assert choice["max_tokens"] == 64 and "no candidate gains" in figures["why"]  # the first stays


def test_auto_is_replaced_everywhere_by_the_choice_and_only_there(tmp_path, monkeypatch):
    params = params_with(["tfidf", "tfidf_embeddings"])
    assert listed_auto(params)["model"] == "auto"
    assert listed_auto(params_with(["tfidf", "mpnet"])) is None
    assert models_needed(params) == ["all-MiniLM-L6-v2", "all-mpnet-base-v2"]
    assert models_needed(params_with(["embeddings"], model="all-MiniLM-L6-v2")) == ["all-MiniLM-L6-v2"]
    assert [c["max_tokens"] for c in candidate_confs(params, listed_auto(params))] == [256, 384]
    out = resolve_auto(params, MPNET)
    assert out["features"]["embeddings"]["model"] == "all-mpnet-base-v2"
    assert out["features"]["tfidf_embeddings"]["parts"]["embeddings"]["max_tokens"] == 384
    assert params["features"]["embeddings"]["model"] == "auto"  # a copy
    fixed = params_with(["embeddings"], model="all-MiniLM-L6-v2")
    assert resolve_auto(fixed, MPNET) is fixed
    # load_params resolves from artifacts/encoder_choice.json once it exists, and not before
    monkeypatch.chdir(tmp_path)
    Path("params.yaml").write_text(yaml.safe_dump(params))
    assert load_params()["features"]["embeddings"]["model"] == "auto"
    Path("artifacts").mkdir()
    Path("artifacts/encoder_choice.json").write_text(json.dumps(MPNET))
    assert load_params()["features"]["embeddings"]["model"] == "all-mpnet-base-v2"
    assert load_params(resolve=False)["features"]["embeddings"]["model"] == "auto"


def test_a_malformed_candidate_is_one_line_that_shows_the_form():
    params = params_with(["embeddings"])
    for bad in (["all-MiniLM-L6-v2"], [{"model": "all-MiniLM-L6-v2"}], [MINI, {"model": "x", "max_tokens": "long"}]):
        params["encoder_probe"]["candidates"] = bad
        with pytest.raises(
            InputError, match=r"encoder_probe.candidates\[\d\] is .*\{model: all-MiniLM-L6-v2, max_tokens: 256\}"
        ):
            candidate_confs(params, listed_auto(params))


def test_an_unresolved_auto_says_to_run_the_probe():
    from themetag.features.encoder import Encoder

    with pytest.raises(InputError, match=r"model=auto: .*dvc repro encoder_probe"):
        Encoder("auto")


def test_the_weights_cache_is_outside_the_project(monkeypatch, tmp_path):
    monkeypatch.delenv("THEMETAG_ENCODER_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache() == tmp_path / "xdg/themetag/encoders" == cache_root(None)
    monkeypatch.setenv("THEMETAG_ENCODER_CACHE", str(tmp_path / "mine"))
    assert cache_root(None) == tmp_path / "mine" and cache_root("elsewhere") == Path("elsewhere")


def test_offline_fetch_stops_in_one_line_that_says_how_to_provide_the_files(monkeypatch, tmp_path):
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens: offline
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    with pytest.raises(InputError) as err:
        fetch("all-mpnet-base-v2", tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and "part 1/5" in msg
    assert f"{tmp_path / 'all-mpnet-base-v2' / 'model'}/" in msg and "model.safetensors" in msg
    assert "features.embeddings.model=all-MiniLM-L6-v2" in msg
    assert len(SOURCES["all-mpnet-base-v2"].packages) == 5


def test_the_report_says_which_encoder_each_theme_uses_and_why():
    probe_figures = {
        "rows": 1000,
        "candidates": ["a@256", "b@384"],
        "chosen": "b@384",
        "why": "mean average precision +0.067 over 2 themes",
        "themes": {"x": {"a@256": 0.5, "b@384": 0.6}, "y": {"a@256": None, "b@384": None}},
    }
    lines = "\n".join(encoder_section({"x": "b@384", "y": "none"}, {"x": "embeddings", "y": "tfidf"}, probe_figures))
    assert "uses **b@384**, chosen by the encoder_probe stage on 1000 sampled training rows" in lines
    assert re.search(r"\| x\s+\| embeddings\s+\| b@384\s+\|\s+0.500\s+\|\s+0.600\s+\|", lines)
    assert re.search(r"\| y\s+\| tfidf\s+\| none\s+\|\s+-\s+\|\s+-\s+\|", lines)
    before = {"cv": {"themes": {"x": {"model": "logreg", "space": "embeddings", "encoder": "a@256"}}}}
    after = {"cv": {"themes": {"x": {"model": "logreg", "space": "embeddings", "encoder": "b@384"}}}}
    assert changed_choices(before, after) == ["x: logreg on embeddings (a@256) → logreg on embeddings (b@384)"]
    unrecorded = {"cv": {"themes": {"x": {"model": "logreg", "space": "embeddings"}}}}
    assert changed_choices(unrecorded, after) == []  # a run from before encoders were recorded


@pytest.mark.skipif(sys.platform == "win32", reason="dvc in a temporary git repository")
def test_the_probe_stage_chooses_reruns_alone_and_the_bundle_carries_the_choice(tmp_path):
    # two lengths of the built-in encoder: 4 word pieces keep almost nothing of a review
    short = "{model: all-MiniLM-L6-v2, max_tokens: 4}"
    repo = DvcRepo(
        tmp_path / "p",
        train_rows=500,
        test_rows=60,
        # one family: the probe runs before any candidate, and the bundle needs only one on embeddings
        overrides=[
            f"encoder_probe.candidates=[{short}, {{model: all-MiniLM-L6-v2, max_tokens: 256}}]",
            "models.families=[logreg]",
        ],
    )
    ran = repo.repro()
    assert ran.index("encoder_probe") < ran.index("embed")
    choice = json.loads((repo.path / "artifacts/encoder_choice.json").read_text())
    assert choice == {"model": "all-MiniLM-L6-v2", "max_tokens": 256}
    figures = json.loads((repo.path / "metrics/encoder_probe.json").read_text())
    assert figures["chosen"] == "all-MiniLM-L6-v2@256" and figures["rows"] == 500
    assert figures["gain"]["all-MiniLM-L6-v2@256"]["lower"] > 0.02
    manifest = json.loads((repo.path / "models/bundle.json").read_text())
    assert {e["max_tokens"] for e in manifest["encoders"]} <= {256}
    assert "chosen by the encoder_probe stage" in (repo.path / "metrics/report.md").read_text()
    assert "chosen by the encoder_probe stage" in (repo.path / "models/bundle.md").read_text()
    repo.commit("trained")
    # a smaller sample that reaches the same choice reruns nothing that trains (expand_labels
    # reads the composed config, and writes the same labels)
    repo.edit("conf/config.yaml", "rows: 1000", "rows: 400")
    ran = repo.repro()
    assert set(ran) <= {"compose", "expand_labels", "encoder_probe", "evaluate", "report"} and "encoder_probe" in ran
    assert json.loads((repo.path / "artifacts/encoder_choice.json").read_text()) == choice
