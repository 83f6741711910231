"""The `modelledger` command line: one sub-command per module in this package."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="ModelLedger model diagnostics.")


def _register() -> None:
    # Sub-commands live in their own modules; importing them registers them on `app`.
    import importlib
    import pkgutil

    import cli

    for module in pkgutil.iter_modules(cli.__path__):
        if module.name != "main" and not module.name.startswith("_"):
            importlib.import_module(f"cli.{module.name}")


_register()

if __name__ == "__main__":
    app()
