"""Every lesson notebook follows CONTRIBUTING.md's template and agrees with its jupytext pair."""
import json
import re
from pathlib import Path

import jupytext
import pytest
import yaml

from course_lib.commands import badges

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [p.name for p in NOTEBOOKS]
#: Solution cells: collapsed behind a toggle in the book (input and output), a form in Colab.
SOLUTION_TAG = "hide-cell"
SOLUTION_TITLE = '# @title Solution {display-mode: "form"}'
#: Words that may precede "lesson(s)" without a number ("this lesson", "later lessons").
LESSON_WORDS = {"this", "each", "every", "a", "the", "first", "last", "next", "later", "following", "previous",
                "earlier", "same"}


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def test_there_are_lessons():
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_pair_agrees(nb):
    py = nb.with_suffix(".py")
    assert py.exists(), f"{nb.name} has no py:percent pair {py.name}: run jupytext --sync {nb}"
    expected = jupytext.writes(jupytext.read(nb), fmt="py:percent")
    assert py.read_text(encoding="utf-8") == expected, f"{nb.name} and {py.name} differ: run jupytext --sync {nb}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(nb):
    for c in cells(nb):
        if c["cell_type"] == "code":
            assert not c.get("outputs") and c.get("execution_count") is None, \
                f"{nb.name} carries outputs: jupyter nbconvert --clear-output --inplace {nb}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_template(nb):
    cs = cells(nb)
    first = text(cs[0])
    assert cs[0]["cell_type"] == "markdown" and "colab-badge.svg" in first, "first cell must open with the Colab badge"
    setup = next((c for c in cs if c["cell_type"] == "code"), None)
    assert setup is not None and "google.colab" in text(setup) and "ensure_packages" in text(setup), \
        "the first code cell must be the setup cell of lesson 1"
    md = "\n".join(text(c) for c in cs if c["cell_type"] == "markdown")
    assert re.search(r"^#+ Learning objectives", md, re.M), "missing '## Learning objectives'"
    assert re.search(r"^#+ Summary", md, re.M), "missing '## Summary'"
    assert re.search(r"\b(Eq\.|Equation|Table) ?[IVX\d]", md), "name the paper Eq./Table the lesson implements"
    code = [text(c) for c in cs if c["cell_type"] == "code"]
    asked = {m for src in code for m in re.findall(r'^check\("([\w.]+)", \w+\)', src, re.M)}
    solved = {m for src in code for m in re.findall(r'assert check\("([\w.]+)"', src)}
    assert len(asked) >= 2, "at least two auto-checked exercises: check(\"NN.name\", answer)"
    assert asked <= solved, f"exercises without a checked solution cell: {sorted(asked - solved)}"
    prefix = nb.name[:2]
    assert all(e.startswith(prefix + ".") for e in asked), f"exercise ids must start with {prefix}."
    for c in cs:
        if c["cell_type"] == "code" and "assert check(" in text(c):
            assert SOLUTION_TAG in c.get("metadata", {}).get("tags", []), f"solution cells are tagged {SOLUTION_TAG}"
            assert text(c).splitlines()[0] == SOLUTION_TITLE, \
                f"a solution cell starts with {SOLUTION_TITLE!r} (collapsed in Colab)"


CODING_EXERCISE = re.compile(r'^def (\w+)\(.*?^check\("([\w.]+)", \1\)', re.M | re.S)


def coding_exercises(nb) -> list[str]:
    """Ids of the coding exercises of a notebook: a cell that defines a function and passes it,
    not its result, to ``check`` (the student writes the function; see course_lib.exercises)."""
    return [m.group(2) for c in cells(nb) if c["cell_type"] == "code" and SOLUTION_TITLE not in text(c)
            for m in CODING_EXERCISE.finditer(text(c))]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_every_lesson_has_a_coding_exercise(nb):
    """Issue 20: students write code: at least one exercise whose answer is a function."""
    found = coding_exercises(nb)
    assert found, (f"{nb.name}: no coding exercise: a cell 'def my_fn(...): ...' then 'check(\"NN.name\", my_fn)', "
                   "checked with course_lib.exercises.check_function")
    solved = "\n".join(text(c) for c in cells(nb))
    for e in found:
        assert f'assert check("{e}"' in solved, f"{nb.name}: coding exercise {e} has no solution cell"


