"""Persisting the bundle with skops.io (an explicit list of trusted types) against today's
joblib + SHA-256 manifest: size, save and load time, and what each refuses.

    pip install skops && python -m bench.skops_bundle [--bundle models/bundle.joblib] [--repeats 3]

Load times are medians of --repeats runs each, in the same process. Refusals are tried, not
assumed:
* a flipped byte in the bundle file;
* a bundle that carries a foreign object whose unpickling runs code (here it only writes a
  marker file), saved with a manifest that matches it, as someone who can write both would.
Writes bench/results/skops_bundle/skops_bundle.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.results_path import result_path, with_provenance
from bench.timing import measure_table, median_seconds
from themetag.atomic import write_json, write_text
from themetag.tagging.bundle import DEFAULT_BUNDLE, load_bundle, save_bundle

ROOT = Path(__file__).resolve().parents[1]
TRUSTED = [  # the project's own classes, and scikit-learn's tree structure (not on skops' default list here)
    "sklearn.tree._tree.Tree",
    "themetag.tagging.bundle.ThemeTagger",
    "themetag.features.encoder.Encoder",
    "themetag.features.featurizers.FittedConcat",
    "themetag.features.featurizers.FittedEncoder",
    "themetag.features.featurizers.FittedTfidf",
]


class Payload:
    """Unpickling this runs os.system: what a hostile bundle would do."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def outcome(fn) -> str:
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - the refusal is what is measured
        return f"refused: {type(err).__name__}: {str(err).splitlines()[0][:120]}"
    return "loaded"


def main(argv: list[str]) -> None:
    import skops
    import skops.io as sio

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / DEFAULT_BUNDLE)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    tagger = load_bundle(args.bundle)
    texts = pd.read_csv(ROOT / "data/test.csv", keep_default_na=False)["Processed Text"].tolist()[:200]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        jb, sk = tmp / "bundle.joblib", tmp / "bundle.skops"
        start = time.perf_counter()
        save_bundle(tagger, jb)
        save_joblib = time.perf_counter() - start
        start = time.perf_counter()
        sio.dump(tagger, sk)
        save_skops = time.perf_counter() - start
        untrusted = sio.get_untrusted_types(file=sk)
        load_joblib = median_seconds(lambda: load_bundle(jb), args.repeats)
        load_skops = median_seconds(lambda: sio.load(sk, trusted=TRUSTED), args.repeats)
        same = bool((sio.load(sk, trusted=TRUSTED).scores(texts).values == tagger.scores(texts).values).all())

        flipped = {}
        for name, path, load in (
            ("joblib + manifest", jb, lambda p: load_bundle(p)),
            ("skops, trusted list", sk, lambda p: sio.load(p, trusted=TRUSTED)),
        ):
            bad = tmp / f"flipped{path.suffix}"
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0xFF
            bad.write_bytes(bytes(data))
            if path.suffix == ".joblib":
                bad.with_suffix(".json").write_text(jb.with_suffix(".json").read_text())
            flipped[name] = outcome(lambda bad=bad, load=load: load(bad))

        marker = tmp / "payload-ran"
        hostile = tmp / "hostile.joblib"
        tagger.payload = Payload(str(marker))  # an extra attribute: saved with the bundle
        save_bundle(tagger, hostile)  # the manifest matches: whoever wrote the file wrote both
        joblib_hostile = outcome(lambda: load_bundle(hostile)) + ("; the payload ran" if marker.exists() else "")
        marker.unlink(missing_ok=True)
        hostile_skops = tmp / "hostile.skops"
        try:
            sio.dump(tagger, hostile_skops)
            skops_hostile = outcome(lambda: sio.load(hostile_skops, trusted=TRUSTED))
        except Exception as err:  # noqa: BLE001
            skops_hostile = f"not even saved: {type(err).__name__}"
        skops_hostile += "; the payload ran" if marker.exists() else ""
        del tagger.payload
        sizes = {"joblib": jb.stat().st_size / 2**20, "skops": sk.stat().st_size / 2**20}

    result = {
        "bundle": str(args.bundle),
        "skops_version": skops.__version__,
        "types_to_trust": untrusted,
        "size_mb": sizes,
        "save_seconds": {"joblib": save_joblib, "skops": save_skops},
        "load_seconds_median": {"joblib": load_joblib, "skops": load_skops},
        "load_ratio_skops_to_joblib": load_skops / load_joblib,
        "same_scores_after_skops_round_trip": same,
        "flipped_byte": flipped,
        "hostile_object_with_matching_manifest": {"joblib + manifest": joblib_hostile, "skops": skops_hostile},
    }
    write_json(result_path("skops_bundle", "skops_bundle.json"), result)
    rows = [
        ["skops version", skops.__version__],
        ["types to trust beyond skops' defaults", ", ".join(untrusted)],
        ["size (MB), joblib / skops", f"{sizes['joblib']:.1f} / {sizes['skops']:.1f}"],
        ["save (s), joblib / skops", f"{save_joblib:.1f} / {save_skops:.1f}"],
        [f"load (s, median of {args.repeats}), joblib / skops", f"{load_joblib:.2f} / {load_skops:.2f}"],
        ["skops load / joblib load", f"{load_skops / load_joblib:.1f}x"],
        ["same scores after a skops round trip", str(same)],
        ["flipped byte, joblib + manifest", flipped["joblib + manifest"]],
        ["flipped byte, skops", flipped["skops, trusted list"]],
        ["hostile object, matching manifest, joblib", joblib_hostile],
        ["hostile object, skops", skops_hostile],
    ]
    markdown = measure_table(f"Bundle persistence: joblib + manifest against skops.io ({args.bundle.name})", rows)
    write_text(result_path("skops_bundle", "skops_bundle.md"), with_provenance("skops_bundle", markdown))
    print(markdown)


if __name__ == "__main__":
    main(sys.argv[1:])
