"""A page as a person sees it: headless Chromium, with no network, gives the DOM after its scripts ran."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    return next((found for name in CHROMIUM if (found := shutil.which(name))), None)


def rendered_dom(page: Path, budget_ms: int = 20000) -> str:
    """The page's DOM once its scripts have run, loaded from disk with the network cut: in a network
    namespace of its own where ``unshare -n`` works (root), and with every host name unresolvable."""
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError("Chromium not found; install Debian's chromium package")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={budget_ms}",
            "--dump-dom",
            page.resolve().as_uri(),
        ]
        if os.geteuid() == 0 and shutil.which("unshare"):
            probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
            if probe.returncode == 0:
                cmd = ["unshare", "-n", *cmd]
        proc = subprocess.run(cmd, capture_output=True, timeout=180)
    if proc.returncode != 0:
        raise AssertionError(f"{browser} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
    return proc.stdout.decode("utf-8")
