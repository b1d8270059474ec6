#!/bin/sh
# Installs the LiteLLM proxy into its own venv (.tools/litellm-venv, gitignored) for
# bench/gateway.py's side-by-side figures. Idempotent; takes a few minutes the first time.
#
#     sh bench/litellm_setup.sh            # then: .venv/bin/python bench/gateway.py
set -eu
cd "$(dirname "$0")/.."
VENV=.tools/litellm-venv
PYTHON=${PYTHON:-python3}
if [ -x "$VENV/bin/litellm" ]; then
    echo "litellm already installed in $VENV" >&2
    exit 0
fi
mkdir -p .tools
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet 'litellm[proxy]'
"$VENV/bin/litellm" --version >&2 || true
