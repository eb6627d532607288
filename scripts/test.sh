#!/usr/bin/env bash
# Set up, then run the whole test suite with the linters. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1
export MODERATION_NO_SKIP=1
.venv/bin/ruff check moderation tests benchmarks scripts
.venv/bin/ruff format --check moderation tests benchmarks scripts
.venv/bin/mypy moderation
.venv/bin/python -m pytest -q "$@"
