#!/usr/bin/env bash
# Build the course book into _build/html (notebooks executed; fast mode unless COURSE_FAST=0).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${COURSE_VENV:-.venv}"
export COURSE_FAST="${COURSE_FAST:-1}"
"$VENV/bin/python" -m course_lib.book prepare   # the execution cache, emptied when the mode or shipped files changed
"$VENV/bin/jupyter-book" build . --all
"$VENV/bin/python" -m course_lib.book check     # no fast-mode model where a shipped checkpoint exists
# the student edition (solution cells removed), generated from notebooks/ and linked from the book
"$VENV/bin/python" -m course_lib student-edition --out _build/html/student
echo "open _build/html/index.html"
