"""The server `modelledger demo --serve` loads into: the embedded one `modelledger serve`
starts, run in a thread so that the demo can load into it and it keeps serving afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from runtime import open_runtime
from server import Settings, create_app
from storage.database import database_from_environment

STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class EmbeddedServer:
    url: str
    api_key: str
    thread: threading.Thread

    def serve_until_stopped(self) -> None:
        """Block until the server stops; joining in short steps lets Ctrl-C through."""
        while self.thread.is_alive():
            self.thread.join(0.5)


@contextmanager
def embedded_server(host: str, port: int, data_dir: Path) -> Iterator[EmbeddedServer]:
    """A server on the embedded database of `data_dir` (or POSTGRES_*), with a new
    read-write API key for the demo; stopped when the block ends, Ctrl-C included."""
    runtime = open_runtime(database_from_environment(data_dir))
    try:
        _, api_key = runtime.app.create_api_key(
            name="demo", read_only=False, actor="modelledger demo"
        )
        app = create_app(runtime, Settings.from_environment(data_dir))
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, name="modelledger-demo-server", daemon=True)
        thread.start()
        try:
            _started(server, thread, f"{host}:{port}")
            yield EmbeddedServer(f"http://{host}:{port}", api_key, thread)
        finally:
            server.should_exit = True
            thread.join()
    finally:
        runtime.close()


def _started(server: uvicorn.Server, thread: threading.Thread, address: str) -> None:
    """Wait until uvicorn listens; a thread that ended first could not (the port is taken)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server could not start listening on {address}")
        time.sleep(0.05)
