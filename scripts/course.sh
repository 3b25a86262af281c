#!/usr/bin/env bash
# One script behind the README's two commands.
#   bash scripts/course.sh main   set up .venv (first run) and run the main job
#   bash scripts/course.sh test   set up .venv (first run) and run every test
#   bash scripts/course.sh setup  only set up .venv
# Environment: COURSE_VENV (default .venv), PYTHON (default python3.11, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${COURSE_VENV:-.venv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "== creating virtual environment $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
  fi
  # Re-install only when pyproject.toml changed since the last install.
  local stamp="$VENV/.course_lib-installed" want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "== installing course_lib with its dev and book extras (first time: a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[dev,book]"
    echo "$want" > "$stamp"
  fi
}

case "${1:-}" in
  setup) setup ;;
  main)  setup; shift; exec "$VENV/bin/python" -m course_lib main "$@" ;;
  test)  setup; shift; exec "$VENV/bin/python" scripts/run_tests.py "$@" ;;
  *) echo "usage: bash scripts/course.sh {main|test|setup}" >&2; exit 2 ;;
esac
