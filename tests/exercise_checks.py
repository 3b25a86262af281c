"""What every exercise test asks of a checker (tests/test_exercises*.py): the verdict it prints."""
from course_lib.exercises import check


def verdict(exercise_id, answer, capsys):
    """(accepted, what the checker printed)."""
    ok = check(exercise_id, answer)
    return ok, capsys.readouterr().out


def accepts(exercise_id, answer, capsys):
    ok, out = verdict(exercise_id, answer, capsys)
    assert ok, out


def rejects(exercise_id, answer, capsys, *words, on_input=False):
    """The checker rejects ``answer`` with "not yet" and every one of ``words`` in its message
    (``on_input``: and names the input it failed on, as a coding exercise's checker must)."""
    ok, out = verdict(exercise_id, answer, capsys)
    assert not ok and "not yet" in out, out
    if on_input:
        assert "on input" in out, out
    for w in words:
        assert w in out, f"{w!r} not in {out}"
    return out
