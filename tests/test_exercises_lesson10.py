"""Lesson 10's exercises: each coding checker accepts a right solution written here independently of
course_lib and rejects plausible wrong ones, naming the input it failed on; the value checker accepts
Eq. 6 worked out by hand with the method's weights."""
import numpy as np
import pytest
import torch

from course_lib.exercises.lesson10 import PARTS

from exercise_checks import accepts, rejects, verdict

pytestmark = pytest.mark.usefixtures("one_thread")


# ------------------------------------------------------------------ Eq. 1, least squares
def lsgan(d_real, d_fake):
    return ((d_real - 1) ** 2).mean() + (d_fake ** 2).mean()


def test_10_lsgan_function(capsys):
    accepts("10.lsgan_function", lsgan, capsys)
    # one mean over the real and fake scores together (half of Eq. 1 when the batches match)
    pooled = lambda r, f: torch.cat([((r - 1) ** 2).flatten(), (f ** 2).flatten()]).mean()  # noqa: E731
    rejects("10.lsgan_function", pooled, capsys, "on input", "expected:")
    # the generator's target for the fakes (1 instead of 0)
    g_side = lambda r, f: ((r - 1) ** 2).mean() + ((f - 1) ** 2).mean()                   # noqa: E731
    rejects("10.lsgan_function", g_side, capsys, "on input")
    # absolute instead of squared error
    l1 = lambda r, f: (r - 1).abs().mean() + f.abs().mean()                                # noqa: E731
    rejects("10.lsgan_function", l1, capsys, "on input")
    ok, out = verdict("10.lsgan_function", lambda r, f: None, capsys)
    assert not ok and "not attempted" in out


# ------------------------------------------------------------------ the forehead points of the face mask
def forehead(landmarks, forehead):
    lm = np.asarray(landmarks, dtype=np.float64)
    up = lm[27] - lm[8]                        # chin -> nose bridge: the face's own "up"
    return lm[17:27] + forehead * up


def test_10_forehead_function(capsys):
    accepts("10.forehead_function", forehead, capsys)
    # "up" taken as the image's -y axis: right for an upright face only
    image_up = lambda lm, f: lm[17:27] + f * np.array([0.0, -np.linalg.norm(lm[27] - lm[8])])  # noqa: E731
    rejects("10.forehead_function", image_up, capsys, "on input")
    # the whole jaw-to-brow distance measured from the brows' mean instead of each brow point
    mean_brow = lambda lm, f: np.repeat(lm[17:27].mean(0, keepdims=True), 10, 0) + f * (lm[27] - lm[8])  # noqa: E731
    rejects("10.forehead_function", mean_brow, capsys, "on input")
    # the eyebrows are landmarks 17-26: off by one
    shifted = lambda lm, f: lm[16:26] + f * (lm[27] - lm[8])                                # noqa: E731
    rejects("10.forehead_function", shifted, capsys, "on input")


# ------------------------------------------------------------------ Eq. 6
def test_10_full_objective(capsys):
    p = PARTS
    by_hand = p["gan"] + 10 * p["cycle"] + 1 * p["content"] + 5 * p["identity"] + 10 * p["mask"]
    accepts("10.full_objective", by_hand, capsys)
    rejects("10.full_objective", sum(p.values()), capsys)
    rejects("10.full_objective", by_hand - p["gan"], capsys)
