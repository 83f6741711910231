"""`modelledger serve`: the server on its embedded defaults, or on POSTGRES_* if set."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from cli.main import app
from storage.database import DEFAULT_DATA_DIR, database_from_environment

if TYPE_CHECKING:
    from runtime import Runtime


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    data_dir: Path = typer.Option(
        DEFAULT_DATA_DIR,
        help="Embedded database directory; asset files go to its assets/ unless MODELLEDGER_MEDIA_ROOT says otherwise.",
    ),
) -> None:
    """Run the server: the web app at /, GraphQL (and GraphiQL) at /graphql."""
    import uvicorn

    from runtime import open_runtime
    from server import Settings, create_app, freeze_long_lived_objects

    # uvicorn shuts down gracefully on SIGTERM (what docker and systemd send), then raises
    # the signal again under the handler it found. The default one would end the process
    # on the spot, skipping the `finally` below and the exit hooks that stop the embedded
    # PostgreSQL; this one leaves through both, at any point of the start too.
    signal.signal(signal.SIGTERM, _leave)
    runtime = open_runtime(database_from_environment(data_dir))
    try:
        _introduce(runtime, data_dir, host, port)
        app = create_app(runtime, Settings.from_environment(data_dir))
        freeze_long_lived_objects()
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        runtime.close()


def _introduce(runtime: Runtime, data_dir: Path, host: str, port: int) -> None:
    """What a user needs first: the first API key (once), the address, where files go."""
    from cli.api_keys import ensure_first_key
    from server import Settings

    first = ensure_first_key(runtime.app)
    if first is not None:
        typer.echo("A first read-write API key was created. It is shown only this once:")
        typer.echo(first)
    else:
        where = "" if data_dir == DEFAULT_DATA_DIR else f" --data-dir {data_dir}"
        typer.echo(
            "API keys: the first one was shown at the first start; make another with "
            f"`modelledger api-key create --name NAME{where}` (add --read-only for a viewer)"
        )
    media_root = Settings.from_environment(data_dir).assets.media_root
    typer.echo(f"ModelLedger at http://{host}:{port}/ (the web app; GraphQL and GraphiQL at /graphql)")
    typer.echo(
        f"Asset files under {media_root.resolve()}"
        if media_root is not None
        else "Asset files are off: set MODELLEDGER_MEDIA_ROOT to a directory every server shares"
    )


def _leave(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)
