# Set-up and everyday commands. `make serve` and `make test` install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve demo test lint bench clean ui

install: $(STAMP)

$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet -e ./clients/python
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/modelledger serve

# Serves as `serve` does, after loading real digits and rendered street scenes into it.
demo: $(STAMP)
	$(BIN)/modelledger demo --serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 --dist loadscope -m "not serial"
	$(BIN)/python -m pytest -q -m serial

# Benchmarks that print figures and assert nothing: the quick ones, at their default sizes
# (about 2 minutes on 2 cores). They need a PostgreSQL server: POSTGRES_*, else 127.0.0.1:5432,
# database `test`, user postgres; each works in a schema of its own that it drops at the end.
#   bench.http_service      a real `modelledger serve` over HTTP: uploads, warm and cold queries, memory
#   bench.versions          a run's metrics read at its latest and at an older version
#   bench.annotation_codec  parsing, validating and encoding uploaded boxes (no database)
# The longer ones run by hand (`$(BIN)/python -m bench.NAME`): metrics_service, gallery, ingest,
# connections, metrics, projector, web_gallery, web_projector.
bench: $(STAMP)
	$(BIN)/python -m bench.http_service
	$(BIN)/python -m bench.versions
	$(BIN)/python -m bench.annotation_codec

# Rebuilds the web app (web/) into routes/web_app/build, which is committed: `make serve`
# needs no Node. Needs Node 20+ and npm; installs exactly what web/package-lock.json pins.
ui:
	cd web && npm ci --no-audit --no-fund && npm test && npm run build

clean:
	rm -rf $(VENV) .pytest_cache
