"""Real processes for the fault tests: `modelledger serve` and `modelledger worker` on one
database, an API key made on the command line, and an upload sent (with its
Idempotency-Key) until a server answers it for good."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from storage.database import Database
from tests.server.live import free_port

REPO = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "modelledger"
# The installed command when there is one (make install), else the same entry point.
MODELLEDGER = (
    [str(SCRIPT)]
    if SCRIPT.exists()
    else [sys.executable, "-c", "import sys; from cli.main import app; sys.exit(app())"]
)
# Answers after which the same request is sent again: 409 (the server had not caught up, or
# a read model it checks against is stopped; nothing recorded), 502 and 503 (a proxy or a
# server going away). A lost answer (no answer at all) is sent again too.
RETRIED = (409, 502, 503)


def api_key(database: Database, name: str) -> str:
    """A new read-write key, made with `python -m cli api-key create` on the database."""
    made = subprocess.run(
        [sys.executable, "-m", "cli", "api-key", "create", "--name", name],
        env={**os.environ, **database.settings}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return made.stdout.strip()


def replay_verify(database: Database) -> None:
    """`python -m cli replay --verify` on the database exits 0: every read model equals a
    rebuild from the event log."""
    verified = subprocess.run(
        [sys.executable, "-m", "cli", "replay", "--verify"],
        env={**os.environ, **database.settings}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr


def _stop(process: subprocess.Popen[bytes], seconds: float) -> None:
    """SIGTERM, then SIGKILL if it has not left after `seconds`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ServerProcess:
    """`python -m cli serve` on a free port, on the database, with `env` added."""

    def __init__(
        self, database: Database, env: dict[str, str] | None = None, log: Path | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = {**os.environ, **database.settings, "PYTHONUNBUFFERED": "1", **(env or {})}
        with log.open("ab") if log is not None else open(os.devnull, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "cli", "serve", "--port", str(self.port)],
                cwd=REPO, env=settings, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, f"the server exited with {self.proc.returncode}"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        _stop(self.proc, 30)


class WorkerProcess:
    """`modelledger worker --threads 1 --import <module>` on the database and the Redis of
    `redis_url`, sweeping often, its output appended to `log`."""

    def __init__(
        self,
        database: Database,
        redis_url: str,
        module: str,
        log: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        settings = {
            **os.environ,
            **database.settings,
            "REDIS_URL": redis_url,
            "PYTHONPATH": str(REPO),
            "MODELLEDGER_SWEEP_POLL_SECONDS": "0.2",
            "MODELLEDGER_SWEEP_STALE_SECONDS": "3",
            "MODELLEDGER_TEST_CHUNK_SECONDS": "1.0",
            **(env or {}),
        }
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*MODELLEDGER, "worker", "--threads", "1", "--import", module],
                cwd=REPO, env=settings, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        _stop(self.process, 60)


def post_until_answered(
    urls: Sequence[str],
    path: str,
    body: bytes,
    headers: dict[str, str],
    first: int = 0,
    seconds: float = 120,
) -> httpx.Response:
    """Posts the upload to `urls[first]`; on a lost answer or a RETRIED status sends the same
    request (the headers carry its Idempotency-Key) to the next server, in turn, until one
    answers otherwise: that answer (200 when recorded)."""
    attempt = first
    deadline = time.monotonic() + seconds
    while True:
        url = urls[attempt % len(urls)]
        attempt += 1
        try:
            answer = httpx.post(url + path, content=body, headers=headers, timeout=60)
        except httpx.HTTPError:
            answer = None  # the answer is lost: send the same request again
        if answer is not None and answer.status_code not in RETRIED:
            return answer
        assert time.monotonic() < deadline, (
            f"an upload to {path} was not answered for good in {seconds} s"
        )
        time.sleep(0.2)
