"""Stage package: put the final models and the chosen thresholds into one verified bundle.

Kept apart from train_final so that a threshold change re-packages in a second, not refits.
"""

from __future__ import annotations

import joblib

from themetag.atomic import read_json
from themetag.errors import run_cli
from themetag.pipeline import paths
from themetag.pipeline.params import load_params
from themetag.tagging.bundle import ThemeTagger, save_bundle


def main() -> None:
    final = joblib.load(paths.FINAL_MODELS)
    chosen = read_json(paths.THRESHOLDS)["themes"]
    tagger = ThemeTagger(
        final["featurizers"],
        final["models"],
        {t: chosen[t]["threshold"] for t in final["themes"]},
        final["families"],
        final["spaces"],
        load_params()["data"]["text_column"],
        final["mode"],
    )
    manifest = save_bundle(tagger, paths.BUNDLE)
    print(f"package: {paths.BUNDLE} ({len(tagger.themes)} themes, sha256 {manifest['sha256'][:12]}...)")


if __name__ == "__main__":
    run_cli(main)
