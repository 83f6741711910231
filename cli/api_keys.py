"""`modelledger api-key create | list | revoke`: API keys, on the server's database directly
(they work with the server stopped or running). `create` prints the key alone on the last line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

import typer

from cli.main import app
from storage.database import DEFAULT_DATA_DIR

if TYPE_CHECKING:
    # Imported where used: every command of the line loads this module, and these (the
    # event store, PostgreSQL's driver) took 0.5 s of `modelledger evaluate`'s start.
    from application import ModelLedger

api_key = typer.Typer(no_args_is_help=True, help="Manage API keys.")
app.add_typer(api_key, name="api-key")


def ensure_first_key(ledger: ModelLedger) -> str | None:
    """On a store without any API key, create a read-write one and return its secret."""
    from domain.api_keys import ApiKey

    created = ApiKey.Created.__module__ + ":" + ApiKey.Created.__qualname__
    if ledger.recorder.select_notifications(start=None, limit=1, topics=[created]):
        return None
    _, secret = ledger.create_api_key(name="first key", read_only=False, actor="modelledger serve")
    return secret


@contextmanager
def _ledger(data_dir: Path) -> Iterator[ModelLedger]:
    from application import ModelLedger
    from domain.errors import DomainError
    from storage.database import database_from_environment, preparing

    database = database_from_environment(data_dir)
    with preparing(database):
        ledger = ModelLedger(env=database.application_env())
    try:
        yield ledger
    except DomainError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    finally:
        ledger.close()


DATA_DIR = typer.Option(DEFAULT_DATA_DIR, help="Embedded database directory.")


@api_key.command("create")
def create(
    name: str = typer.Option(..., "--name", help="Who uses the key; recorded on every change. Unique among live keys."),
    read_only: bool = typer.Option(False, "--read-only", help="Allow queries only."),
    data_dir: Path = DATA_DIR,
) -> None:
    """Create an API key and print it (only its hash is stored)."""
    with _ledger(data_dir) as ledger:
        key, secret = ledger.create_api_key(name=name, read_only=read_only, actor="modelledger api-key create")
    typer.echo(f"API key {key.name!r} ({'read-only' if read_only else 'read-write'}):", err=True)
    typer.echo(secret)


@api_key.command("list")
def list_keys(data_dir: Path = DATA_DIR) -> None:
    """Every API key, revoked ones too, oldest first: id, access, state, created, last used
    (UTC, to within a few seconds; "never" if no request used it), name."""
    with _ledger(data_dir) as ledger:
        keys = ledger.api_keys()
        uses = ledger.key_uses.last_uses()
    for key in keys:
        access = "read-only " if key.read_only else "read-write"
        state = "revoked" if key.revoked else "live   "
        used = uses.get(key.id)
        last = "never           " if used is None else f"{used.astimezone(UTC):%Y-%m-%d %H:%M}"
        typer.echo(f"{key.id}  {access}  {state}  {key.created_on:%Y-%m-%d %H:%M}  {last}  {key.name}")


@api_key.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="The key's id, as `api-key list` shows it."), data_dir: Path = DATA_DIR) -> None:
    """Revoke a key: servers refuse it within 5 seconds."""
    try:
        parsed = UUID(key_id)
    except ValueError:
        typer.echo(f"{key_id!r} is not a key id (see `modelledger api-key list`)", err=True)
        raise typer.Exit(1) from None
    with _ledger(data_dir) as ledger:
        key = ledger.revoke_api_key(parsed, actor="modelledger api-key revoke")
    typer.echo(f"API key {key.name!r} ({key.id}) revoked")
