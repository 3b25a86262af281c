"""Every check of the course, in fast mode (what ``bash scripts/course.sh test`` runs).

1. pytest on ``tests/`` (library tests, notebook structure and jupytext pairing);
2. nbval (``--nbval-lax --nbval-current-env``) executes every notebook;
3. a Jupyter Book 1.x build of the whole site: fails on errors (including a notebook
   that fails to execute), reports warnings; then the student edition
   (``python -m course_lib student-edition``) into ``_build/html/student/``.

Ends with one line "tests: N passed, N failed" and a non-zero exit on any failure.
"""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def pytest(label: str, args: list[str]) -> tuple[int, int, int]:
    """Run pytest; return (passed, failed, exit code) read from its JUnit report."""
    print(f"\n== {label}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        rc = subprocess.call([PY, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={report}", *args], cwd=ROOT)
        if not report.exists():
            return 0, 1, rc or 1
        suites = ET.parse(report).getroot()
        suites = [suites] if suites.tag == "testsuite" else list(suites)
        total = sum(int(s.get("tests", 0)) for s in suites)
        bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
        skipped = sum(int(s.get("skipped", 0)) for s in suites)
        return total - bad - skipped, bad, rc


def build_book() -> tuple[int, int]:
    """Build the book (notebooks executed in fast mode); (1, 0) if it built cleanly."""
    print("\n== Jupyter Book build", flush=True)
    jb = Path(PY).with_name("jupyter-book")
    subprocess.run([PY, "-m", "course_lib.book", "prepare"], cwd=ROOT, check=True)   # execution cache, never stale
    proc = subprocess.run([str(jb), "build", ".", "--all"], cwd=ROOT, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    print(log[-4000:])
    errors = [l for l in log.splitlines() if re.search(r"\bERROR\b|Execution Failed|Traceback", l)]
    warnings = [l for l in log.splitlines() if "WARNING" in l]
    print(f"book: {len(warnings)} warning(s), {len(errors)} error line(s)")
    for line in warnings:
        print("  warning:", line.strip())
    for line in errors:
        print("  error:", line.strip())
    # the student edition (solution cells removed) is part of the published book
    student = subprocess.run([PY, "-m", "course_lib", "student-edition", "--out", str(ROOT / "_build/html/student")],
                             cwd=ROOT, capture_output=True, text=True)
    print(student.stdout.strip() or student.stderr.strip()[-2000:])
    if student.returncode != 0:
        errors.append("student edition: " + (student.stdout + student.stderr).strip()[-300:])
    html = sorted((ROOT / "_build/html/notebooks").glob("*.html"))
    no_figures = [p.name for p in html if p.name.startswith("01_") and "_images/" not in p.read_text()]
    if no_figures:
        print("  error: no figures in", ", ".join(no_figures))
    check = subprocess.run([PY, "-m", "course_lib.book", "check"], cwd=ROOT, capture_output=True, text=True)
    print(check.stdout.strip())
    if check.returncode != 0:
        errors.append("site check: " + check.stdout.strip())
    ok = (proc.returncode == 0 and not errors and not no_figures
          and (ROOT / "_build/html/index.html").exists())
    return (1, 0) if ok else (0, 1)


def main() -> int:
    os.environ.setdefault("COURSE_FAST", "1")
    # no MPLBACKEND here: kernels must keep the inline backend so figures reach the book
    results = [pytest("pytest tests/", ["tests"])]
    notebooks = sorted(glob.glob(str(ROOT / "notebooks" / "*.ipynb")))
    results.append(pytest("nbval: every notebook in fast mode",
                          ["--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=600", *notebooks]))
    passed = sum(r[0] for r in results)
    failed = sum(r[1] for r in results) + sum(1 for r in results if r[2] not in (0,) and r[1] == 0)
    book_ok, book_bad = build_book()
    passed, failed = passed + book_ok, failed + book_bad
    print(f"\ntests: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