#: A lesson ends with open questions (a numbered list under "## Questions") and states its
#: measured runtime on a CPU and on a Colab GPU ("**Runtime.** ...", "not measured" allowed).
QUESTIONS = re.compile(r"^#+ Questions\s*$(?P<body>.*)", re.M | re.S)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_questions_and_runtime(nb):
    md = [text(c) for c in cells(nb) if c["cell_type"] == "markdown"]
    m = next((QUESTIONS.search(t) for t in md if QUESTIONS.search(t)), None)
    assert m, f"{nb.name}: end with '## Questions', a numbered list of open questions"
    assert len(re.findall(r"^\d+\. ", m.group("body"), re.M)) >= 4, f"{nb.name}: at least 4 questions"
    runtime = next((t for t in md if "**Runtime.**" in t), "")
    para = runtime[runtime.find("**Runtime.**"):].split("\n\n")[0]
    assert "CPU" in para and "GPU" in para, \
        f"{nb.name}: state '**Runtime.**' on a CPU and on a Colab GPU (measured, with the command; or 'not measured')"


def test_coding_exercise_detection():
    nb_cells = [{"cell_type": "code", "source": "def f(x):\n    ...\n\ncheck(\"01.f\", f)"},
                {"cell_type": "code", "source": "answer = None\ncheck(\"01.v\", answer)"},
                {"cell_type": "code", "source": "def g(x):\n    return 1\n\ncheck(\"01.g\", g(3))"}]
    assert [m.group(2) for c in nb_cells for m in CODING_EXERCISE.finditer(c["source"])] == ["01.f"]


def test_badges_point_at_the_repo_constant():
    assert badges.stale_files(ROOT / "notebooks") == []


def test_every_notebook_is_in_the_book():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {c["file"] for part in [toc] for c in part.get("chapters", [])}
    for nb in NOTEBOOKS:
        assert f"notebooks/{nb.stem}" in files, f"add '- file: notebooks/{nb.stem}' to _toc.yml"
        assert nb.stem in (ROOT / "README.md").read_text(), f"list {nb.stem} in README.md"


def test_badge_rewrite_detects_a_stale_url(tmp_path):
    nb = NOTEBOOKS[0]
    stale = nb.read_text().replace("colab.research.google.com/github/", "colab.research.google.com/github/someone/else/")
    (tmp_path / nb.name).write_text(stale)
    assert badges.stale_files(tmp_path) == [tmp_path / nb.name]
    (tmp_path / nb.name).write_text(badges.expected_text(stale))
    assert "someone/else" in stale and badges.stale_files(tmp_path) == []


def setup_cell(nb):
    return text(next(c for c in cells(nb) if c["cell_type"] == "code"))


