"""`modelledger worker`: dramatiq workers (and a sweeper) on the Redis broker of REDIS_URL."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

import typer

from cli.main import app
from storage.database import DEFAULT_DATA_DIR, database_from_environment


@app.command()
def worker(
    threads: int = typer.Option(2, help="Worker threads."),
    sweep: bool = typer.Option(True, help="Also re-enqueue unfinished computations (safe on every worker)."),
    data_dir: Path = typer.Option(DEFAULT_DATA_DIR, help="Embedded database directory."),
    imports: list[str] = typer.Option([], "--import", help="Modules that register more computation kinds."),
) -> None:
    """Compute background work (metric matching) from the Redis queue until stopped."""
    from workers.broker import redis_url

    if not redis_url():
        typer.echo("Set REDIS_URL: without it the server runs its workers in process.", err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from workers.in_process import BackgroundWork, WorkSettings
    from workers.services import WorkerServices

    services = WorkerServices.open(database_from_environment(data_dir))
    settings = WorkSettings.from_environment(threads=threads, sweep=sweep, modules=tuple(imports))
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    work = BackgroundWork(services, settings).start()
    typer.echo(f"worker ready: {threads} thread(s)", err=True)
    try:
        stopped.wait()
    finally:
        work.stop()
        services.close()
