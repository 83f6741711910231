"""The chunk size estimate counts each string as the payload's JSON holds it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from domain.annotations.chunking import _string_bytes


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))) | st.text(st.characters(max_codepoint=127)))
def test_a_strings_size_is_its_json_size_with_a_comma(value: str) -> None:
    known: dict[str, int] = {}
    expected = len(json.dumps(value, ensure_ascii=False).encode()) + 1
    assert _string_bytes(value, known) == expected
    assert known == {value: expected}
