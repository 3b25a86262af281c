"""course_lib.align: similarity alignment (eyes level, fixed positions) and the region crops on real photos."""
import numpy as np
import pytest
import torch

from course_lib import align, landmarks, regions
from course_lib.images import to_tensor
from skimage.transform import SimilarityTransform

from test_landmarks import PHOTOS


@pytest.fixture(scope="module")
def aligned():
    out = {}
    for k, im in PHOTOS.items():
        face, n = landmarks.largest_face(im)
        out[k] = (face, align.align(im, face.landmarks))
    return out


def test_canonical_eyes():
    np.testing.assert_allclose(align.canonical_eyes(128), [[42, 48], [86, 48]])
    np.testing.assert_allclose(align.canonical_eyes(256), [[84, 96], [172, 96]])


def _pattern(x, y):
    """A smooth RGB pattern (long wavelengths, so resampling barely changes it)."""
    return np.stack([127 + 100 * np.sin(x / 9.0), 127 + 100 * np.cos(y / 11.0), 127 + 60 * np.sin((x + y) / 13.0)], -1)


class _HidesFromEstimate(type(SimilarityTransform)):
    """Metaclass: the class has no ``from_estimate`` attribute, as before scikit-image 0.26."""
    def __getattribute__(cls, name):
        if name == "from_estimate":
            raise AttributeError(name)
        return super().__getattribute__(name)


class OldApiSimilarity(SimilarityTransform, metaclass=_HidesFromEstimate):
    """SimilarityTransform with the pre-0.26 API only (``estimate`` returning a bool)."""


HAS_FROM_ESTIMATE = hasattr(SimilarityTransform, "from_estimate")


@pytest.fixture(params=["from_estimate", "estimate"])
def skimage_api(request, monkeypatch):
    """Run a test with each scikit-image estimation API: 0.26's ``from_estimate`` (skipped
    before 0.26) and the ``estimate`` method of 0.21-0.25 (a class without ``from_estimate``)."""
    import skimage.transform

    if request.param == "from_estimate":
        if not HAS_FROM_ESTIMATE:
            pytest.skip(f"scikit-image {skimage.__version__} has no SimilarityTransform.from_estimate")
    else:
        assert not hasattr(OldApiSimilarity, "from_estimate")
        monkeypatch.setattr(skimage.transform, "SimilarityTransform", OldApiSimilarity)
    return request.param


@pytest.mark.filterwarnings("ignore:`estimate` is deprecated:FutureWarning")
def test_both_skimage_apis_give_the_same_transform():
    src = np.array([[200.3, 240.1], [281.7, 229.4]])
    dst = align.canonical_eyes()
    old = align.estimate_similarity(src, dst, OldApiSimilarity)
    assert type(old) is OldApiSimilarity
    np.testing.assert_allclose(old(src), dst, atol=1e-9)
    if HAS_FROM_ESTIMATE:
        new = align.estimate_similarity(src, dst, SimilarityTransform)
        assert type(new) is SimilarityTransform
        np.testing.assert_allclose(new.params, old.params, atol=1e-12)
    # through align(): the estimate path gives the same crop and landmarks
    im = PHOTOS["astronaut"]
    face, _ = landmarks.largest_face(im)
    a = align.align(im, face.landmarks)
    with pytest.MonkeyPatch.context() as mp:
        import skimage.transform
        mp.setattr(skimage.transform, "SimilarityTransform", OldApiSimilarity)
        b = align.align(im, face.landmarks)
    assert type(b.transform) is OldApiSimilarity
    np.testing.assert_allclose(b.transform.params, a.transform.params, atol=1e-9)
    np.testing.assert_allclose(b.landmarks, a.landmarks, atol=1e-4)
    assert np.array_equal(a.image, b.image)


@pytest.mark.filterwarnings("ignore:`estimate` is deprecated:FutureWarning")
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_failed_estimation_is_a_value_error(skimage_api):
    from skimage.transform import SimilarityTransform as current

    # both points at one place: no similarity maps them onto two distinct targets
    with pytest.raises(ValueError, match="could not estimate the similarity transform"):
        align.estimate_similarity(np.zeros((2, 2)), align.canonical_eyes(), current)


