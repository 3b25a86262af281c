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

**Coding exercises.** The student writes a *function*; the answer is the function itself::

    def attention_blend(x, color, mask):
        ...  # your code here

    check("04.blend_function", attention_blend)

Its checker calls :func:`check_function`, which runs the student's function and the
library's reference on the same inputs, one :func:`case` after another (random ones and
edge cases), and stops at the first input where they disagree with a message naming that
input, what was expected and what came back (or what the function raised).  A function
that still returns ``None`` (an unwritten body) counts as "not attempted".  Helpers:

* :func:`case` ``(label, *args, **kwargs)`` -- one input, with a label shown in messages
  ("edge: mask of ones");
* :func:`check_function` ``(fn, reference, cases, compare=..., run=...)`` -- the runner;
  ``run(f, case)`` (optional) turns a call into the outcome to compare (e.g. a loss's value
  *and* its gradient w.r.t. a network's weights, to catch a missing ``create_graph``); it
  may raise ``AssertionError(hint)`` for a wrong outcome of the student's function only;
* :func:`compare_values` ``(expected, got, rtol, atol)`` -- the default comparison of
  numbers, arrays, tensors, sequences and dicts; returns ``None`` or why they differ;
* :func:`show` -- a short text of a value (tensors and arrays: shape and first values).

Register a coding exercise with ``@exercise("NN.name", kind="function")`` so that the
notebook tests can tell it apart (:func:`kind`).  Every such checker needs a test that feeds
it a plausible wrong solution and asserts it is rejected (``tests/test_exercises*.py``).
"""
from __future__ import annotations

import copy
import importlib
import math
from typing import Any, Callable, NamedTuple

_CHECKERS: dict[str, Callable[[Any], None]] = {}
_KINDS: dict[str, str] = {}
#: Kinds of exercise: an answer value ("value") or a function the student writes ("function").
KINDS = ("value", "function")


class NotAttempted(Exception):
    """Raised by a checker when the student's function has no body yet (it returned None)."""


def exercise(exercise_id: str, kind: str = "value"):
    """Register ``fn(answer)`` as the checker of ``exercise_id``: it raises ``AssertionError(hint)``.

    ``kind="function"`` marks a coding exercise (the answer is a function, see :func:`check_function`)."""
    if kind not in KINDS:
        raise ValueError(f"exercise {exercise_id!r}: kind={kind!r}, expected one of {KINDS}")

    def deco(fn):
        _CHECKERS[exercise_id] = fn
        _KINDS[exercise_id] = kind
        return fn
    return deco


def kind(exercise_id: str) -> str:
    """``"value"`` or ``"function"``: what the answer of ``exercise_id`` is."""
    _checker(exercise_id)
    return _KINDS[exercise_id]


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
    except NotAttempted as err:
        print(f"Exercise {exercise_id}: not attempted yet - {err}")
        return False
    except AssertionError as err:
        print(f"Exercise {exercise_id}: not yet. {err}")
        return False
    except Exception as err:  # a student's answer of the wrong type, say
        print(f"Exercise {exercise_id}: not yet. Checking your answer raised {type(err).__name__}: {err}")
        return False
    print(f"Exercise {exercise_id}: correct \u2714")
    return True


# --------------------------------------------------------------------------- coding exercises

class Case(NamedTuple):
    """One input of a coding exercise: a label for messages, positional and keyword arguments."""
    label: str
    args: tuple
    kwargs: dict


def case(label: str, *args, **kwargs) -> Case:
    """One input of a coding exercise, e.g. ``case("edge: mask of ones", x, c, torch.ones(1, 1, 2, 2))``."""
    return Case(label, args, kwargs)


def show(value: Any, limit: int = 6) -> str:
    """A short, readable text of ``value``: tensors and arrays as shape, dtype and first values."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover
        np = None
    if type(value).__module__.startswith("torch") and hasattr(value, "shape") and hasattr(value, "detach"):
        flat = value.detach().flatten()[:limit].tolist()
        more = ", ..." if value.numel() > limit else ""
        return f"tensor of shape {tuple(value.shape)} [{', '.join(_num(v) for v in flat)}{more}]"
    if np is not None and isinstance(value, np.ndarray):
        flat = value.reshape(-1)[:limit].tolist()
        more = ", ..." if value.size > limit else ""
        return f"array of shape {value.shape}, dtype {value.dtype} [{', '.join(_num(v) for v in flat)}{more}]"
    if type(value).__module__.startswith("torch"):      # a network, an optimiser
        return f"<{type(value).__name__}>"
    if callable(value) and hasattr(value, "__name__"):
        return f"<{type(value).__name__} {value.__name__}>"
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return _num(value)
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k!r}: {show(v, limit)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)) and any(hasattr(v, "shape") for v in value):
        text = ("[" if isinstance(value, list) else "(") + ", ".join(show(v, limit) for v in value) + \
            ("]" if isinstance(value, list) else ")")
    else:
        text = repr(value)
    return text if len(text) <= 400 else text[:397] + "..."


def _num(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else repr(v)


def _describe(c: Case) -> str:
    parts = [show(a) for a in c.args] + [f"{k}={show(v)}" for k, v in c.kwargs.items()]
    return f"{c.label}: ({', '.join(parts)})"


def compare_values(expected: Any, got: Any, rtol: float = 1e-4, atol: float = 1e-5) -> str | None:
    """``None`` when ``got`` equals ``expected`` (numbers within ``rtol``/``atol``), else why not.

    Tensors, numpy arrays, numbers, strings, sequences and dicts (compared key by key)."""
    import numpy as np

    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"expected a dict, got {type(got).__name__}"
        missing, extra = set(expected) - set(got), set(got) - set(expected)
        if missing:
            return f"keys missing: {sorted(map(str, missing))}"
        if extra:
            return f"unexpected keys: {sorted(map(str, extra))}"
        for k in expected:
            why = compare_values(expected[k], got[k], rtol, atol)
            if why:
                return f"[{k!r}]: {why}"
        return None
    if isinstance(expected, str) or isinstance(got, str):
        return None if (type(got) is type(expected) and got == expected) else \
            f"expected {expected!r} ({type(expected).__name__}), got {got!r} ({type(got).__name__})"
    is_tensor = lambda v: type(v).__module__.startswith("torch") and hasattr(v, "detach")  # noqa: E731
    if is_tensor(expected) or isinstance(expected, np.ndarray):
        exp = expected.detach().cpu().numpy() if is_tensor(expected) else expected
        if got is None or isinstance(got, (str, dict)):
            return f"expected an array, got {type(got).__name__}"
        g = got.detach().cpu().numpy() if is_tensor(got) else np.asarray(got)
        if g.shape != exp.shape:
            return f"shape {g.shape}, expected {exp.shape}"
        if not np.issubdtype(g.dtype, np.number) and g.dtype != bool:
            return f"dtype {g.dtype}, expected numbers"
        if np.iscomplexobj(g) and not np.iscomplexobj(exp):
            return "complex values, expected real ones"
        bad = ~np.isclose(g.astype(np.float64), exp.astype(np.float64), rtol=rtol, atol=atol)
        if bad.any():
            i = tuple(int(v) for v in np.argwhere(bad)[0])
            return f"{int(bad.sum())} of {bad.size} value(s) differ, first at index {i}: {_num(float(g[i]))} instead of {_num(float(exp[i]))}"
        return None
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) and not (is_tensor(got) or isinstance(got, np.ndarray)):
            return f"expected a sequence of {len(expected)}, got {type(got).__name__}"
        got = list(got)
        if len(got) != len(expected):
            return f"length {len(got)}, expected {len(expected)}"
        for i, (e, g) in enumerate(zip(expected, got)):
            why = compare_values(e, g, rtol, atol)
            if why:
                return f"[{i}]: {why}"
        return None
    if isinstance(expected, (bool, int, float)) or (np.isscalar(expected) and not isinstance(expected, str)):
        if is_tensor(got) and got.numel() == 1:
            got = got.item()
        if isinstance(got, np.ndarray) and got.size == 1:
            got = got.item()
        if isinstance(got, complex) or np.iscomplexobj(got):
            return f"a complex number {got}, expected a real one (keep the real part)"
        try:
            g = float(got)
        except (TypeError, ValueError):
            return f"expected a number, got {type(got).__name__}"
        e = float(expected)
        if isinstance(expected, (int, np.integer)) and not isinstance(expected, bool) and g != e:
            return f"{show(got)} instead of {e:g}"
        if not math.isfinite(g) or abs(g - e) > atol + rtol * abs(e):
            return f"{show(got)} instead of {_num(e)}"
        return None
    return None if got == expected else f"{show(got)} instead of {show(expected)}"


def _call(f, c: Case):
    return f(*copy.deepcopy(c.args), **copy.deepcopy(c.kwargs))


def check_function(fn: Any, reference: Callable, cases, *, compare: Callable | None = None,
                   run: Callable | None = None, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Run the student's ``fn`` and ``reference`` on every :func:`case` of ``cases``; raise
    ``AssertionError`` at the first input where they disagree, naming the input, the expected
    value and what came back (or the exception ``fn`` raised).

    Each call gets deep copies of the case's arguments, so a function that changes its inputs
    in place cannot spoil the next call.  ``run(f, case)`` computes the outcome to compare
    (default: ``f(*case.args, **case.kwargs)``); ``compare(expected, got)`` returns ``None``
    or why they differ (default: :func:`compare_values` with ``rtol``/``atol``).  Raises
    :class:`NotAttempted` when ``fn`` returns ``None`` on the first case (its body is still
    ``...``)."""
    if not callable(fn):
        raise AssertionError(f"the answer should be your function itself (its name, without calling it), "
                             f"got {show(fn)}")
    run = run or _call
    compare = compare or (lambda e, g: compare_values(e, g, rtol, atol))
    for i, c in enumerate(cases):
        expected = run(reference, c)
        try:
            got = run(fn, c)
        except AssertionError as err:
            raise AssertionError(f"on input {_describe(c)}: {err}") from None
        except NotAttempted:
            raise
        except Exception as err:
            raise AssertionError(f"on input {_describe(c)} your function raised {type(err).__name__}: {err}") from None
        if got is None and i == 0 and expected is not None:
            raise NotAttempted("your function returns None: write its body, then re-run this cell.")
        why = compare(expected, got)
        if why:
            raise AssertionError(f"on input {_describe(c)}\n  expected: {show(expected)}\n  got:      {show(got)}"
                                 f"\n  ({why})")
