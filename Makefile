# Two commands on a fresh machine: `make demo` and `make test`. Nothing else to set up by hand.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
DEMO_DIR ?= sample
DEMO_PATIENTS ?= 10000
DEMO_SEED ?= 42
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1

.PHONY: demo test install lint clean browser

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kow needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/kow generate --patients $(DEMO_PATIENTS) --seed $(DEMO_SEED) --out $(DEMO_DIR)
	$(BIN)/kow ingest $(DEMO_DIR)
	$(BIN)/kow build
	$(BIN)/kow analyze
	$(BIN)/kow dashboard

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Browser tests drive Debian's chromium (Playwright cannot download its own browser offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  (apt-get install -y -q chromium fonts-dejavu-core >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium fonts-dejavu-core >/dev/null)) \
	  || { echo "Could not install chromium: run 'apt-get install chromium' as root"; exit 1; }; }

test: lint browser
	$(BIN)/pytest -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) warehouse reports target logs $(DEMO_DIR) .pytest_cache .ruff_cache
