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
    asked = {m for src in code for m in re.findall(r'^check\("([\w.]+)", answer\)', src, re.M)}
    solved = {m for src in code for m in re.findall(r'assert check\("([\w.]+)"', src)}
    assert len(asked) >= 2, "at least two auto-checked exercises: check(\"NN.name\", answer)"
    assert asked <= solved, f"exercises without a checked solution cell: {sorted(asked - solved)}"
    prefix = nb.name[:2]
    assert all(e.startswith(prefix + ".") for e in asked), f"exercise ids must start with {prefix}."
    for c in cs:
        if c["cell_type"] == "code" and "assert check(" in text(c):
            assert "hide-input" in c.get("metadata", {}).get("tags", []), "solution cells are tagged hide-input"


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
