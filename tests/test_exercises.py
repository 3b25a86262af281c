"""The exercise machinery (course_lib.exercises): check(), the coding-exercise runner
check_function() and its messages, and that every coding exercise of every lesson has a test."""
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import exercises
from course_lib.exercises import case, check, check_function, compare_values

ROOT = Path(__file__).resolve().parents[1]


def _double(x):
    return 2 * x


def test_value_exercises_still_work(capsys):
    """The old API: check(id, value) prints a verdict and returns it."""
    from course_lib import discriminators

    assert check("05.receptive_field", discriminators.receptive_field(4)) is True
    assert check("05.receptive_field", 1) is False
    assert check("05.receptive_field", None) is False
    out = capsys.readouterr().out
    assert "correct" in out and "not yet" in out and "not attempted" in out
    assert exercises.kind("05.receptive_field") == "value"


def test_check_function_names_the_input_the_expected_and_the_result():
    cases = [case("small", 1), case("edge: zero", 0), case("negative", -3)]
    check_function(lambda x: x + x, _double, cases)                      # right: no error
    with pytest.raises(AssertionError) as err:
        check_function(lambda x: x * x, _double, cases)                  # right on 0 only... wrong on 1
    msg = str(err.value)
    assert "small: (1)" in msg and "expected: 2" in msg and "got:      1" in msg, msg
    with pytest.raises(AssertionError) as err:
        check_function(lambda x: abs(2 * x), _double, cases)             # wrong only on the last case
    assert "negative: (-3)" in str(err.value) and "expected: -6" in str(err.value)


def test_check_function_reports_an_exception_with_its_input():
    def broken(x):
        return 1 / x
    with pytest.raises(AssertionError) as err:
        check_function(broken, lambda x: 1.0 if x == 0 else 1 / x, [case("one", 1), case("edge: zero", 0)])
    assert "edge: zero: (0)" in str(err.value) and "ZeroDivisionError" in str(err.value)


def test_an_unwritten_function_is_not_attempted(capsys):
    def au_vector(expression, intensity, aus):
        ...  # your code here
    assert check("01.au_vector_function", au_vector) is False
    assert "not attempted" in capsys.readouterr().out
    assert check("01.au_vector_function", 3) is False                    # not a function
    assert "your function itself" in capsys.readouterr().out


def test_compare_values_on_every_kind():
    assert compare_values(1.0, 1.0 + 1e-9) is None
    assert "instead of" in compare_values(1.0, 1.1)
    assert "shape" in compare_values(np.zeros((2, 3)), np.zeros((3, 2)))
    assert "index (1,)" in compare_values(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]))
    assert "complex" in compare_values(2.0, complex(2.0, 1e-3))
    assert "'b'" in compare_values({"a": 1, "b": "x"}, {"a": 1, "b": "y"})
    assert "keys missing" in compare_values({"a": 1}, {})
    assert "length" in compare_values((1, 2), (1, 2, 3))
    assert "(str)" in compare_values("23", 23)
    assert compare_values(3, 3.0) is None and compare_values(3, 3.5) is not None


def test_inputs_are_copied_for_each_call():
    def spoil(a):
        a += 1                    # in place
        return a.sum()
    x = np.zeros(3)
    check_function(spoil, lambda a: np.sum(a + 1), [case("zeros", x)])
    assert (x == 0).all()


def test_exercise_kind_is_checked():
    with pytest.raises(ValueError, match="kind"):
        exercises.exercise("99.x", kind="code")


def _function_exercises():
    import importlib
    import pkgutil

    for m in pkgutil.iter_modules(exercises.__path__):
        if re.fullmatch(r"lesson\d+", m.name):
            importlib.import_module(f"course_lib.exercises.{m.name}")
    return sorted(k for k, v in exercises._KINDS.items() if v == "function")


def test_every_lesson_1_to_8_has_a_coding_exercise():
    lessons = {e.split(".")[0] for e in _function_exercises()}
    assert {f"{n:02d}" for n in range(1, 9)} <= lessons, sorted(lessons)


def _notebook_coding_exercises():
    """Ids passed to check() together with a function the same cell defines, in every notebook."""
    import json

    pattern = re.compile(r'^def (\w+)\(.*?^check\("([\w.]+)", \1\)', re.M | re.S)
    found = set()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]:
            src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            if c["cell_type"] == "code":
                found |= {m.group(2) for m in pattern.finditer(src)}
    return found


def test_every_coding_exercise_is_fed_a_wrong_solution_by_a_test():
    """Each coding exercise (registered with kind="function", or a function passed to check() in a
    notebook) is named in a tests/test_exercises*.py file, which feeds it a wrong solution."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests").glob("test_exercises*.py"))
                     if p.name != "test_exercises.py")
    ids = set(_function_exercises()) | _notebook_coding_exercises()
    assert ids, "no coding exercise found"
    missing = sorted(e for e in ids if f'"{e}"' not in text)
    assert not missing, f"coding exercises without a test feeding them a wrong solution: {missing}"