@pytest.mark.filterwarnings("ignore:`estimate` is deprecated:FutureWarning")
def test_align_inverts_a_known_similarity(skimage_api):
    # canonical face frame: eyes exactly at the targets; T maps it into a 300x260 "photo"
    rng = np.random.default_rng(3)
    canon = rng.uniform(20, 108, (68, 2))
    canon[36:42] += align.canonical_eyes()[0] - canon[36:42].mean(0)
    canon[42:48] += align.canonical_eyes()[1] - canon[42:48].mean(0)
    a, s, tx, ty = np.deg2rad(25), 1.6, 90.0, 40.0
    R = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    src_lm = canon @ R.T + [tx, ty]
    yy, xx = np.mgrid[0:260, 0:300].astype(float)
    q = (np.stack([xx - tx, yy - ty], -1) @ np.linalg.inv(R).T)          # photo pixel -> canonical point
    photo = np.clip(_pattern(q[..., 0], q[..., 1]) + 0.5, 0, 255).astype(np.uint8)
    out = align.align(photo, src_lm)
    np.testing.assert_allclose(out.landmarks, canon, atol=1e-3)
    cy, cx = np.mgrid[0:128, 0:128].astype(float)
    expected = _pattern(cx, cy)
    assert out.image.shape == (128, 128, 3) and out.image.dtype == np.uint8
    assert np.abs(out.image[8:-8, 8:-8] - expected[8:-8, 8:-8]).mean() < 3.0


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_real_photo_eyes_level(aligned, name):
    face, a = aligned[name]
    le, re = align.eye_centres(a.landmarks)
    assert abs(le[1] - re[1]) < 1e-3
    # independent check: run dlib's predictor again on the aligned pixels (detector box
    # mapped into the aligned frame) and measure the eyes there
    l, t, r, b = face.box
    c = a.transform(np.array([[l, t], [r, t], [l, b], [r, b]], float))
    lm2 = landmarks.predict_landmarks(a.image, (*np.round(c.min(0)).astype(int), *np.round(c.max(0)).astype(int)))
    le2, re2 = align.eye_centres(lm2)
    assert abs(le2[1] - re2[1]) < 1.0
    np.testing.assert_allclose([le2, re2], [[42, 48], [86, 48]], atol=1.5)


@pytest.mark.parametrize("method,sizes", [("lgp", {"eye": (48, 96), "mouth": (48, 64)}),
                                          ("efgan", {"eyes": (40, 92), "nose": (40, 48), "mouth": (40, 60)})])
def test_real_photo_region_crops(aligned, method, sizes):
    imgs = torch.stack([to_tensor(a.image) for _, a in aligned.values()])
    lms = np.stack([a.landmarks for _, a in aligned.values()])
    centres = regions.mean_region_centres(lms, method) if method == "efgan" else None
    boxes = regions.region_boxes(torch.from_numpy(lms), method, 128, centres=centres)
    out = imgs
    for k, (h, w) in sizes.items():
        b = boxes[k]
        # the canonical alignment leaves room: each box fits without being shifted
        cen = torch.from_numpy(centres[k] if centres else lms[:, regions.REGION_LANDMARKS[method][k]].mean(1))
        assert (b[:, 0] == torch.floor(cen[..., 1] - h / 2 + 0.5)).all()
        assert (b[:, 1] == torch.floor(cen[..., 0] - w / 2 + 0.5)).all()
        patch = regions.crop(imgs, b)
        assert patch.shape == (2, 3, h, w)
        out = regions.paste(out, patch, b, feather=4)
    assert torch.equal(out, imgs)


def test_renderer_ground_truth_gives_same_boxes():
    render = pytest.importorskip("course_lib.render")
    for seed in (0, 1):
        img, gt, _ = render.render_expression(render.sample_identity(seed), "happy", size=160)
        by_gt = regions.region_boxes(align.align(img, gt).landmarks, "lgp")
        by_dlib = regions.region_boxes(align.align_face(img).landmarks, "lgp")
        for k, (h, w) in regions.LGP_REGION_SIZES.items():
            assert tuple(by_gt[k][2:]) == (h, w) and tuple(by_dlib[k][2:]) == (h, w)
            assert np.abs(by_gt[k][:2] - by_dlib[k][:2]).max() <= 3, (k, by_gt[k], by_dlib[k])


def test_align_face_errors(tmp_path):
    from PIL import Image

    from course_lib.images import ImageError

    Image.fromarray(PHOTOS["astronaut"]).convert("CMYK").save(tmp_path / "cmyk.jpg")
    for f, msg in (("nope.jpg", "no such file"), ("cmyk.jpg", "CMYK")):
        with pytest.raises(ImageError, match=msg) as err:
            align.align_face(tmp_path / f)
        assert f in str(err.value)
    with pytest.raises(ValueError, match="small.png: image is 100x90 px, smaller than the 128x128 crop"):
        align.align_face(np.zeros((90, 100, 3), np.uint8), name="small.png")
    with pytest.raises(landmarks.FaceNotFoundError, match="wall.png"):
        align.align_face(np.full((160, 160, 3), 90, np.uint8), name="wall.png")
    with pytest.raises(ValueError, match="68, 2"):
        align.align(PHOTOS["astronaut"], np.zeros((5, 2)))
