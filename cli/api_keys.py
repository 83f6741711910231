"""`modelledger api-key create`: a new API key, printed alone on the last line."""

from __future__ import annotations

from pathlib import Path

import typer

from application import ModelLedger
from cli.main import app
from domain.api_keys import ApiKey
from storage.database import DEFAULT_DATA_DIR, database_from_environment, ensure_schema

api_key = typer.Typer(no_args_is_help=True, help="Manage API keys.")
app.add_typer(api_key, name="api-key")

_API_KEY_CREATED = ApiKey.Created.__module__ + ":" + ApiKey.Created.__qualname__


def ensure_first_key(ledger: ModelLedger) -> str | None:
    """On a store without any API key, create a read-write one and return its secret."""
    if ledger.recorder.select_notifications(start=None, limit=1, topics=[_API_KEY_CREATED]):
        return None
    _, secret = ledger.create_api_key(name="first key", read_only=False, actor="modelledger serve")
    return secret


@api_key.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Who uses the key; recorded on every change."),
    read_only: bool = typer.Option(False, "--read-only", help="Allow queries only."),
    data_dir: Path = typer.Option(DEFAULT_DATA_DIR, help="Embedded database directory."),
) -> None:
    """Create an API key and print it (only its hash is stored)."""
    database = database_from_environment(data_dir)
    ensure_schema(database)
    ledger = ModelLedger(env=database.application_env())
    try:
        key, secret = ledger.create_api_key(name=name, read_only=read_only, actor="modelledger api-key create")
    finally:
        ledger.close()
    typer.echo(f"API key {key.name!r} ({'read-only' if read_only else 'read-write'}):", err=True)
    typer.echo(secret)
