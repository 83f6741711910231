"""`modelledger serve`: the server on its embedded defaults, or on POSTGRES_* if set."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.main import app
from storage.database import DEFAULT_DATA_DIR, database_from_environment


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

    from cli.api_keys import ensure_first_key
    from runtime import open_runtime
    from server import Settings, create_app

    runtime = open_runtime(database_from_environment(data_dir))
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
    settings = Settings.from_environment(data_dir)
    media_root = settings.assets.media_root
    typer.echo(f"ModelLedger at http://{host}:{port}/ (the web app; GraphQL and GraphiQL at /graphql)")
    typer.echo(
        f"Asset files under {media_root.resolve()}"
        if media_root is not None
        else "Asset files are off: set MODELLEDGER_MEDIA_ROOT to a directory every server shares"
    )
    try:
        uvicorn.run(create_app(runtime, settings), host=host, port=port, log_level="info")
    finally:
        runtime.close()
