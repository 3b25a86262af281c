"""The student edition (python -m course_lib student-edition): generated from notebooks/, it
strips every solution cell, keeps every other cell (every exercise among them) unchanged, and
no kept cell needs a name that only a solution cell defines."""
import ast
import builtins
import json
import re
from pathlib import Path

import pytest

from course_lib import cli
from course_lib.commands import student_edition as se

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
EXERCISE = re.compile(r'^check\("([\w.]+)", \w+\)', re.M)


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    assert cli.main(["student-edition", "--out", str(out)]) == 0
    return out


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_strips_every_solution_and_keeps_every_other_cell(nb, edition):
    full, student = cells(nb), cells(edition / nb.name)
    solutions = [c for c in full if se.is_solution(c)]
    assert solutions, f"{nb.name}: no solution cell found (first line {se.SOLUTION_TITLE!r})"
    for c in student:
        text = se.source(c)
        assert se.SOLUTION_TITLE not in text and "assert check(" not in text, f"a solution survived: {text[:80]}"
        assert se.SOLUTION_TAG not in c.get("metadata", {}).get("tags", []), f"a hidden cell survived: {text[:80]}"
        assert not c.get("outputs"), "outputs are cleared"
    kept = [se.source(c) for c in full if not se.is_solution(c)]
    assert [se.source(c) for c in student if c.get("id") != "student-edition-note"] == kept
    asked = [m for c in full for m in EXERCISE.findall(se.source(c))]
    assert asked and asked == [m for c in student for m in EXERCISE.findall(se.source(c))]
    assert "Student edition" in se.source(student[1]), "a note after the first cell says where the edition came from"


def test_index_lists_every_lesson(edition):
    index = (edition / "index.html").read_text()
    assert all(f'href="{nb.name}"' in index for nb in NOTEBOOKS)


def test_finds_a_solution_by_its_first_line_only():
    code = lambda s, tags=(): {"cell_type": "code", "source": s, "metadata": {"tags": list(tags)}, "outputs": [1]}  # noqa: E731
    nb = {"cells": [{"cell_type": "markdown", "source": "# title", "metadata": {}},
                    code("answer = None\ncheck(\"01.x\", answer)"),
                    code(se.SOLUTION_TITLE + "\nassert check(\"01.x\", 3)", ["hide-cell"]),
                    code("# the solution is discussed below\nprint(1)", ["hide-cell"]),
                    {"cell_type": "markdown", "source": se.SOLUTION_TITLE, "metadata": {}}],
          "nbformat": 4, "nbformat_minor": 4}
    out, removed = se.student_notebook(nb, "01_x.ipynb")
    assert removed == 1 and [se.source(c) for c in out["cells"]][2:] == [
        "answer = None\ncheck(\"01.x\", answer)", "# the solution is discussed below\nprint(1)", se.SOLUTION_TITLE]
    assert out["cells"][2]["outputs"] == [] and nb["cells"][1]["outputs"] == [1], "outputs cleared, input untouched"


def test_bad_folder_is_one_line(tmp_path, capsys):
    assert cli.main(["student-edition", "--notebooks", str(tmp_path / "nope"), "--out", str(tmp_path)]) == 2
    assert cli.main(["student-edition", "--notebooks", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert "no such folder" in out[0] and "no .ipynb files" in out[1]


def _names(tree):
    """(names bound, names read) by one cell's code."""
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, (ast.Store, ast.Del)) else read).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return bound, read


def solution_only_names(nb_cells) -> list[tuple[str, str]]:
    """``[(name, start of the cell)]``: names a kept cell reads that only an earlier solution cell binds."""
    public, hidden, bad = set(dir(builtins)), set(), []
    for c in nb_cells:
        if c.get("cell_type") != "code":
            continue
        text = "\n".join(l for l in se.source(c).splitlines() if not l.lstrip().startswith(("%", "!")))
        bound, read = _names(ast.parse(text))
        if se.is_solution(c):
            hidden |= bound - public
            continue
        bad += [(n, text.splitlines()[0][:60]) for n in sorted((read & hidden) - public - bound)]
        public |= bound
    return bad


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_student_edition_needs_nothing_from_a_solution(nb):
    """A kept cell that reads a variable only a solution defines would fail in the student edition."""
    bad = solution_only_names(cells(nb))
    assert not bad, f"{nb.name}: kept cells read names only solution cells define: {bad}"


def test_the_dependency_check_catches_a_leak():
    code = lambda s: {"cell_type": "code", "source": s, "metadata": {}}  # noqa: E731
    leak = [code("import numpy as np"), code(se.SOLUTION_TITLE + "\ncounts = np.zeros(3)"), code("print(counts.sum())")]
    assert solution_only_names(leak) == [("counts", "print(counts.sum())")]
    fine = [code(se.SOLUTION_TITLE + "\nx = 1"), code("x = 2\nprint(x)")]
    assert solution_only_names(fine) == []
