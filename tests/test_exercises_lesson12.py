"""Lesson 12's checkers accept a right solution written here independently of course_lib (a
one-hot mix, a straight AU path) and reject plausible wrong ones, naming the input they failed on."""
import torch

from course_lib import methods

from exercise_checks import verdict


def one_hot(labels, n=8):
    out = torch.zeros(len(labels), n)
    out[torch.arange(len(labels)), labels] = 1.0
    return out


def label_mix(source, target, t):
    return (1 - t) * one_hot(source) + t * one_hot(target)


def au_path(aus_src, aus_trg, steps):
    return torch.stack([aus_src + (aus_trg - aus_src) * (k / steps) for k in range(steps + 1)])


def test_label_mix(capsys):
    ok, out = verdict("12.label_mix", label_mix, capsys)
    assert ok, out
    swapped = lambda s, t_, t: label_mix(t_, s, t)                      # noqa: E731 t measured from the target
    ok, out = verdict("12.label_mix", swapped, capsys)
    assert not ok and "on input random" in out and "expected:" in out, out
    indices = lambda s, t_, t: (1 - t) * s.float() + t * t_.float()    # noqa: E731 mixes the indices, not one-hots
    ok, out = verdict("12.label_mix", indices, capsys)
    assert not ok and "shape" in out, out
    ok, out = verdict("12.label_mix", lambda s, t_, t: None, capsys)
    assert not ok and "not attempted" in out


def test_au_path(capsys):
    ok, out = verdict("12.au_path", au_path, capsys)
    assert ok, out
    no_end = lambda a, b, steps: torch.stack([a + (b - a) * (k / (steps + 1)) for k in range(steps + 1)])  # noqa: E731
    ok, out = verdict("12.au_path", no_end, capsys)
    assert not ok and "on input random 1" in out, out
    clipped = lambda a, b, steps: au_path(a, b, steps)[:-1]              # noqa: E731 forgets the target itself
    ok, out = verdict("12.au_path", clipped, capsys)
    assert not ok and "shape" in out, out


def test_au_methods(capsys):
    # written from the classes' attributes, not through the checker's code path
    expected = [n for n in methods.names() if getattr(methods.get(n), "conditioning") == "AUs"]
    assert "ganimation" in expected
    ok, out = verdict("12.au_methods", expected, capsys)
    assert ok, out
    ok, out = verdict("12.au_methods", expected + ["stargan"], capsys)
    assert not ok and "stargan" in out
    if len(expected) > 1:
        ok, out = verdict("12.au_methods", expected[:1], capsys)
        assert not ok and "missing" in out
