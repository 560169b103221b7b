"""Copy measured results between their markers.

    python -m bench.readme_results

* README.md ``<!-- results:start -->``: metrics/results.md's table, as `dvc repro` wrote it;
* docs/benchmarks.md ``<!-- bench:start -->``: an index linking each current result, then
  bench/results/<benchmark>/*.md, as the benchmark scripts wrote them.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def splice(readme: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    return re.sub(f"{start}.*?{end}", lambda _: f"{start}\n{body.strip()}\n{end}", readme, flags=re.S)


def results_body() -> str:
    """The results table and its notes; the recall audit stays in metrics/results.md and report.md."""
    table = (ROOT / "metrics/results.md").read_text()
    table = table.split("\n", 2)[2] if table.startswith("# ") else table
    return table.split("\n## Recall audit", 1)[0]


def bench_body() -> str:
    files = sorted((ROOT / "bench/results").glob("*/*.md"))
    index = ["| benchmark | current results |", "|---|---|"]
    for folder in sorted({f.parent for f in files}):
        links = ", ".join(f"[{f.stem}](../bench/results/{folder.name}/{f.name})" for f in files if f.parent == folder)
        index.append(f"| `bench.{folder.name}` | {links} |")
    return "\n".join(index) + "\n\n" + "\n\n".join(p.read_text().strip() for p in files)


if __name__ == "__main__":
    readme, bench = ROOT / "README.md", ROOT / "docs/benchmarks.md"
    readme.write_text(splice(readme.read_text(), "results", results_body()))
    bench.write_text(splice(bench.read_text(), "bench", bench_body()))
    print("README.md updated from metrics/results.md, docs/benchmarks.md from bench/results/*/*.md")
