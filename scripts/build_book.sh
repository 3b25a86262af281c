#!/usr/bin/env bash
# Build the course book into _build/html (notebooks executed; fast mode unless COURSE_FAST=0).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${COURSE_VENV:-.venv}"
export COURSE_FAST="${COURSE_FAST:-1}"
"$VENV/bin/jupyter-book" build . --all
echo "open _build/html/index.html"
