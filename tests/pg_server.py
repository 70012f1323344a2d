"""A throwaway PostgreSQL 15 server for the tests: initdb into a temporary directory,
pg_ctl start on 127.0.0.1 with a free port, stop and delete afterwards.

PostgreSQL refuses to run as root, so when the tests run as root (CI here) the server
commands run as the `postgres` system user that Debian's package creates.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

PG_USER = "postgres"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for version_dir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (version_dir / name).exists():
            return str(version_dir / name)
    raise RuntimeError(f"{name} not found: install PostgreSQL 15 (Debian package postgresql)")


class PostgresServer:
    def __init__(self, root: Path, durable: bool = False):
        self.root = root
        self.data_dir = root / "data"
        self.socket_dir = root / "sock"
        self.port = _free_port()
        self.password = "pe-test-secret"
        self.as_root = os.geteuid() == 0
        # Tests skip fsync for speed; bench/ keeps it, as a production server would.
        self.durable = durable

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", PG_USER, "--"] if self.as_root else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, text=True)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.as_root:
            entry = pwd.getpwnam(PG_USER)
            for path in (self.root, self.socket_dir, pwfile):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            _pg_bin("initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            PG_USER,
            "-A",
            "scram-sha-256",
            "--pwfile",
            str(pwfile),
            "-E",
            "UTF8",
            "--locale",
            "C",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.socket_dir} "
            f"-c fsync={'on' if self.durable else 'off'} "
            "-c max_connections=50"
        )
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "-l",
            str(self.root / "server.log"),
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{PG_USER}:{self.password}@127.0.0.1:{self.port}/{database}"


@contextmanager
def postgres_server(durable: bool = False):
    root = Path(tempfile.mkdtemp(prefix="pe-pg-"))
    os.chmod(root, 0o755)
    server = PostgresServer(root / "pg", durable=durable)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def create_platform_databases(server: PostgresServer, ddl: str) -> None:
    """`runtime` and `historical`, each with the platform's DDL."""
    import psycopg

    with psycopg.connect(server.url(), autocommit=True) as con:
        con.execute("create database runtime")
        con.execute("create database historical")
    for database in ("runtime", "historical"):
        with psycopg.connect(server.url(database), autocommit=True) as con:
            con.execute(ddl)


def load_reports(server: PostgresServer, duckdb_file: Path, extension_dir: Path) -> None:
    """Copy main.portfolio_risk_reports of a DuckDB file into runtime, through DuckDB."""
    import duckdb

    config = {"extension_directory": str(extension_dir), "autoinstall_known_extensions": False}
    with duckdb.connect(str(duckdb_file), config=config) as con:
        con.execute(f"attach '{server.url('runtime')}' as runtime (type postgres)")
        con.execute(
            "insert into runtime.public.portfolio_risk_reports "
            "select * from main.portfolio_risk_reports"
        )
