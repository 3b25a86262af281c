"""Tests of course_lib.render: determinism, landmark order, AU locality and monotonicity, expressions."""
import numpy as np
import pytest

from course_lib import facs, render

SIZE = 64
# iBUG-68 groups, written out here independently of the renderer
JAW, BROWS, NOSE, EYES, MOUTH = range(0, 17), range(17, 27), range(27, 36), range(36, 48), range(48, 68)
# landmarks an AU of each FACS region may move: its own group; the cheek raiser also lifts the lower
# lids and the cheek contour, the jaw drop carries the lower lip and mouth corners.
ALLOWED = {"brows": set(BROWS), "eyes": set(EYES), "nose": set(NOSE), "mouth": set(MOUTH),
           "cheeks": set(JAW) | set(EYES), "jaw": set(JAW) | set(MOUTH)}
REQUIRED_AUS = (1, 2, 4, 5, 6, 7, 9, 12, 14, 15, 16, 20, 23, 25, 26)


@pytest.fixture(scope="module")
def frontal():
    return render.sample_identity(np.random.default_rng(3), pose=False)


def _lm(ident, aus):
    return render.landmarks_batch([ident], render.au_array(aus)[None], SIZE)[0]


def test_deterministic_for_a_seed():
    a, b = render.sample_identity(7), render.sample_identity(np.random.default_rng(7))
    assert a == b and a != render.sample_identity(8)
    r1 = render.render_expression(a, "happy", 0.8, np.random.default_rng(1), size=SIZE)
    r2 = render.render_expression(b, "happy", 0.8, np.random.default_rng(1), size=SIZE)
    for x, y in zip(r1, r2):
        assert np.array_equal(x, y)


def test_outputs_and_batch_match_single(frontal):
    img, lm, av = render.render(frontal, {12: 0.5}, size=SIZE)
    assert img.shape == (SIZE, SIZE, 3) and img.dtype == np.uint8
    assert lm.shape == (68, 2) and lm.dtype == np.float32
    assert av.dtype == np.float32 and av.shape == (len(facs.AU_NUMBERS),)
    assert av[facs.AU_NUMBERS.index(12)] == pytest.approx(0.5) and av.sum() == pytest.approx(0.5)
    imgs, lms, _ = render.render_batch([frontal, frontal], np.stack([render.au_array({12: 0.5}), render.au_array({})]), SIZE)
    assert np.array_equal(imgs[0], img) and np.array_equal(lms[0], lm)
    assert not np.array_equal(imgs[1], img)


def test_landmarks_in_ibug_order(frontal):
    lm = _lm(frontal, {})
    x, y = lm[:, 0], lm[:, 1]
    assert np.all(np.diff(x[0:9]) > 0) and np.all(np.diff(x[8:17]) > 0)      # jaw left -> chin -> right
    assert y[8] == y[JAW].max()                                              # chin lowest
    assert np.all(np.diff(x[17:22]) > 0) and np.all(np.diff(x[22:27]) > 0)   # brows left to right
    assert x[21] < x[27] < x[22]
    assert np.all(np.diff(y[27:31]) > 0)                                     # bridge top -> tip
    assert np.all(np.diff(x[31:36]) > 0) and y[33] > y[30]
    for e in (36, 42):                                                      # corner, 2 upper, corner, 2 lower
        assert x[e] < x[e + 1] < x[e + 2] < x[e + 3] and x[e + 3] > x[e + 4] > x[e + 5] > x[e]
        assert y[e + 1] < y[e + 5] and y[e + 2] < y[e + 4]
    assert x[39] < x[42] and y[BROWS].max() < y[EYES].min() < y[EYES].max() < y[33] < y[MOUTH].min()
    assert x[48] < x[51] < x[54] and y[51] < y[62] <= y[66] < y[57]
    assert np.all(np.diff(x[48:55]) > 0) and np.all(np.diff(x[54:60]) < 0)
    assert x[60] < x[62] < x[64] and np.all(x[EYES] > x[0]) and np.all(x[EYES] < x[16])
    assert np.allclose(x + x[render.MIRROR] - 2 * x[27], 0, atol=1e-3)     # frontal face is symmetric


@pytest.mark.parametrize("au", REQUIRED_AUS)
def test_each_au_moves_only_its_region(frontal, au):
    moved = np.linalg.norm(_lm(frontal, {au: 1.0}) - _lm(frontal, {}), axis=1)
    allowed = ALLOWED[facs.au_region(au)]
    own = sorted(allowed & set(np.flatnonzero(moved > 0.5)))
    assert own, f"AU{au} moves no landmark of its region by 0.5 px at {SIZE}x{SIZE}"
    outside = [i for i in range(68) if i not in allowed]
    assert moved[outside].max() < 0.05, f"AU{au} moves landmarks outside {facs.au_region(au)}"


