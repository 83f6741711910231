"""Conversions between other file formats and the NDJSON line formats of the server
(docs/formats.md): COCO in and out, and a run's metric tables."""
