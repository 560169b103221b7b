"""Copy measured results into README.md between its markers.

    python -m bench.readme_results

* ``<!-- results:start -->``: metrics/results.md, as `dvc repro` wrote it;
* ``<!-- bench:start -->``: bench/results/*.md, as the benchmark scripts wrote them.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def splice(readme: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    return re.sub(f"{start}.*?{end}", lambda _: f"{start}\n{body.strip()}\n{end}", readme, flags=re.S)


def results_body() -> str:
    table = (ROOT / "metrics/results.md").read_text()
    return table.split("\n", 2)[2] if table.startswith("# ") else table


def bench_body() -> str:
    return "\n\n".join(p.read_text().strip() for p in sorted((ROOT / "bench/results").glob("*.md")))


if __name__ == "__main__":
    readme = ROOT / "README.md"
    text = splice(readme.read_text(), "results", results_body())
    text = splice(text, "bench", bench_body())
    readme.write_text(text)
    print("README.md updated from metrics/results.md and bench/results/*.md")
