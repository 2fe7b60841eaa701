"""A throw-away PostgreSQL server from Debian's packages, for the tests (as the broker is).

``LocalPostgres(home, port).up()`` runs ``initdb`` into ``home/data`` (trust
authentication, loopback only, user ``unionhub``) once, then ``pg_ctl start`` on
``127.0.0.1:port`` with its socket and log in ``home``; ``down()`` stops it
(``pg_ctl stop -m fast``). PostgreSQL refuses to run as root, so as root both
run as the ``postgres`` system user the Debian package creates (through
``runuser``), owning ``home``. Missing binaries fail at once, naming the package.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from core.errors import UnionhubError

USER = "unionhub"
DEBIAN_PACKAGE = "postgresql"


class PostgresSetupError(UnionhubError):
    """The local PostgreSQL server could not be set up or started; the message says why."""


def find_binary(name: str) -> str:
    """The path of a PostgreSQL server binary (PATH, else Debian's versioned directory)."""
    found = shutil.which(name)
    if found is not None:
        return found
    candidates = sorted(
        Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise PostgresSetupError(
            f"{name} not found: install Debian's {DEBIAN_PACKAGE} package "
            "(make system-deps, or apt-get install postgresql)"
        )
    return str(candidates[-1])


@dataclass
class LocalPostgres:
    """One local server: its directory and port, started and stopped by the caller."""

    home: Path
    port: int
    host: str = "127.0.0.1"

    @property
    def data_dir(self) -> Path:
        """Where initdb put the cluster."""
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        """The server's own log."""
        return self.home / "server.log"

    @property
    def dsn(self) -> str:
        """A libpq connection string for the test user's database."""
        return f"host={self.host} port={self.port} user={USER} dbname=postgres"

    def _argv(self, *argv: str) -> list[str]:
        if os.geteuid() != 0:
            return list(argv)
        runuser = shutil.which("runuser")
        if runuser is None:
            raise PostgresSetupError(
                "running as root needs runuser (util-linux) to drop to postgres"
            )
        return [runuser, "-u", "postgres", "--", *argv]

    def _run(self, *argv: str) -> None:
        result = subprocess.run(  # noqa: S603 - fixed argv, no shell
            self._argv(*argv), capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            tail = (result.stdout + result.stderr).strip().splitlines()[-5:]
            raise PostgresSetupError(f"{Path(argv[0]).name} failed: " + " | ".join(tail))

    def _own(self) -> None:
        """As root, hand ``home`` to the postgres user (the server insists)."""
        if os.geteuid() != 0:
            return
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresSetupError(
                f"no postgres user: install Debian's {DEBIAN_PACKAGE} package"
            ) from None
        for path in [self.home, *self.home.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)

    def up(self) -> None:
        """Initialise the cluster if needed and start the server; returns once it accepts."""
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        self.home.mkdir(parents=True, exist_ok=True)
        self._own()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                initdb, "-D", str(self.data_dir), "-U", USER, "-A", "trust",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
        options = (
            f"-c listen_addresses={self.host} -p {self.port} -k {self.home} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            pg_ctl, "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def down(self) -> None:
        """Stop the server (fast shutdown); nothing when it is not running."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        self._run(find_binary("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
