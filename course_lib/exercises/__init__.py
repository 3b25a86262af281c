"""Auto-checked exercises.

Each lesson NN has a module ``course_lib.exercises.lessonNN`` whose checkers are
registered with :func:`exercise`.  A notebook calls ``check("NN.name", answer)``:

* ``answer`` still ``None`` (not attempted) -> prints a reminder, returns ``False``;
* a wrong answer -> prints what is wrong (a hint, never the solution), returns ``False``;
* a right answer -> prints a tick, returns ``True``.

It never raises for a wrong answer, so "Run all" keeps going for a student.  The
notebook's hidden solution cell runs ``assert check(id, solution)``, so CI fails when a
reference solution and its checker disagree.  Expected values are computed from the
library, never written in by hand.
"""
from __future__ import annotations

import importlib
from typing import Any, Callable

_CHECKERS: dict[str, Callable[[Any], None]] = {}


def exercise(exercise_id: str):
    """Register ``fn(answer)`` as the checker of ``exercise_id``: it raises ``AssertionError(hint)``."""
    def deco(fn):
        _CHECKERS[exercise_id] = fn
        return fn
    return deco


def _checker(exercise_id: str) -> Callable[[Any], None]:
    lesson = exercise_id.split(".", 1)[0]
    if exercise_id not in _CHECKERS:
        try:
            importlib.import_module(f"{__name__}.lesson{lesson}")
        except ModuleNotFoundError:
            pass
    if exercise_id not in _CHECKERS:
        raise ValueError(f"unknown exercise {exercise_id!r}; known: {', '.join(sorted(_CHECKERS)) or 'none'}")
    return _CHECKERS[exercise_id]


def check(exercise_id: str, answer: Any) -> bool:
    """Check ``answer`` for exercise ``exercise_id``; print the verdict and return it."""
    checker = _checker(exercise_id)
    if answer is None or answer is Ellipsis:
        print(f"Exercise {exercise_id}: not attempted yet - replace None with your answer and re-run.")
        return False
    try:
        checker(answer)
    except AssertionError as err:
        print(f"Exercise {exercise_id}: not yet. {err}")
        return False
    except Exception as err:  # a student's answer of the wrong type, say
        print(f"Exercise {exercise_id}: not yet. Checking your answer raised {type(err).__name__}: {err}")
        return False
    print(f"Exercise {exercise_id}: correct \u2714")
    return True
