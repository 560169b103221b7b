"""A throw-away PostgreSQL server on loopback, for tests of distributed tuning.

Uses Debian's server binaries (installed by .ci/run). PostgreSQL refuses to run as root, so
when the tests run as root the server runs as the `postgres` user that Debian's package makes.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return hits[-1] if hits else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, password: str | None = None):
        self.password = password  # with one, the server asks for it (scram-sha-256); without, trust
        self.initdb, self.pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        # not under pytest's tmp_path: as root, that is a 0700 folder the postgres user cannot enter
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.data = self.root / "pgdata"
        self.port = free_port()
        # runuser lives in /usr/sbin, which a non-login shell's PATH may leave out
        runuser = shutil.which("runuser") or next(
            (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.access(p, os.X_OK)), None
        )
        self.as_user = [runuser, "-u", "postgres", "--"] if os.geteuid() == 0 and runuser else []
        self.needs_runuser = os.geteuid() == 0 and runuser is None

    @property
    def available(self) -> bool:
        return bool(self.initdb and self.pg_ctl) and not self.needs_runuser

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self.as_user, *args], capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {proc.stdout}{proc.stderr}")

    def start(self) -> str:
        if self.as_user:
            shutil.chown(self.root, "postgres")
        auth = ["--auth=trust"]
        if self.password:
            pwfile = self.root / "pw"
            pwfile.write_text(self.password + "\n")
            if self.as_user:
                shutil.chown(pwfile, "postgres")
            auth = ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        self._run(self.initdb, "-D", str(self.data), "-U", "postgres", *auth, "-E", "UTF8")
        opts = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root}"
        self._run(self.pg_ctl, "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"
        deadline = time.time() + 30
        import sqlalchemy

        while True:
            try:
                args = {"password": self.password} if self.password else {}
                sqlalchemy.create_engine(url, connect_args=args).connect().close()
                return url
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(self.root, ignore_errors=True)


def running_server(password: str | None = None):
    """Yield the URL of a throw-away server (for a pytest fixture); skip, or fail under CI, without binaries."""
    import pytest

    server = Postgres(password=password)
    if not server.available:
        why = (
            "runuser not found (as root the server runs as the postgres user); install util-linux"
            if server.needs_runuser
            else "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql package"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{why} (.ci/run installs the server package)")
        pytest.skip(why)
    url = server.start()
    yield url
    server.stop()
