"""A Redis of the fault tests' own: a `redis-server` process on a free port with its files in
a temporary directory, which a test may stop and start again without touching the machine's
Redis (or any other test's).

Outside CI a missing `redis-server` skips the test with a message; in CI it fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.conftest import IN_CI

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One redis-server: keeps nothing on disk, so a stop loses what was queued."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            message = "redis-server is not installed"
            if IN_CI:
                pytest.fail(message + "; CI must run the fault tests against a real Redis")
            pytest.skip(message + "; the fault tests are skipped outside CI only")
        self.binary = binary
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host=HOST, port=self.port, socket_timeout=2, socket_connect_timeout=2)

    def reachable(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        """Starts it (again, on the same port) and waits until it answers."""
        if self.process is not None and self.process.poll() is None:
            return
        command = [
            self.binary, "--bind", HOST, "--port", str(self.port), "--save", "", "--appendonly", "no",
            "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while not self.reachable():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (
                    (self.dir / "redis.log").read_text(errors="replace")[-2000:]
                    if (self.dir / "redis.log").exists()
                    else ""
                )
                raise RuntimeError(f"redis-server did not start on port {self.port}: {log}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stops it at once; what it held is gone."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=30)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def running_redis() -> Iterator[RedisServer]:
    """A RedisServer of the caller's own, started, and closed (its files removed) after."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()
