"""The rule for what the read models can store, and the event log refusing anything else."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.storable import INT64_MAX, INT64_MIN, may_be_unstorable, value_problem
from storage.event_log import StorableTranscoder


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"name": "ok", "n": INT64_MAX, "m": INT64_MIN, "f": 1e300, "b": b"\x00", "t": True}, None),
        ({"name": "a\x00b"}, "name contains the character U+0000 (NUL)"),
        ({"rows": [{"key": "k"}, {"key": "x\udc00"}]}, "rows[1].key contains a lone surrogate U+DC00"),
        ({"config": {"x": INT64_MAX + 1}}, f"config.x is {INT64_MAX + 1}, beyond the 64-bit integer range"),
        ({"config": {"x": INT64_MIN - 1}}, f"config.x is {INT64_MIN - 1}, beyond the 64-bit integer range"),
        ({"meta": {"a\x00": 1}}, "the key 'meta.a\\x00' contains the character U+0000"),
        ((1, ("x", "\x00")), "[1][1] contains the character U+0000"),
    ],
)
def test_value_problem_names_the_item(value: Any, expected: str | None) -> None:
    problem = value_problem(value, "")
    if expected is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(expected), problem


def test_suspect_text_is_every_text_with_a_problem() -> None:
    for value in ({"a": "\x00"}, {"a": 10**18 * 100}, [-(10**19)], 10**19, [1.5, 10**19]):
        assert may_be_unstorable(json.dumps(value).encode())
    assert not may_be_unstorable(json.dumps({"a": "plain", "n": 10**17, "f": 0.123456789012345}).encode())


# The rule itself, slowly: the NUL escape, or 19 digits in a row not after a digit or a point.
_SUSPECT = re.compile(rb"\\u0000|(?<![0-9.])[0-9]{19}")


@given(st.lists(st.sampled_from([b"1", b"0", b"9", b".", b"a", b"Z", b'"', b"-", b"\\u0000", b"1" * 18, b"2" * 19]), max_size=60))
def test_suspect_text_follows_the_rule(parts: list[bytes]) -> None:
    """Digits, points, other bytes and runs of 18 and 19 digits in any order: suspect
    exactly when the rule says (a run at the start, after a point, after a letter...)."""
    text = b"".join(parts)
    assert may_be_unstorable(text) == (_SUSPECT.search(text) is not None), text


def test_long_fractions_are_not_suspect() -> None:
    """A float near zero prints a fraction of 19 digits or more (0.0012345678901234567):
    digits after a point are never an integer, so a vector of small floats is not walked
    value by value (a third of the lines of an embeddings upload were, before)."""
    small = [0.0012345678901234567, -0.00098765432109876543, 1.2345678901234567e-05]
    text = json.dumps({"vector": small}).encode()
    assert b"0" * 19 in text.translate(bytes(0x30 if 0x30 <= b <= 0x39 else 0x61 for b in range(256)))
    assert not may_be_unstorable(text)


def test_the_event_log_refuses_an_unstorable_event_by_name() -> None:
    transcoder = StorableTranscoder()
    assert transcoder.decode(transcoder.encode({"name": "fine", "n": 1})) == {"name": "fine", "n": 1}
    with pytest.raises(ValidationFailed, match=r"^name contains the character U\+0000"):
        transcoder.encode({"name": "a\x00b"})
    with pytest.raises(ValidationFailed, match=r"^name contains a lone surrogate U\+D800"):
        transcoder.encode({"name": "a\ud800b"})
    with pytest.raises(ValidationFailed, match=r"^config\.x is 18446744073709551616"):
        transcoder.encode({"config": {"x": 2**64}})

