"""Checkers of Lesson 2 (datasets: the synthetic FACS faces, RaFD, folder layouts)."""
import numpy as np

from course_lib import datasets, facs, render
from course_lib.exercises import exercise

RAFD_EXAMPLE = "Rafd090_23_Moroccan_male_surprised_left.jpg"


@exercise("02.au12_landmarks")
def _au12_landmarks(answer):
    ident = render.sample_identity(0, pose=False)
    a0 = render.au_array({})[None]
    a1 = render.au_array({12: 1.0})[None]
    moved = np.linalg.norm(render.landmarks_batch([ident], a1, 128)[0] - render.landmarks_batch([ident], a0, 128)[0], axis=1)
    expected = {int(i) for i in np.flatnonzero(moved > 0.5)}
    got = {int(i) for i in answer}
    assert got <= set(range(68)), "landmark indices run from 0 to 67"
    assert not got - expected, f"{sorted(got - expected)} do not move by more than 0.5 px"
    assert not expected - got, (f"{len(expected - got)} moving landmark(s) are missing; compare the landmarks "
                                "with AU12 at 0 and at 1 for every index")


@exercise("02.rafd_fields")
def _rafd_fields(answer):
    d = datasets.parse_rafd_name(RAFD_EXAMPLE)
    assert isinstance(answer, dict), "answer should be a dict with keys camera, subject, expression, gaze"
    for key in ("camera", "subject", "expression", "gaze"):
        assert key in answer, f"key {key!r} is missing"
    assert int(answer["camera"]) == d["camera"], "the camera angle is the number after 'Rafd'"
    assert str(answer["subject"]) == d["subject"], "the subject is the second field, kept as text ('23')"
    assert facs.expression_index(str(answer["expression"])) == d["label"], "the expression is the fifth field"
    assert answer["gaze"] == d["gaze"], "the gaze direction is the last field before the extension"


@exercise("02.split_sizes")
def _split_sizes(answer):
    train = datasets.SyntheticFaces(50, split="train")
    test = datasets.SyntheticFaces(50, split="test")
    assert isinstance(answer, (tuple, list)) and len(answer) == 2, "answer should be (n_train_images, n_test_images)"
    assert tuple(int(x) for x in answer) == (len(train), len(test)), \
        "the split is 90/10 by identity, and every identity appears under all 8 expressions"
