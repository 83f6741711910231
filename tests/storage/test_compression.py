"""Event payloads are compressed with zstd; those recorded with zlib by earlier versions
are still read."""

from __future__ import annotations

import zlib

from application import ModelLedger
from domain.datasets import Dataset
from storage.compression import ZSTD_MAGIC, ZstdCompressor
from storage.database import Database


def test_a_payload_is_read_back_whichever_way_it_was_compressed() -> None:
    compressor = ZstdCompressor()
    payload = b'{"rows": [["k1", "https://assets.example/1.jpg"]]}' * 200
    compressed = compressor.compress(payload)
    assert compressed[:4] == ZSTD_MAGIC and len(compressed) < len(payload) / 5
    assert compressor.decompress(compressed) == payload
    assert compressor.decompress(zlib.compress(payload)) == payload
    assert compressor.decompress(zlib.compress(payload, 1)) == payload


def _stored_states(database: Database) -> list[bytes]:
    with database.connect() as conn:
        rows = conn.execute("SELECT state FROM modelledger_events ORDER BY notification_id").fetchall()
    return [bytes(row[0]) for row in rows]


def test_a_log_written_with_zlib_is_read_and_extended_with_zstd(database: Database) -> None:
    earlier = ModelLedger(env={**database.application_env(), "COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor"})
    try:
        old = earlier.create_dataset("written with zlib", actor="alice")
    finally:
        earlier.close()
    [zlib_state] = _stored_states(database)
    assert zlib_state[:4] != ZSTD_MAGIC

    app = ModelLedger(env=database.application_env())
    try:
        assert app.load(Dataset, old.id, "dataset").name == "written with zlib"
        app.rename_dataset(old.id, "renamed with zstd", actor="alice")
        assert app.load(Dataset, old.id, "dataset").name == "renamed with zstd"
    finally:
        app.close()
    states = _stored_states(database)
    assert states[0] == zlib_state and states[-1][:4] == ZSTD_MAGIC