def book_lessons(root=ROOT):
    """Lesson numbers of the notebooks listed in _toc.yml (the NN prefix of each file)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [c["file"] for c in toc.get("chapters", [])]
    return {int(m.group(1)) for f in files if (m := re.match(r"notebooks/(\d+)_", f))}


def bad_lesson_references(markdown: str, lessons: set[int]) -> list[str]:
    """References in ``markdown`` to a lesson that is not in the book: "Lesson 9", "Lessons 4-9",
    or a lesson named by topic ("the interpolation lessons") instead of by number."""
    bad = []
    for m in re.finditer(r"\b[Ll]essons?\s+(\d+(?:\s*(?:–|-|,|and|or)\s*\d+)*)", markdown):
        if any(int(n) not in lessons for n in re.findall(r"\d+", m.group(1))):
            bad.append(m.group(0))
    for m in re.finditer(r"\b(\w+)\s+lessons?\b(?!\s*\d)", markdown, re.I):
        if m.group(1).lower() not in LESSON_WORDS:
            bad.append(m.group(0))
    return bad


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_lessons_point_only_to_lessons_in_the_book(nb):
    md = "\n".join(text(c) for c in cells(nb) if c["cell_type"] == "markdown")
    bad = bad_lesson_references(md, book_lessons())
    assert not bad, f"{nb.name} refers to lessons that are not in _toc.yml (or not by number): {bad}"


def test_lesson_reference_check_catches_a_missing_lesson():
    lessons = {1, 2, 3, 4, 5, 6, 7, 8}
    assert bad_lesson_references("**Next:** Lesson 9 turns to the other methods", lessons) == ["Lesson 9"]
    assert bad_lesson_references("Lessons 4–9 build it", lessons) == ["Lessons 4–9"]
    assert bad_lesson_references("The interpolation lessons use this ramp.", lessons) == ["interpolation lessons"]
    assert bad_lesson_references("Lessons 4–6 built it; this lesson and later lessons use Lesson 8.", lessons) == []


def test_setup_cell_is_the_same_in_every_notebook():
    first = setup_cell(NOTEBOOKS[0])
    for nb in NOTEBOOKS[1:]:
        assert setup_cell(nb) == first, f"{nb.name}: copy the setup cell of {NOTEBOOKS[0].name} unchanged"
    assert 'REPO_GIT = "' in first and "Could not clone" in first and "/content/course" in first


class _Colab:
    """Run the setup cell as in Colab: a fake google.colab module, subprocess.run recorded."""

    def __init__(self, monkeypatch, clone_returncode, course_exists=False):
        import os
        import subprocess
        import sys
        import types

        from course_lib import setup_env

        self.calls = []
        google = types.ModuleType("google")
        google.colab = types.ModuleType("google.colab")
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", google.colab)
        monkeypatch.setattr(sys, "path", list(sys.path))
        monkeypatch.setattr(os.path, "isdir", lambda p: course_exists if p == "/content/course" else False)
        monkeypatch.setattr(setup_env, "ensure_packages", lambda *a, **k: self.calls.append(["ensure_packages"]))

        def run(cmd, **kw):
            self.calls.append(list(cmd))
            code = clone_returncode if cmd[:2] == ["git", "clone"] else 0
            if kw.get("check") and code:
                raise subprocess.CalledProcessError(code, cmd)
            err = "fatal: repository 'https://github.com/x/y.git/' not found\n" if code else ""
            return subprocess.CompletedProcess(cmd, code, stdout="", stderr=err)

        monkeypatch.setattr(subprocess, "run", run)

    def execute(self, nb):
        exec(compile(setup_cell(nb), nb.name, "exec"), {"__name__": "__main__"})


@pytest.mark.parametrize("nb", NOTEBOOKS[:1], ids=IDS[:1])
def test_setup_cell_says_what_to_change_when_the_clone_fails(nb, monkeypatch):
    colab = _Colab(monkeypatch, clone_returncode=128)
    with pytest.raises(SystemExit) as err:
        colab.execute(nb)
    message = str(err.value)
    assert "REPO_GIT" in message and "upload" in message and "/content/course" in message, message
    assert "not found" in message, "git's reason is part of the message"
    assert len(re.findall(r"[.!?](\s|$)", message)) == 1, f"one sentence: {message}"
    assert [c[:2] for c in colab.calls] == [["git", "clone"]], "nothing is installed after a failed clone"


@pytest.mark.parametrize("nb", NOTEBOOKS[:1], ids=IDS[:1])
def test_setup_cell_uses_an_uploaded_course_folder(nb, monkeypatch):
    colab = _Colab(monkeypatch, clone_returncode=128, course_exists=True)
    colab.execute(nb)
    assert not any(c[:2] == ["git", "clone"] for c in colab.calls), "no clone when /content/course exists"
    assert colab.calls[-1] == ["ensure_packages"] and "/content/course" in colab.calls[0]
