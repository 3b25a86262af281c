"""Checkers of Lesson 3 (landmarks, alignment, region crops).  Expected values come from
:mod:`course_lib.landmarks`, :mod:`course_lib.align` and :mod:`course_lib.regions` run on
``skimage.data.astronaut()`` (deterministic), never written in by hand."""
import functools

import numpy as np

from course_lib.exercises import case, check_function, exercise


@functools.lru_cache(maxsize=1)
def _astronaut():
    from skimage import data

    from course_lib import align, landmarks

    photo = data.astronaut()
    face, _ = landmarks.largest_face(photo)
    return face.landmarks, align.align(photo, face.landmarks)


@exercise("03.eye_angle")
def _eye_angle(answer):
    from course_lib.align import eye_centres

    le, re = eye_centres(_astronaut()[0])
    expected = np.degrees(np.arctan2(re[1] - le[1], re[0] - le[0]))
    a = float(answer)
    assert abs(a) <= 90, "an angle in degrees between -90 and 90 is expected (did you give radians, or x/y swapped?)"
    assert abs(a + expected) >= 0.05 or abs(expected) < 0.05, (
        "check the sign: image y grows downwards; use atan2(y_right - y_left, x_right - x_left)")
    assert abs(a - expected) < 0.05, ("not quite: take the centres (means) of points 36-41 and 42-47, "
                                      "then atan2(dy, dx) in degrees")


@exercise("03.mouth_box")
def _mouth_box(answer):
    from course_lib import regions

    expected = regions.region_boxes(_astronaut()[1].landmarks, "lgp")["mouth"].tolist()
    a = [int(v) for v in np.asarray(answer).reshape(-1)]
    assert len(a) == 4, "a box is four integers: (top, left, height, width)"
    assert a[2:] == [48, 64], "LGP-GAN IV.B: the mouth region is 48 (high) x 64 (wide)"
    assert a[:2] == expected[:2], ("top/left are off: centre = mean of points 48-67 of the *aligned* landmarks, "
                                   "top = round(cy - 24), left = round(cx - 32) (round half up)")


@exercise("03.background_pixels")
def _background_pixels(answer):
    from course_lib import regions

    a = _astronaut()[1]
    _, mask = regions.background(a.image, regions.region_boxes(a.landmarks, "lgp"))
    expected = int(mask.size - mask.sum())
    assert int(answer) == answer, "a pixel count is an integer"
    assert int(answer) != 128 * 128 - 48 * 96 - 48 * 64 or expected == int(answer), (
        "close: the eye and mouth boxes overlap by a few rows here, so the overlap must not be removed twice")
    assert int(answer) == expected, "count the pixels of the 128x128 face that are in neither box"


def region_box_cases():
    """Inputs of exercise 03.region_box_function: ``(landmarks (68, 2), region)`` of a 128x128 face."""
    from course_lib import regions

    rng = np.random.default_rng(3)
    # a face-like layout: the mean of 200 synthetic faces would do too; a jittered grid is enough here
    base = np.zeros((68, 2))
    base[:, 0] = np.linspace(30, 98, 68)
    base[:, 1] = 64
    base[36:48, 1] = 50          # eyes
    base[48:68, 1] = 95          # mouth
    out = []
    for i in range(3):
        lm = base + rng.normal(0, 3, (68, 2))
        out.append(case(f"random face {i + 1}, mouth", lm, "mouth"))
        out.append(case(f"random face {i + 1}, eye", lm, "eye"))
    half = base.copy()
    idx = regions.REGION_LANDMARKS["lgp"]["mouth"]
    half[idx] += np.array([64.5, 90.5]) - half[idx].mean(0)     # centre at x 64.5, y 90.5: corner at .5
    out.append(case("edge: a centre that rounds half up", half, "mouth"))
    low = base.copy()
    low[idx] += np.array([64.0, 120.0]) - low[idx].mean(0)      # mouth 8 px above the bottom edge
    out.append(case("edge: mouth near the bottom edge (keep the box inside)", low, "mouth"))
    left = base.copy()
    eyes = regions.REGION_LANDMARKS["lgp"]["eye"]
    left[eyes] += np.array([20.0, 10.0]) - left[eyes].mean(0)   # eyes near the top-left corner
    out.append(case("edge: eyes near the top-left corner", left, "eye"))
    return out


def _box_reference(landmarks, region):
    from course_lib import regions

    return tuple(int(v) for v in regions.region_boxes(landmarks, "lgp")[region])


@exercise("03.region_box_function", kind="function")
def _region_box_function(fn):
    check_function(fn, _box_reference, region_box_cases(), compare=_same_box)


def _same_box(expected, got):
    got = tuple(int(v) for v in np.asarray(got).reshape(-1)) if got is not None else None
    if got is None or len(got) != 4:
        return "a box is four integers (top, left, height, width)"
    return None if got == expected else f"{got} instead of {expected}"
