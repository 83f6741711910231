"""`python -m schema > schema.graphql` writes the committed SDL."""

from __future__ import annotations

from schema import build_schema

if __name__ == "__main__":
    print(build_schema().as_str())
