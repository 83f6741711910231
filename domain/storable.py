"""What every recorded value must be for the read models to store it.

PostgreSQL's text and jsonb cannot hold the character U+0000 (NUL), UTF-8 has no encoding
for a lone surrogate (U+D800 to U+DFFF, which a JSON string may still spell as `\\ud800`),
and the read models keep integers in 64-bit columns and encoders. A value outside these
rules, once recorded, would be an event a read model can never apply; so it is refused
where it comes in, by name, and the event log refuses it again before recording anything
(`storage.event_log`), whatever path it came by.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from domain.errors import ValidationFailed

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

# A JSON text that may hold an unstorable value: NUL is always written as this escape,
# and an integer beyond 64 bits has at least 19 digits, not after a decimal point (a float
# near zero prints a fraction that long: 0.0012345678901234567). Either only means "look
# closer". Digits are found by mapping every byte to "0" (a digit), "." (the point) or "a"
# and looking for "a" or the start of the text before a run of 19 "0": ten times faster
# than a regular expression over a 200 KB event. The run alone is looked for first: a
# substring search skips ahead by the run's length past any byte not in it, where a
# search starting with "a" steps byte by byte through text that is mostly "a" (base64,
# names): 100,000 lines of a base64 vector each took 2.10 s that way, 0.63 s this way.
_NUL_ESCAPE: Final = b"\\u0000"
_DIGITS: Final = bytes(0x30 if 0x30 <= b <= 0x39 else b if b == 0x2E else 0x61 for b in range(256))
_LONG_RUN: Final = b"0" * 19
_LONG_INTEGER: Final = b"a" + _LONG_RUN
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why the text cannot be stored, or None."""
    if "\x00" in text:
        return "contains the character U+0000 (NUL), which cannot be stored"
    found = _SURROGATE.search(text)
    if found is not None:
        return f"contains a lone surrogate U+{ord(found.group()):04X}, which is not a character"
    return None


def value_problem(value: Any, path: str) -> str | None:
    """The first unstorable item in a JSON-like value (dicts, lists, tuples, text, numbers),
    named by its path ("config.x", "metadata[2].value"), with why; or None."""
    if isinstance(value, str):
        problem = text_problem(value)
        return None if problem is None else f"{path or 'text'} {problem}"
    if isinstance(value, bool) or value is None or isinstance(value, float | bytes):
        return None
    if isinstance(value, int):
        if INT64_MIN <= value <= INT64_MAX:
            return None
        return f"{path or 'number'} is {value}, beyond the 64-bit integer range; send it as a string or a float"
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (problem := text_problem(key)) is not None:
                return f"the key {where!r} {problem}"
            if (problem := value_problem(item, where)) is not None:
                return problem
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if (problem := value_problem(item, f"{path}[{index}]")) is not None:
                return problem
        return None
    attributes = getattr(value, "__dict__", None)
    return None if attributes is None else value_problem(attributes, path)


def check_storable(value: Any, what: str) -> None:
    """Refuse an unstorable value, naming the item (`what` names the value itself)."""
    problem = value_problem(value, what)
    if problem is not None:
        raise ValidationFailed(problem)


def check_text(text: str, what: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise ValidationFailed(f"{what} {problem}")
    return text


def may_be_unstorable(json_text: bytes) -> bool:
    """Whether JSON text needs a closer look (`value_problem` on what it decodes to): it
    spells a NUL or has a run of 19 digits that is not a fraction. Cheap, so every upload
    line and every event pays only this unless it is suspect."""
    if _NUL_ESCAPE in json_text:
        return True
    mapped = json_text.translate(_DIGITS)
    if _LONG_RUN not in mapped:
        return False
    return _LONG_INTEGER in mapped or mapped.startswith(_LONG_RUN)
