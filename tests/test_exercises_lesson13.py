"""Lesson 13's checkers accept right solutions written here independently of course_lib and reject
plausible wrong ones, naming the input they failed on; the reference combination of the processes'
gradients is the whole batch's gradient."""
import torch

from course_lib.exercises import lesson13

from exercise_checks import verdict


def test_the_average_of_share_gradients_is_the_whole_batch_gradient():
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    for world in (1, 2, 4, 8):
        shares, whole = lesson13.share_gradients(x, world)
        assert torch.allclose(lesson13.combine_reference(shares), whole, atol=1e-6)
        if world > 1:
            assert not torch.allclose(sum(shares), whole, atol=1e-4)  # the sum is not it


def test_my_share(capsys):
    def my_share(n_global, world, rank):
        n = n_global // world
        return list(range(rank * n, rank * n + n))

    ok, out = verdict("13.my_share", my_share, capsys)
    assert ok, out
    strided = lambda n, w, r: list(range(r, n, w))          # noqa: E731 a valid sharding, but not the library's
    ok, out = verdict("13.my_share", strided, capsys)
    assert not ok and "on input random 1" in out, out
    off_by_one = lambda n, w, r: list(range(r * (n // w), (r + 1) * (n // w) + 1))  # noqa: E731
    ok, out = verdict("13.my_share", off_by_one, capsys)
    assert not ok and "on input" in out, out
    ok, out = verdict("13.my_share", lambda n, w, r: None, capsys)
    assert not ok and "not attempted" in out


def test_combine(capsys):
    ok, out = verdict("13.combine", lambda grads: sum(grads) / len(grads), capsys)
    assert ok, out
    ok, out = verdict("13.combine", lambda grads: sum(grads), capsys)   # the sum of the processes' gradients
    assert not ok and "on input random: 2 processes" in out, out
    ok, out = verdict("13.combine", lambda grads: grads[0], capsys)     # rank 0's own gradient only
    assert not ok and "on input random: 2 processes" in out, out


def test_division_factor(capsys):
    ok, out = verdict("13.division_factor", 4, capsys)
    assert ok, out
    for wrong, word in ((0.25, "other way"), (1, "no error"), ("4", "number")):
        ok, out = verdict("13.division_factor", wrong, capsys)
        assert not ok and word in out, out
