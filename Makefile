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
	$(BIN)/mypy domain
	$(BIN)/python -m pytest -q

# Rebuilds the web app (web/) into routes/web_app/build, which is committed: `make serve`
# needs no Node. Needs Node 20+ and npm; installs exactly what web/package-lock.json pins.
ui:
	cd web && npm ci --no-audit --no-fund && npm test && npm run build

clean:
	rm -rf $(VENV) .pytest_cache
