"""`python -m cli ...` runs the `modelledger` command line."""

from cli.main import app

app(prog_name="modelledger")
