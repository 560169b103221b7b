"""Stage package: the bundle's manifest, ``models/bundle.json``: the pickle's SHA-256 and
settings (from train_final) and the chosen thresholds.

Kept apart from train_final so that a threshold change rewrites this small file, never a model.
"""

from __future__ import annotations

from themetag.atomic import read_json
from themetag.errors import run_cli
from themetag.pipeline import paths
from themetag.tagging.manifest import write_manifest


def main() -> None:
    chosen = read_json(paths.THRESHOLDS)["themes"]
    manifest = write_manifest(
        read_json(paths.FINAL_MODELS), {t: c["threshold"] for t, c in chosen.items()}, paths.BUNDLE
    )
    print(f"package: {paths.BUNDLE} ({len(manifest['themes'])} themes, sha256 {manifest['sha256'][:12]}...)")


if __name__ == "__main__":
    run_cli(main)
