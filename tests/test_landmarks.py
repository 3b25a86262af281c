"""course_lib.landmarks: dlib HOG detector + 68-point predictor on the two real photos that ship offline."""

import numpy as np
import pytest

from course_lib import landmarks
from course_lib.images import ImageError


def _photos():
    import matplotlib.cbook
    from PIL import Image
    from skimage import data

    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        grace = np.asarray(im.convert("RGB"))
    return {"astronaut": data.astronaut(), "grace_hopper": grace}


PHOTOS = _photos()


@pytest.fixture(scope="module")
def faces():
    return {k: landmarks.detect_faces(im) for k, im in PHOTOS.items()}


def test_model_files_ship_in_package():
    for f in (landmarks.PREDICTOR_68, landmarks.MMOD_DETECTOR):
        p = landmarks.model_path(f)
        assert p.is_file() and p.stat().st_size > 100_000


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_one_face_68_points(faces, name):
    found = faces[name]
    assert len(found) == 1
    lm = found[0].landmarks
    h, w = PHOTOS[name].shape[:2]
    assert lm.shape == (68, 2) and lm.dtype == np.float32
    assert (lm >= 0).all() and (lm[:, 0] < w).all() and (lm[:, 1] < h).all()
    # anatomy, in iBUG-68 order: brows above eyes above nose tip above mouth above chin;
    # image-left eye (36-41) left of the image-right eye (42-47); all inside the face box
    y = lambda idx: lm[idx, 1].mean()
    assert y(range(17, 27)) < y(range(36, 48)) < lm[30, 1] < y(range(48, 68)) < lm[8, 1]
    assert lm[36:42, 0].mean() < lm[42:48, 0].mean()
    l, t, r, b = found[0].box
    assert l - 10 <= lm[36:48, 0].min() and lm[36:48, 0].max() <= r + 10 and t <= lm[36:48, 1].min()


def test_several_faces_take_largest_and_warn():
    # upsample=1 makes dlib report a weak second "face" on the astronaut's suit
    many = landmarks.detect_faces(PHOTOS["astronaut"], upsample=1)
    assert len(many) == 2 and many[0].area > many[1].area
    with pytest.warns(UserWarning, match="astro.png: 2 faces found; using the largest"):
        face, n = landmarks.largest_face(PHOTOS["astronaut"], upsample=1, name="astro.png")
    assert n == 2 and face.box == many[0].box


def test_no_face_names_the_image():
    blank = np.full((200, 200, 3), 128, np.uint8)
    with pytest.raises(landmarks.FaceNotFoundError, match="blank.png: no face"):
        landmarks.landmarks(blank, name="blank.png")


def test_bad_files_name_the_file(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((64, 64), np.uint8)).save(tmp_path / "gray.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    for f, msg in (("gray.png", "grayscale"), ("broken.jpg", "corrupt"), ("missing.png", "no such file")):
        with pytest.raises(ImageError, match=msg) as err:
            landmarks.landmarks(tmp_path / f)
        assert f in str(err.value)
    with pytest.raises(ValueError, match="uint8"):
        landmarks.landmarks(np.zeros((10, 10), np.float32))


@pytest.mark.slow
def test_cnn_detector_agrees_with_hog():
    crop = np.ascontiguousarray(PHOTOS["astronaut"][40:220, 120:300])   # small: MMOD is slow on a CPU
    cnn, hog = landmarks.detect_faces(crop, cnn=True), landmarks.detect_faces(crop)
    assert len(cnn) == 1 and len(hog) == 1
    eyes = lambda f: f.landmarks[36:48].mean(0)
    assert np.abs(eyes(cnn[0]) - eyes(hog[0])).max() < 3.0        # same face, same landmarks (to a few px)
