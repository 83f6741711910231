"""The committed schema.graphql is the schema the code builds: clients and reviewers read it."""

from __future__ import annotations

from pathlib import Path

from schema import build_schema

SDL = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_sdl_matches_the_code() -> None:
    built = build_schema().as_str() + "\n"
    assert SDL.read_text() == built, (
        "schema.graphql differs from the schema the code builds; "
        "regenerate it with `python -m schema > schema.graphql` and review the change"
    )
