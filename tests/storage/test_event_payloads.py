"""How events are written into the log: JSON, with the bytes of a state after it as they
are (no base64), and payloads that do not compress stored as they are. Events written
before (bytes as base64 inside the JSON) are read as they were."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import numpy as np
import pytest
from eventsourcing.persistence import JSONTranscoder

from application import ModelLedger
from domain.datasets import Dataset
from domain.errors import ValidationFailed
from storage.compression import SAMPLE_BYTES, ZSTD_MAGIC, ZstdCompressor
from storage.database import Database
from storage.event_log import BINARY_MAGIC, EventLog, StorableTranscoder


def transcoders() -> tuple[StorableTranscoder, JSONTranscoder]:
    """The log's transcoder, and the one events were written with before (all JSON)."""
    log = EventLog.__new__(EventLog)  # only its transcodings are wanted
    now, before = StorableTranscoder(), JSONTranscoder()
    log.register_transcodings(now)
    log.register_transcodings(before)
    return now, before


def chunk_state() -> dict[str, Any]:
    vectors = np.random.default_rng(3).standard_normal((64, 512)).astype("<f4")
    return {
        "originator_topic": "domain.uploads:Upload",
        "timestamp": datetime(2026, 12, 7, tzinfo=UTC),
        "index": 3,
        "payload": {"dimension": 512, "rowIds": uuid4().bytes * 64, "vectors": vectors.tobytes(), "empty": b""},
        "nested": [{"run": uuid4(), "counts": np.arange(5, dtype="<u4").tobytes()}, b"\x00\xff"],
    }


def test_bytes_are_stored_after_the_json_as_they_are_and_read_back() -> None:
    now, before = transcoders()
    state = chunk_state()
    stored = now.encode(state)
    assert stored.startswith(BINARY_MAGIC)
    assert now.decode(stored) == state
    raw_bytes = 64 * 16 + 64 * 512 * 4 + 20 + 2
    assert raw_bytes < len(stored) < raw_bytes + 1_000  # base64 would add a third
    assert len(before.encode(state)) > raw_bytes * 4 / 3


def test_events_written_before_are_read() -> None:
    now, before = transcoders()
    state = chunk_state()
    written_before = before.encode(state)
    assert written_before.startswith(b"{") and b'"_type_":"b64"' in written_before
    assert now.decode(written_before) == state
    assert now.decode(before.encode({"name": "no bytes", "n": 1})) == {"name": "no bytes", "n": 1}


@pytest.mark.parametrize("with_bytes", [False, True])
def test_an_object_of_the_data_shaped_like_a_tag_is_read_back_as_itself(with_bytes: bool) -> None:
    """A config or metadata object with exactly the keys "_type_" and "_data_" was read back
    as a transcoded value (a UUID, bytes) or not at all (an unknown name): a recorded event
    no one could read."""
    now, _ = transcoders()
    state: dict[str, Any] = {
        "config": {"_type_": "uuid_hex", "_data_": "0" * 32},
        "metadata": [{"_type_": "nope", "_data_": {"_type_": "bytes_at", "_data_": 0}}],
        "near": {"_type_": "b64", "_data_": "AAAA", "third": 1},
        "text": '"_type_": "b64"',
        "id": uuid4(),
    }
    if with_bytes:
        state["column"] = b"\x01\x02"
    stored = now.encode(state)
    assert stored.startswith(BINARY_MAGIC) == with_bytes
    assert now.decode(stored) == state


def test_an_unstorable_value_beside_bytes_is_refused_by_name() -> None:
    now, _ = transcoders()
    with pytest.raises(ValidationFailed, match=r"^payload\.name contains the character U\+0000"):
        now.encode({"payload": {"name": "a\x00b", "vectors": b"\x00" * 100}})
    with pytest.raises(ValidationFailed, match=r"^payload\.n is 18446744073709551616"):
        now.encode({"payload": {"n": 2**64, "vectors": b"1" * 100}})


def test_a_cut_payload_is_an_error_not_other_bytes() -> None:
    now, _ = transcoders()
    stored = now.encode(chunk_state())
    with pytest.raises(ValueError, match="bytes end at"):
        now.decode(stored + b"\x00")
    with pytest.raises(ValueError):
        now.decode(stored[:-1])


def test_a_payload_that_does_not_compress_is_stored_as_it_is() -> None:
    now, _ = transcoders()
    compressor = ZstdCompressor()
    vectors = now.encode(chunk_state())
    assert len(vectors) > 4 * SAMPLE_BYTES
    assert compressor.compress(vectors) == vectors
    assert compressor.decompress(vectors) == vectors
    rows = json.dumps({"rows": [[f"key-{i}", f"https://assets.example/{i}.jpg"] for i in range(5_000)]}).encode()
    compressed = compressor.compress(rows)
    assert compressed[:4] == ZSTD_MAGIC and len(compressed) < len(rows) / 5
    assert compressor.decompress(compressed) == rows
    small = b'{"name": "x"}'
    assert compressor.decompress(compressor.compress(small)) == small
    assert compressor.decompress(zlib.compress(rows)) == rows


def _state_storage(database: Database) -> str:
    with database.connect() as conn:
        row = conn.execute(
            "SELECT a.attstorage FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relname = 'modelledger_events' AND a.attname = 'state'",
            (database.schema,),
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_postgresql_stores_payloads_as_they_come(database: Database) -> None:
    """PostgreSQL does not compress payloads again (EXTERNAL storage), in a new log and in
    one made before (its next start changes it)."""
    app = ModelLedger(env=database.application_env())
    app.close()
    assert _state_storage(database) == "e"
    with database.connect() as conn:
        conn.execute(f'ALTER TABLE "{database.schema}".modelledger_events ALTER COLUMN state SET STORAGE EXTENDED')
        conn.commit()
    assert _state_storage(database) == "x"
    app = ModelLedger(env=database.application_env())
    try:
        dataset = app.create_dataset("after", actor="alice")
        assert app.load(Dataset, dataset.id, "dataset").name == "after"
    finally:
        app.close()
    assert _state_storage(database) == "e"
