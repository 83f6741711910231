"""`modelledger replay --verify`: rebuild every read model from the log and compare."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.main import app
from storage.database import DEFAULT_DATA_DIR, database_from_environment


@app.command()
def replay(
    verify: bool = typer.Option(False, "--verify", help="Compare the rebuilt read models with the live ones."),
    data_dir: Path = typer.Option(DEFAULT_DATA_DIR, help="Embedded database directory."),
) -> None:
    """Rebuild the read models from the event log into a scratch schema."""
    from projections.replay import replay_report

    if not verify:
        typer.echo("Only --verify is supported: it rebuilds into a scratch schema and compares.", err=True)
        raise typer.Exit(2)
    report = replay_report(database_from_environment(data_dir))
    typer.echo("Compared with a rebuild from the event log:")
    for line in report.compared:
        typer.echo(f"  {line}")
    for difference in report.differences:
        typer.echo(difference)
    if report.differences:
        typer.echo(f"{len(report.differences)} difference(s) between the event log and the read models.", err=True)
        raise typer.Exit(1)
    typer.echo("Every read model matches the event log.")
