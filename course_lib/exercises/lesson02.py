"""Checkers of Lesson 2 (datasets: the synthetic FACS faces, RaFD, folder layouts)."""
import numpy as np

from course_lib import datasets, facs, render
from course_lib.exercises import case, check_function, exercise

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


#: The fields exercise 02.parse_function returns (``parse_rafd_name`` also gives the label index).
RAFD_FIELDS = ("camera", "subject", "ethnicity", "gender", "expression", "gaze")


def rafd_name_cases():
    """Inputs of exercise 02.parse_function: RaFD file names, random ones and edge cases."""
    rng = np.random.default_rng(2)
    out = [case("the example", RAFD_EXAMPLE),
           case("edge: camera 000 and a leading zero in the subject", "Rafd000_07_Caucasian_female_neutral_frontal.jpg"),
           case("edge: a folder with underscores in its name", "data/my_rafd_copy/Rafd135_61_Kid_male_happy_right.png"),
           case("edge: the extension in capitals", "Rafd180_45_Moroccan_female_contemptuous_left.JPG")]
    for i in range(4):
        name = (f"Rafd{int(rng.choice([0, 45, 90, 135, 180])):03d}_{int(rng.integers(1, 74)):02d}_"
                f"{rng.choice(['Caucasian', 'Moroccan', 'Kid'])}_{rng.choice(['female', 'male'])}_"
                f"{rng.choice(facs.EXPRESSIONS)}_{rng.choice(['frontal', 'left', 'right'])}.jpg")
        out.append(case(f"random {i + 1}", name))
    return out


def _parse_reference(path):
    d = datasets.parse_rafd_name(path)
    return {k: d[k] for k in RAFD_FIELDS}


@exercise("02.parse_function", kind="function")
def _parse_function(fn):
    check_function(fn, _parse_reference, rafd_name_cases())
