"""The machine's Redis on 127.0.0.1:6379, for fault tests: reach it, stop it, start it again.

Outside CI an unreachable Redis skips the test with a message; in CI it fails. A test that
stops Redis starts it again exactly as the machine starts it, even when the test fails.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest
import redis

HOST, PORT = "127.0.0.1", 6379
START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", str(PORT),
    "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def client(db: int = 0) -> redis.Redis:
    return redis.Redis(host=HOST, port=PORT, db=db, socket_timeout=2, socket_connect_timeout=2)


def reachable() -> bool:
    try:
        return bool(client().ping())
    except redis.RedisError:
        return False


def require_redis() -> None:
    if reachable():
        return
    message = f"Redis on {HOST}:{PORT} is not reachable"
    if IN_CI:
        pytest.fail(message + "; CI must run the fault tests against it")
    pytest.skip(message + "; the fault tests are skipped outside CI only")


def stop() -> None:
    try:
        client().shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # it closes the connection as it goes
    deadline = time.monotonic() + 30
    while reachable():
        if time.monotonic() > deadline:
            raise RuntimeError("Redis did not stop")
        time.sleep(0.1)


def start() -> None:
    """Start it again as the machine does, and wait until it answers."""
    if reachable():
        return
    subprocess.run(START, check=True, timeout=30)
    deadline = time.monotonic() + 30
    while not reachable():
        if time.monotonic() > deadline:
            raise RuntimeError("Redis did not come back")
        time.sleep(0.1)
