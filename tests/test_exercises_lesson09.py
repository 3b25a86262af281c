"""Lesson 9's exercises: each checker accepts a right solution written here independently of
course_lib and rejects plausible wrong ones, naming the input it failed on."""
import pytest
import torch

from course_lib.exercises import check

from exercise_checks import rejects, verdict

pytestmark = pytest.mark.usefixtures("one_thread")


def stitch(patches, boxes, size, mean=True, swap=False):
    """Each patch at its box, the mean where boxes overlap, 0 elsewhere (a loop over pixels' boxes)."""
    first = next(iter(patches.values()))
    total = torch.zeros(first.shape[0], first.shape[1], *size)
    count = torch.zeros(1, 1, *size)
    for k, p in patches.items():
        t, l, h, w = boxes[k]
        if swap:
            t, l = l, t
        total[:, :, t:t + h, l:l + w] += p
        count[:, :, t:t + h, l:l + w] += 1
    return total / count.clamp(min=1) if mean else total


def last_wins(patches, boxes, size):
    first = next(iter(patches.values()))
    out = torch.zeros(first.shape[0], first.shape[1], *size)
    for k, p in patches.items():
        t, l, h, w = boxes[k]
        out[:, :, t:t + h, l:l + w] = p
    return out


def test_stitch_exercise(capsys):
    assert check("09.stitch_function", stitch)
    capsys.readouterr()
    rejects("09.stitch_function", last_wins, capsys, "overlapping", "expected")        # pasting, no mean
    rejects("09.stitch_function", lambda p, b, s: stitch(p, b, s, mean=False), capsys, "overlapping")  # sum
    rejects("09.stitch_function", lambda p, b, s: stitch(p, b, s, swap=True), capsys, "on input")   # (x, y) swapped
    ok, out = verdict("09.stitch_function", lambda p, b, s: None, capsys)
    assert not ok and "not attempted" in out


def interpolation_loss(y_hat, y_p, d_out, lambda_int, squared=False, sign=-1.0):
    d = ((y_hat - y_p) ** 2).sum(1)
    dist = d if squared else d.sqrt()
    return dist.mean() + sign * lambda_int * d_out.mean()


def test_interpolation_loss_exercise(capsys):
    assert check("09.interpolation_loss_function", interpolation_loss)
    capsys.readouterr()
    rejects("09.interpolation_loss_function", lambda *a: interpolation_loss(*a, squared=True), capsys, "on input")
    rejects("09.interpolation_loss_function", lambda *a: interpolation_loss(*a, sign=1.0), capsys, "on input")
    rejects("09.interpolation_loss_function",                                      # mean over every element
            lambda y, p, d, lam: (y - p).abs().mean() - lam * d.mean(), capsys, "on input")


def test_pseudo_target_exercise(capsys):
    from course_lib.datasets import prototype_aus

    src, trg = prototype_aus(torch.tensor([0, 4]))                                  # angry, happy
    assert check("09.pseudo_target", src + 2 * (trg - src) / 3)
    capsys.readouterr()
    rejects("09.pseudo_target", trg, capsys, "final target")
    rejects("09.pseudo_target", src + (trg - src) / 3, capsys, "stage 1")
    rejects("09.pseudo_target", (src + trg) / 2, capsys, "k = 2")
