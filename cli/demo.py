"""`modelledger demo`: real digits and rendered street scenes, loaded into a server."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli.main import app
from storage.database import DEFAULT_DATA_DIR

if TYPE_CHECKING:
    from demo import DemoSize


class Method(StrEnum):
    """The projection methods the server offers (ProjectionMethod in the schema)."""

    PCA = "PCA"
    UMAP = "UMAP"


@app.command()
def demo(
    url: str | None = typer.Option(
        None, help="The server; default MODELLEDGER_URL, else http://127.0.0.1:8000."
    ),
    api_key: str | None = typer.Option(
        None, help="A read-write API key; default MODELLEDGER_API_KEY."
    ),
    serve: bool = typer.Option(
        False,
        "--serve",
        help="Start the embedded server (as `modelledger serve`), load into it, keep serving.",
    ),
    host: str = typer.Option("127.0.0.1", help="With --serve: address to listen on."),
    port: int = typer.Option(8000, help="With --serve: port to listen on."),
    data_dir: Path = typer.Option(
        DEFAULT_DATA_DIR, help="With --serve: embedded database directory."
    ),
    digits: int | None = typer.Option(
        None, min=200, max=1797, help="How many digit scans (default all 1,797)."
    ),
    scenes: int = typer.Option(80, min=1, help="How many street scenes to render."),
    seed: int = typer.Option(0, help="Seed of the splits, the scenes and the detector's noise."),
    projection: Method = typer.Option(Method.PCA, help="How the embeddings are projected to 2-D."),
    progress: bool = typer.Option(True, help="Show upload and metrics progress bars."),
) -> None:
    """Load the demo: digits with two classifiers, street scenes with a noisy detector."""
    from demo import DemoSize

    size = DemoSize(digits=digits, scenes=scenes, seed=seed, projection=projection.value)
    if not serve:
        _load(url, api_key, size, progress)
        return
    if url is not None or api_key is not None:
        raise typer.BadParameter(
            "--serve loads into the server it starts: leave out --url and --api-key"
        )
    from demo.embedded import embedded_server

    try:
        with embedded_server(host, port, data_dir) as server:
            typer.echo(f"ModelLedger at {server.url}/ with a new read-write API key for the demo:")
            typer.echo(server.api_key)
            _load(server.url, server.api_key, size, progress)
            typer.echo(f"Serving at {server.url}/ until Ctrl-C (sign in with the key above).")
            server.serve_until_stopped()
    except KeyboardInterrupt:
        typer.echo("Stopped.")


def _load(url: str | None, api_key: str | None, size: DemoSize, progress: bool) -> None:
    from modelledger_client import Client

    from demo import load_demo

    with Client(url, api_key) as client:
        loaded = load_demo(client, size, say=typer.echo, progress=progress)
    for line in loaded.summary():
        typer.echo(line)
