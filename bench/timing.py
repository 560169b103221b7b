"""Wall-clock timing for the benchmarks: the median of several runs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_table(title: str, rows: list[list[str]]) -> str:
    """A benchmark's results as a markdown section: a heading and a measure / value table."""
    from tabulate import tabulate

    return f"### {title}\n\n" + tabulate(rows, ["measure", "value"], tablefmt="github") + "\n"


def tree_rss_mb(root_pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (Linux /proc)."""
    import os

    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))  # fields[1]: parent pid
        rss[int(entry)] = int(fields[21])  # resident pages
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def staged_run(cmd: list[str], cwd, env: dict) -> tuple[float, dict[str, float], float, str]:
    """Run ``dvc repro`` (or any command printing DVC's ``Running stage 'X'`` lines): total
    seconds, seconds per stage (from one such line to the next), the peak memory of the whole
    process tree in MB (sampled every 0.5 s: all parallel workers together), and the output."""
    import subprocess
    import threading

    from harness.dvc_repo import STAGE_LINE

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0.0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stages: dict[str, float] = {}
    current, since, lines = None, start, []
    for line in proc.stdout:
        lines.append(line)
        found = STAGE_LINE.search(line)
        if found:
            now = time.perf_counter()
            if current:
                stages[current] = now - since
            current, since = found.group(1), now
    proc.wait()
    end = time.perf_counter()
    if current:
        stages[current] = end - since
    sampler.join()
    output = "".join(lines)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-5000:]}")
    return end - start, stages, peak[0], output