@pytest.mark.parametrize("au", REQUIRED_AUS)
def test_au_effect_is_monotone_and_visible(frontal, au):
    base_lm = _lm(frontal, {})
    d = [np.abs(_lm(frontal, {au: t}) - base_lm).sum() for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert np.all(np.diff(d) > 0), f"AU{au}: landmark displacement {d} is not increasing"
    img0, _, _ = render.render(frontal, {}, size=SIZE)
    img1, _, _ = render.render(frontal, {au: 1.0}, size=SIZE)
    change = int(np.abs(img1.astype(int) - img0).max())
    assert change > 25, f"AU{au} at intensity 1 changes no pixel by more than {change}/255"


def test_unilateral_and_sides(frontal):
    lm0 = _lm(frontal, {})
    left = render.landmarks_batch([frontal], render.expression_aus("contemptuous")[None], SIZE)[0]
    moved = np.linalg.norm(left - lm0, axis=1)
    assert moved[48] > 1.0 and moved[54] < 0.05                       # image-left corner only
    _, lm_r, _ = render.render(frontal, {12: 1.0}, size=SIZE, side="right")
    assert np.linalg.norm(lm_r - lm0, axis=1)[54] > 1.0 and np.linalg.norm(lm_r - lm0, axis=1)[48] < 0.05


def test_expressions_use_facs_prototypes():
    for e in facs.EXPRESSIONS:
        sides = render.expression_aus(e)
        active = {a for a, v in zip(facs.AU_NUMBERS, sides.max(0)) if v > 0}
        assert active == set(facs.EXPRESSION_AUS[e]), e
        assert np.allclose(render.expression_aus(e, 0.0), 0)
        j1 = render.expression_aus(e, 1.0, np.random.default_rng(1))
        j2 = render.expression_aus(e, 1.0, np.random.default_rng(2))
        assert np.all(j1 <= sides + 1e-6) and np.all(j1 >= 0.7 * sides - 1e-6)
        if active:
            assert not np.allclose(j1, j2)


def test_open_mouth_is_dark_and_eyes_are_where_landmarks_say(frontal):
    img, lm, _ = render.render_expression(frontal, "surprised", size=128)
    mx, my = np.round(lm[[62, 66]].mean(0)).astype(int)
    assert img[my, mx].mean() < 110                                      # mouth cavity
    for e in (36, 42):                                                  # pupil at the eye centre is dark
        ex, ey = np.round(lm[e:e + 6].mean(0)).astype(int)
        assert img[ey - 1:ey + 2, ex - 1:ex + 2].min() < 60


def test_pose_moves_landmarks(frontal):
    _, lm0, _ = render.render(frontal, {}, size=SIZE)
    _, lm1, _ = render.render(frontal, {}, size=SIZE, pose={"rotation": 10.0})
    v0, v1 = lm0[45] - lm0[36], lm1[45] - lm1[36]
    angle = np.degrees(np.arctan2(v1[1], v1[0]) - np.arctan2(v0[1], v0[0]))
    assert angle == pytest.approx(10.0, abs=0.5)
    ids = [render.sample_identity(s) for s in range(20)]
    assert all(abs(i.rotation) <= 10 and 0.9 <= i.scale <= 1.1 for i in ids)
    assert len({i.hair_style for i in ids}) >= 4 and any(i.glasses for i in ids)


def test_bad_input(frontal):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        render.render(frontal, {12: 1.5}, size=SIZE)
    with pytest.raises(ValueError, match="shape"):
        render.render(frontal, np.zeros(3), size=SIZE)
    with pytest.raises(ValueError, match="unknown action unit"):
        render.render(frontal, {"AU99": 1.0}, size=SIZE)
    with pytest.raises(ValueError, match="valid expressions"):
        render.render_expression(frontal, "bored", size=SIZE)
    with pytest.raises(ValueError, match="size"):
        render.render(frontal, {}, size=4)
    with pytest.raises(ValueError, match="side"):
        render.render(frontal, {}, size=SIZE, side="top")
    with pytest.raises(ValueError, match="unknown identity fields"):
        render.identity_from_dict({"nose": 1})
    assert render.identity_from_dict(frontal.to_dict()) == frontal


def test_expression_grid_shape():
    g = render.expression_grid(2, size=32, pad=2)
    assert g.shape == (2 * 34 + 2, 8 * 34 + 2, 3) and g.dtype == np.uint8


def test_cached_layers_and_box_give_the_whole_canvas_pixels():
    # one identity with glasses and hair over the face, 8 expressions: rendered as one batch (per-identity
    # layers cached, face boxes), singly after clearing the cache, and drawn on the whole canvas
    rng = np.random.default_rng(0)
    ident = next(i for i in (render.sample_identity(rng) for _ in range(200)) if i.glasses and i.hair_style in (1, 2))
    A = np.stack([render.expression_aus(e) for e in facs.EXPRESSIONS])
    batch, _, _ = render.render_batch([ident] * 8, A, SIZE)
    render._layers.cache_clear()
    for k in (0, 4, 7):
        assert np.array_equal(render.render_batch([ident], A[k:k + 1], SIZE)[0][0], batch[k])
    lay = render._layers(ident, SIZE, 3)
    L = render._canonical_landmarks([ident] * 8, A)
    whole = render._render_group(lay, ident, L, A, crop=False)
    diff = np.abs(whole.astype(int) - batch)
    assert (diff > 0).mean() < 1e-3 and diff.mean() < 0.05          # hair clipped at the box edge: sub-pixel
    box = lay.box
    try:                                                               # a face reaching out of the box: whole canvas
        lay.box = (0, 0, 3 * SIZE // 2, 3 * SIZE // 2)
        assert np.array_equal(render._render_group(lay, ident, L[:2], A[:2]), whole[:2])
    finally:
        lay.box = box
