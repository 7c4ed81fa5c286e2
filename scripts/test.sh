#!/usr/bin/env bash
# The test command the README gives: install with test extras, lint, type-check, test.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -e '.[test]'
python -m ruff check .
python -m mypy
python -m pytest -q -p no:cacheprovider "$@"
