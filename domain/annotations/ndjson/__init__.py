"""The NDJSON annotation / prediction format (docs/uploads.md), one module per part.

`lines` reads a line (its data row, its annotation, crowd regions and areas); `geometries`,
`masks` and `answers` read what a line holds; `values` the names, numbers and objects they
are made of; `keys` refuses a key the format does not know; `encoding` writes a line back.
"""
