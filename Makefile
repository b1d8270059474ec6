# ctxrouter — two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test lint typecheck pytest venv clean bench docs tools

# The pinned Claude Code CLI and ccusage, for the integration tests and benchmarks
# (installed only where npm is present; the tests that need them skip elsewhere).
NPM_TOOLS := @anthropic-ai/claude-code@2.1.328 ccusage@20.0.24
TOOLS_STAMP := .tools/.installed-$(shell echo '$(NPM_TOOLS)' | cksum | cut -d' ' -f1)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

$(TOOLS_STAMP):
	@if command -v npm >/dev/null; then \
		mkdir -p .tools && npm install --prefix .tools --no-audit --no-fund --silent $(NPM_TOOLS) \
		&& rm -f .tools/.installed-* && touch $@; \
	else echo "npm not found: the Claude Code tests will skip"; fi

tools: $(TOOLS_STAMP)

demo: $(STAMP)
	@$(BIN)/ctxrouter demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(TOOLS_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache build src/*.egg-info
