"""Copy metrics/results.md (as `dvc repro` wrote it) into README.md between its results markers.

python -m bench.readme_results
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:start -->", "<!-- results:end -->"


def splice(readme: str, table: str) -> str:
    body = table.split("\n", 2)[2].strip() if table.startswith("# ") else table.strip()
    return re.sub(f"{START}.*?{END}", f"{START}\n{body}\n{END}", readme, flags=re.S)


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(splice(readme.read_text(), (ROOT / "metrics/results.md").read_text()))
    print("README.md results table updated from metrics/results.md")
