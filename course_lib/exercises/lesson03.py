"""Checkers of Lesson 3 (landmarks, alignment, region crops).  Expected values come from
:mod:`course_lib.landmarks`, :mod:`course_lib.align` and :mod:`course_lib.regions` run on
``skimage.data.astronaut()`` (deterministic), never written in by hand."""
import functools

import numpy as np

from course_lib.exercises import exercise


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
