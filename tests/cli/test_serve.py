"""`modelledger serve` on a fresh data directory, started twice, as a new user meets it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.server.live import free_port


def first_lines(data_dir: Path) -> tuple[list[str], str]:
    """The lines `serve` prints until it says where it listens, and what it wrote to stderr,
    after it was sent SIGTERM (as docker and systemd stop it) and left with its embedded
    PostgreSQL stopped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_") and k != "XDG_RUNTIME_DIR"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--data-dir", str(data_dir), "--port", str(free_port())],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**env, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Asset files"):
                break
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    # pg_ctl stop removes the postmaster's pid file once the server is down.
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "the embedded PostgreSQL still runs"
    return lines, stderr


def test_the_first_start_shows_a_key_and_a_restart_says_how_to_make_one(tmp_path: Path) -> None:
    first, first_errors = first_lines(tmp_path / "data")
    keys = [line for line in first if line.startswith("mlk_")]
    assert len(keys) == 1, first
    assert any(line.startswith("ModelLedger at http://127.0.0.1:") for line in first)

    again, again_errors = first_lines(tmp_path / "data")
    assert not any(line.startswith("mlk_") for line in again), again
    assert any("modelledger api-key create --name NAME --data-dir" in line for line in again), again
    # No internal warning (such as one about the runtime directory) reaches the console.
    for errors in (first_errors, again_errors):
        assert "Warning" not in errors, errors
