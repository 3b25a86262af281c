"""A procedural FACS face renderer: (identity, AU intensities) -> image + 68 landmarks + AU vector.

The course's embedded dataset (issue 3).  No real expression set can be shipped (RaFD and
CK+ need a licence), so the course renders stylised faces, FERG-like cartoon humans (the
ECGAN paper's FERG set is the bar), with what no real set has: the *same identity under
every expression*, exact AU intensities and exact landmarks.

How it works (all of it our choice; the papers render nothing):

1. **Geometry, vectorised** (:func:`landmarks_batch`): a neutral 68-point face in a
   canonical frame (x right, y down, face half-width ~0.6) built from the identity's
   proportions; each AU of :data:`course_lib.facs.AU_NUMBERS` adds a fixed displacement
   field :data:`AU_DISPLACEMENT` scaled *linearly* by its intensity (so every effect is
   monotone in [0, 1]), per side of the face (a unilateral AU uses one side only).  Then
   the pose (in-plane rotation, scale, shift) maps canonical units to pixels.  Landmarks
   follow dlib's iBUG-68 order: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, mouth 48-67,
   "left" meaning the left of the image.
2. **Drawing** (:func:`render_batch`): filled smooth polygons and strokes drawn with
   Pillow's C rasteriser at ``supersample`` x the size, then box-downscaled (area
   averaging) for anti-aliased edges; a smooth shading field (directional light and
   darker face rim) is multiplied in with numpy.
3. **Expressions** (:func:`render_expression`): the prototypes of :mod:`course_lib.facs`
   (LGP-GAN Table I plus contempt, unilateral, and neutral) with the per-AU strengths of
   :data:`PROTOTYPE_STRENGTH`, times a global intensity in [0, 1] and an optional
   per-sample jitter.

Deterministic: the same identity, AUs and pose give the same pixels (no randomness at
draw time; randomness only enters through the ``rng`` you pass).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np

from course_lib import facs

__all__ = [
    "Identity", "sample_identity", "identity_from_dict", "AU_DISPLACEMENT", "REGION_LANDMARKS",
    "PROTOTYPE_STRENGTH", "MIRROR", "au_array", "expression_aus", "landmarks_batch", "render",
    "render_batch", "render_expression", "expression_grid", "intensity_strip", "show_images",
    "show_expression_grid", "show_landmarks", "au_widget",
]

N_AU = len(facs.AU_NUMBERS)
_AU_COL = {a: i for i, a in enumerate(facs.AU_NUMBERS)}

# --------------------------------------------------------------------------- identities
_SKIN = np.array([[255, 226, 204], [241, 194, 160], [224, 172, 128], [198, 134, 90],
                  [160, 102, 64], [120, 74, 45], [84, 52, 34]], np.float64)
_HAIR = np.array([[28, 24, 24], [62, 40, 28], [110, 72, 40], [150, 78, 40], [214, 178, 112],
                  [175, 170, 165], [90, 60, 50]], np.float64)
_EYES = np.array([[70, 42, 25], [105, 70, 40], [60, 110, 170], [70, 125, 80], [130, 105, 60],
                  [110, 120, 130]], np.float64)
_LIPS = np.array([[196, 92, 96], [176, 84, 80], [150, 70, 70], [205, 110, 120], [130, 60, 62]], np.float64)
#: hair styles: 0 short, 1 long, 2 bob, 3 buzz (very short), 4 bun, 5 curly
HAIR_STYLES = ("short", "long", "bob", "buzz", "bun", "curly")


@dataclass(frozen=True)
class Identity:
    """Everything that makes one synthetic person (and their camera pose); see :func:`sample_identity`.

    Lengths are in canonical face units (face half-width ~0.6), colours are RGB 0..255.
    """

    face_width: float = 0.62        # half-width of the head at the ears
    face_length: float = 0.83       # ear level -> chin
    jaw_square: float = 2.3         # superellipse exponent of the jaw: 2 round, 3.5 square
    chin_width: float = 0.0         # flattening of the chin
    skin: tuple = (224, 172, 128)
    hair_style: int = 0
    hair_color: tuple = (62, 40, 28)
    hair_part: float = 0.0          # -1..1: side of the fringe
    eye_color: tuple = (70, 42, 25)
    eye_spacing: float = 0.29       # half distance between eye centres
    eye_size: float = 1.0
    brow_thickness: float = 0.045
    brow_height: float = 0.0
    nose_size: float = 1.0
    mouth_width: float = 0.2
    lip_thickness: float = 1.0
    lip_color: tuple = (190, 90, 92)
    glasses: bool = False
    beard: bool = False
    shirt: tuple = (70, 110, 160)
    background: tuple = ((200, 210, 225), (150, 165, 190))
    bg_angle: float = 1.57
    light: float = -0.5             # light direction angle (radians, image plane)
    rotation: float = 0.0           # degrees, in-plane, |.| <= 10
    scale: float = 1.0              # 0.9 .. 1.1
    shift: tuple = (0.0, 0.0)       # fraction of the image size

    def to_dict(self) -> dict:
        return asdict(self)


def identity_from_dict(d: Mapping) -> Identity:
    """Inverse of :meth:`Identity.to_dict` (lists from JSON become tuples)."""
    names = {f.name for f in fields(Identity)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown identity fields {sorted(unknown)}; valid: {sorted(names)}")
    tup = lambda v: tuple(tup(x) for x in v) if isinstance(v, (list, tuple)) else v  # noqa: E731
    return Identity(**{k: tup(v) for k, v in d.items()})


def _mix(rng, palette, spread=0.0):
    t = rng.uniform(0, len(palette) - 1)
    i = int(t)
    c = palette[i] * (1 - (t - i)) + palette[min(i + 1, len(palette) - 1)] * (t - i)
    c = c + rng.normal(0, spread, 3)
    return tuple(int(v) for v in np.clip(c, 0, 255))


def sample_identity(rng: np.random.Generator | int | None = None, pose: bool = True) -> Identity:
    """Draw a random identity (face shape, skin, hair, eyes, brows, nose, lips, glasses, beard,
    background, pose jitter: rotation +-10 deg, scale +-10 %, shift +-4 % of the image).

    ``rng`` is a ``numpy.random.Generator`` or a seed.  ``pose=False`` gives a frontal,
    centred, unit-scale face.  Ranges and palettes are our choice.
    """
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    u = rng.uniform
    import colorsys
    h, sat, val = u(0, 1), u(0.08, 0.45), u(0.45, 0.95)
    bg_base = np.array(colorsys.hsv_to_rgb(h, sat, val)) * 255
    bg2 = np.clip(bg_base * u(0.6, 1.1) + rng.normal(0, 12, 3), 0, 255)
    hair_style = int(rng.integers(len(HAIR_STYLES)))
    beard = bool(u() < 0.15 and hair_style in (0, 3, 5))
    return Identity(
        face_width=u(0.56, 0.66), face_length=u(0.76, 0.90), jaw_square=u(2.0, 3.4),
        chin_width=u(0.0, 0.5), skin=_mix(rng, _SKIN, 6), hair_style=hair_style,
        hair_color=_mix(rng, _HAIR, 8), hair_part=u(-1, 1), eye_color=_mix(rng, _EYES, 6),
        eye_spacing=u(0.26, 0.31), eye_size=u(0.85, 1.15), brow_thickness=u(0.03, 0.065),
        brow_height=u(-0.03, 0.03), nose_size=u(0.8, 1.25), mouth_width=u(0.19, 0.24),
        lip_thickness=u(0.7, 1.3), lip_color=_mix(rng, _LIPS, 8), glasses=bool(u() < 0.2),
        beard=beard, shirt=tuple(int(v) for v in rng.uniform(30, 220, 3)),
        background=(tuple(int(v) for v in bg_base), tuple(int(v) for v in bg2)),
        bg_angle=u(0, 2 * np.pi), light=u(-2.4, -0.7),
        rotation=u(-10, 10) if pose else 0.0, scale=u(0.9, 1.1) if pose else 1.0,
        shift=(u(-0.04, 0.04), u(-0.04, 0.04)) if pose else (0.0, 0.0),
    )


# --------------------------------------------------------------------------- landmarks
#: Index of the mirror-image landmark (left <-> right of the face) in iBUG-68 order.
MIRROR = np.array(list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30]
                  + [35, 34, 33, 32, 31] + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40]
                  + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55] + [64, 63, 62, 61, 60, 67, 66, 65])
_CENTRE = MIRROR == np.arange(68)

#: The landmarks each FACS region owns (our choice): an AU of region r may move only
#: ``REGION_LANDMARKS[r]`` (checked by the tests).  The cheek raiser lifts the lower lids and
#: the cheek contour; the jaw carries the lower lip and the mouth corners with it.
REGION_LANDMARKS: dict[str, tuple[int, ...]] = {
    "brows": tuple(range(17, 27)),
    "eyes": tuple(range(36, 48)),
    "nose": tuple(range(27, 36)),
    "cheeks": (1, 2, 3, 13, 14, 15, 40, 41, 46, 47),
    "mouth": tuple(range(48, 68)),
    "jaw": tuple(range(0, 17)) + (48, 54, 55, 56, 57, 58, 59, 60, 64, 65, 66, 67),
}


def _disp(entries: Mapping[int, tuple[float, float]]) -> np.ndarray:
    """(68, 2) displacement field from left-side (image-left) + centre entries, mirrored."""
    d = np.zeros((68, 2))
    for i, (dx, dy) in entries.items():
        d[i] = (dx, dy)
        j = MIRROR[i]
        if j != i:
            d[j] = (-dx, dy)
    return d


#: Displacement (canonical units, x right / y down) of every landmark at intensity 1, per AU.
#: Our choice, following the FACS descriptions of the AU table (the papers give no geometry).
AU_DISPLACEMENT: dict[int, np.ndarray] = {
    1: _disp({21: (0.01, -0.11), 20: (0, -0.08), 19: (0, -0.04), 18: (0, -0.015)}),
    2: _disp({17: (0, -0.11), 18: (0, -0.10), 19: (0, -0.07), 20: (0, -0.03)}),
    4: _disp({21: (0.05, 0.10), 20: (0.04, 0.085), 19: (0.025, 0.06), 18: (0.01, 0.035), 17: (0, 0.015)}),
    5: _disp({37: (0, -0.05), 38: (0, -0.05), 36: (-0.005, -0.005), 39: (0, -0.005)}),
    6: _disp({41: (0, -0.035), 40: (0, -0.035), 1: (-0.01, -0.015), 2: (-0.012, -0.02), 3: (-0.008, -0.012)}),
    7: _disp({41: (0, -0.03), 40: (0, -0.03), 37: (0, 0.02), 38: (0, 0.02)}),
    9: _disp({31: (-0.02, -0.035), 32: (-0.01, -0.035), 33: (0, -0.03), 30: (0, -0.02), 29: (0, -0.01)}),
    10: _disp({49: (0, -0.035), 50: (0, -0.045), 51: (0, -0.045), 61: (0, -0.04), 62: (0, -0.045)}),
    12: _disp({48: (-0.05, -0.10), 60: (-0.045, -0.09), 49: (-0.025, -0.04), 59: (-0.025, -0.045),
               61: (-0.01, -0.015), 67: (-0.015, 0.0), 66: (0, 0.03), 58: (-0.01, -0.01), 57: (0, 0.01)}),
    14: _disp({48: (0.02, -0.02), 60: (0.02, -0.015), 49: (0.005, -0.005), 59: (0.005, -0.01)}),
    15: _disp({48: (-0.01, 0.07), 60: (-0.01, 0.055), 49: (0, 0.025), 59: (0, 0.02), 61: (0, 0.01)}),
    16: _disp({57: (0, 0.065), 58: (0, 0.055), 59: (0, 0.03), 66: (0, 0.06), 67: (0, 0.05)}),
    17: _disp({57: (0, -0.025), 58: (0, -0.02), 66: (0, -0.01), 7: (0, -0.015), 8: (0, -0.02)}),
    20: _disp({48: (-0.065, 0.015), 60: (-0.06, 0.012), 49: (-0.03, 0.01), 59: (-0.03, -0.005),
               50: (-0.01, 0.01), 58: (-0.01, -0.01), 51: (0, 0.008), 57: (0, -0.01)}),
    23: _disp({48: (0.025, 0), 60: (0.02, 0), 49: (0.015, 0.015), 50: (0.005, 0.025), 51: (0, 0.025),
               59: (0.015, -0.02), 58: (0.005, -0.03), 57: (0, -0.03)}),
    24: _disp({50: (0, 0.03), 51: (0, 0.03), 49: (0, 0.02), 58: (0, -0.035), 57: (0, -0.035), 59: (0, -0.02)}),
    25: _disp({61: (0, -0.012), 62: (0, -0.015), 67: (0, 0.03), 66: (0, 0.035), 58: (0, 0.02),
               57: (0, 0.022), 59: (0, 0.012)}),
    26: _disp({8: (0, 0.12), 7: (0, 0.11), 6: (0, 0.09), 5: (0, 0.06), 4: (0, 0.03),
               57: (0, 0.15), 58: (0, 0.13), 59: (0, 0.08), 66: (0, 0.15), 67: (0, 0.12),
               48: (0.025, 0.04), 60: (0.03, 0.035)}),
    27: _disp({8: (0, 0.19), 7: (0, 0.17), 6: (0, 0.14), 5: (0, 0.09), 4: (0, 0.04),
               57: (0, 0.23), 58: (0, 0.2), 59: (0, 0.12), 66: (0, 0.23), 67: (0, 0.19),
               48: (0.01, 0.07), 60: (0.015, 0.065)}),
    43: _disp({37: (0, 0.09), 38: (0, 0.09)}),
}

#: Per-AU strength of each expression prototype at intensity 1 (our choice, so that the
#: blend reads as the expression; the AU *set* is :data:`course_lib.facs.EXPRESSION_AUS`).
PROTOTYPE_STRENGTH: dict[str, dict[int, float]] = {
    "angry": {4: 1.0, 5: 0.45, 7: 0.6, 23: 1.0},
    "contemptuous": {12: 0.8, 14: 1.0},
    "disgusted": {9: 1.0, 15: 0.8, 16: 0.9},
    "fearful": {1: 1.0, 2: 0.6, 4: 0.55, 5: 1.0, 7: 0.2, 20: 1.0, 26: 0.5},
    "happy": {6: 1.0, 12: 1.0},
    "neutral": {},
    "sad": {1: 1.0, 4: 0.6, 15: 1.0},
    "surprised": {1: 1.0, 2: 1.0, 5: 1.0, 26: 1.0},
}
_DISP = np.stack([AU_DISPLACEMENT.get(a, np.zeros((68, 2))) for a in facs.AU_NUMBERS])  # (N_AU, 68, 2)
def au_array(aus) -> np.ndarray:
    """AU intensities as a float32 array over :data:`facs.AU_NUMBERS`.

    Accepts a dict ``{AU: intensity}`` (keys as :func:`facs.parse_au` accepts), an array of
    length ``len(AU_NUMBERS)``, or an array ``(2, len(AU_NUMBERS))`` of (left, right) side
    intensities (returned unchanged).  Intensities must lie in [0, 1].
    """
    if aus is None:
        return np.zeros(N_AU, np.float32)
    if isinstance(aus, Mapping):
        out = np.zeros(N_AU, np.float32)
        for k, v in aus.items():
            out[_AU_COL[facs.parse_au(k)]] = float(v)
    else:
        out = np.asarray(aus, np.float32)
        if out.shape not in ((N_AU,), (2, N_AU)):
            raise ValueError(f"aus: expected a dict {{AU: intensity}} or an array of shape ({N_AU},) "
                             f"or (2, {N_AU}) over facs.AU_NUMBERS {facs.AU_NUMBERS}, got shape {out.shape}")
    if not np.all((out >= 0) & (out <= 1)):
        raise ValueError(f"aus: intensities must lie in [0, 1], got min {out.min():.3g}, max {out.max():.3g}")
    return out


def _sides(aus: np.ndarray) -> np.ndarray:
    """(..., N_AU) or (..., 2, N_AU) -> (..., 2, N_AU) per-side intensities."""
    return aus if aus.ndim >= 2 and aus.shape[-2] == 2 else np.stack([aus, aus], axis=-2)


def _neutral(ids: Sequence[Identity]) -> np.ndarray:
    """Neutral canonical landmarks (B, 68, 2) from the identities' proportions."""
    g = lambda name: np.array([getattr(i, name) for i in ids], np.float64)[:, None]  # noqa: E731
    a, b, n, cw = g("face_width"), g("face_length"), g("jaw_square"), g("chin_width")
    t = np.linspace(0, np.pi, 17)[None]
    c, s = np.cos(t), np.sin(t)
    jx = -a * np.sign(c) * np.abs(c) ** (2 / n) * (1 - 0.08 * s)
    jy = -0.05 + b * np.abs(s) ** (2 / n)
    jx = jx * (1 + cw * 0.25 * s ** 8)            # wider, flatter chin
    jy = jy - cw * 0.03 * s ** 8
    B = len(ids)
    L = np.zeros((B, 68, 2))
    L[:, :17, 0], L[:, :17, 1] = jx, jy
    bh = g("brow_height")
    L[:, 17:22, 0] = np.array([-0.56, -0.46, -0.34, -0.22, -0.11])
    L[:, 17:22, 1] = np.array([-0.28, -0.345, -0.37, -0.36, -0.33]) + bh
    es, ez = g("eye_spacing"), g("eye_size")
    ew, eh = 0.13 * ez, 0.064 * ez
    ex = -es + np.array([-1, -1 / 3, 1 / 3, 1, 1 / 3, -1 / 3]) * ew
    ey = -0.12 + np.array([0.005, -1, -1, 0.01, 0.75, 0.75]) * eh
    L[:, 36:42, 0], L[:, 36:42, 1] = ex, ey
    ns = g("nose_size")
    L[:, 27:31, 0] = 0.0
    L[:, 27:31, 1] = np.array([-0.12, -0.02, 0.07, 0.16]) * np.ones_like(ns)
    L[:, 30, 1] = (0.07 + 0.10 * ns)[:, 0]
    nw = 0.085 * ns
    L[:, 31:34, 0] = np.array([-1.0, -0.5, 0.0]) * nw
    L[:, 31:34, 1] = 0.2 + np.array([0.0, 0.02, 0.03]) * ns + 0.05 * (ns - 1)
    mw, lt = g("mouth_width"), g("lip_thickness")
    my, ut, lo = 0.45, 0.055 * lt, 0.065 * lt
    L[:, 48:52, 0] = np.array([-1.0, -0.6, -0.25, 0.0]) * mw
    L[:, 48:52, 1] = my + np.array([0.0, -0.75, -1.0, -0.8]) * ut
    L[:, [59, 58, 57], 0] = np.array([-0.6, -0.3, 0.0]) * mw
    L[:, [59, 58, 57], 1] = my + np.array([0.8, 1.0, 1.05]) * lo
    L[:, [60, 61, 62, 67, 66], 0] = np.array([-0.86, -0.35, 0.0, -0.35, 0.0]) * mw
    L[:, [60, 61, 62, 67, 66], 1] = my
    left = np.r_[17:22, 31:33, 36:42, 48:51, 58:61, 61, 67]
    for i in left:                                    # mirror the left half to the right
        L[:, MIRROR[i]] = L[:, i] * np.array([-1, 1])
    return L


#: Side weight of each landmark: 1 image-left (x < 0 in the neutral face), 0 right, 0.5 centre.
_LEFT = np.where(_CENTRE, 0.5, (_neutral([Identity()])[0, :, 0] < 0).astype(float))


def _pose_matrix(ids: Sequence[Identity], size: int) -> np.ndarray:
    """(B, 2, 3) affine maps canonical face units -> pixel coordinates (pose jitter included)."""
    out = np.zeros((len(ids), 2, 3))
    for k, i in enumerate(ids):
        th = np.deg2rad(i.rotation)
        u = 0.46 * size * i.scale
        out[k, :, :2] = u * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        out[k, :, 2] = size * (0.5 + i.shift[0]), size * (0.54 + i.shift[1])
    return out


def _canonical_landmarks(ids: Sequence[Identity], aus: np.ndarray) -> np.ndarray:
    """Canonical (B, 68, 2) landmarks: neutral + sum of per-side AU displacements (linear)."""
    sides = _sides(aus.astype(np.float64))                          # (B, 2, N_AU)
    w = sides[:, 0, :, None] * _LEFT + sides[:, 1, :, None] * (1 - _LEFT)   # (B, N_AU, 68)
    L = _neutral(ids) + np.einsum("bap,apc->bpc", w, _DISP)
    # eyelids never cross: upper lid at least 0 (AU43) above the lower lid
    for up, lo in ((37, 41), (38, 40), (43, 47), (44, 46)):
        L[:, up, 1] = np.minimum(L[:, up, 1], L[:, lo, 1])
    # lips never cross (inner upper above inner lower)
    for up, lo in ((61, 67), (62, 66), (63, 65)):
        L[:, lo, 1] = np.maximum(L[:, lo, 1], L[:, up, 1])
    return L


def landmarks_batch(identities: Sequence[Identity], aus, size: int = 128) -> np.ndarray:
    """The 68 iBUG landmarks, (B, 68, 2) float32 pixel (x, y), of a batch (vectorised).

    ``aus``: (B, N_AU) or (B, 2, N_AU) intensities over :data:`facs.AU_NUMBERS`.
    """
    aus = np.asarray(aus, np.float64)
    M = _pose_matrix(identities, size)
    L = _canonical_landmarks(identities, aus)
    return (np.einsum("bij,bpj->bpi", M[:, :, :2], L) + M[:, None, :, 2]).astype(np.float32)


# --------------------------------------------------------------------------- drawing
# Shapes are built for a whole group of faces of one identity at once: ``L`` is (B, 68, 2),
# a per-face scalar is a (B,) array, a point list is (B, n, 2) (or (n, 2), the same for all).
@lru_cache(maxsize=None)
def _spline_matrix(npts: int, n: int, closed: bool) -> np.ndarray:
    """(n_out, npts) matrix of Catmull-Rom densification (the spline is linear in its points)."""
    t = np.linspace(0, 1, n, endpoint=False)[:, None]
    basis = 0.5 * np.concatenate([-t + 2 * t ** 2 - t ** 3, 2 - 5 * t ** 2 + 3 * t ** 3,
                                  t + 4 * t ** 2 - 3 * t ** 3, -t ** 2 + t ** 3], 1)     # (n, 4)
    eye = np.eye(npts)
    # padded control points as linear combinations of the input points
    q = np.concatenate([eye[-1:], eye, eye[:2]]) if closed else \
        np.concatenate([2 * eye[:1] - eye[1:2], eye, 2 * eye[-1:] - eye[-2:-1]])
    segs = npts if closed else npts - 1
    rows = [basis @ q[k:k + 4] for k in range(segs)]
    if not closed:
        rows.append(eye[-1:])
    return np.concatenate(rows)


def _spline(p: np.ndarray, n: int = 6, closed: bool = False) -> np.ndarray:
    """Catmull-Rom densification of polylines (..., N, 2) -> smooth curves through the points."""
    p = np.asarray(p, np.float64)
    return _spline_matrix(p.shape[-2], n, closed) @ p


@lru_cache(maxsize=None)
def _unit_circle(n: int, a0: float, a1: float) -> np.ndarray:
    t = np.linspace(a0, a1, n, endpoint=not np.isclose(a1 - a0, 2 * np.pi))
    return np.stack([np.cos(t), np.sin(t)], 1)


def _xy(x, y) -> np.ndarray:
    """(..., 2) points from x and y (scalars or (B,) arrays, broadcast)."""
    return _pts(x, y)[..., 0, :]


def _ellipse(cx, cy, rx, ry, n=28, a0=0.0, a1=2 * np.pi) -> np.ndarray:
    """(n, 2) ellipse points, or (B, n, 2) when a centre or radius is a (B,) array."""
    u = _unit_circle(n, float(a0), float(a1))
    if type(cx) is np.ndarray or type(cy) is np.ndarray or type(rx) is np.ndarray or type(ry) is np.ndarray:
        return u * _xy(rx, ry)[..., None, :] + _xy(cx, cy)[..., None, :]
    return u * (rx, ry) + (cx, cy)


def _pts(*xy) -> np.ndarray:
    """Points from flat coordinates ``x0, y0, x1, y1, ...`` (scalars or (B,) arrays) -> (..., n, 2)."""
    lead = next((v.shape for v in xy if type(v) is np.ndarray and v.ndim), ())
    out = np.empty(lead + (len(xy),))
    for i, v in enumerate(xy):
        out[..., i] = v
    return out.reshape(lead + (len(xy) // 2, 2))


def _cat(*parts) -> np.ndarray:
    """Join point lists along the point axis, broadcasting (n, 2) lists to the batch."""
    parts = [p if type(p) is np.ndarray else np.asarray(p, np.float64) for p in parts]
    lead = next((p.shape[:-2] for p in parts if p.ndim > 2), ())
    out = np.empty(lead + (sum(p.shape[-2] for p in parts), 2))
    i = 0
    for p in parts:
        out[..., i:i + p.shape[-2], :] = p
        i += p.shape[-2]
    return out


def _rev(p: np.ndarray) -> np.ndarray:
    """Point lists in reverse order."""
    return p[..., ::-1, :]


def _shade(c, k):
    return tuple(int(max(0, min(255, v * k))) for v in c)


class _Shapes:
    """A display list of filled polygons and strokes, in canonical face units, for ``batch``
    faces of one identity; drawn in order by :func:`_paint`.

    A shape's alpha may be per face ((B,) array) and ``show`` (B,) bool leaves it out of
    some faces.  Building the list first lets :func:`_render_group` map all points to pixels
    in one vectorised step and know, before drawing, which part of the canvas a face touches.
    """

    def __init__(self, batch: int = 1):
        self.batch, self.items, self.pts, self.n = batch, [], [], 0

    def _add(self, p, color, alpha, width, show):
        p = p if type(p) is np.ndarray else np.asarray(p, np.float64)
        self.pts.append(p)
        alpha = alpha.astype(int).tolist() if type(alpha) is np.ndarray and alpha.ndim else int(alpha)
        show = None if show is None else show.tolist() if type(show) is np.ndarray and show.ndim \
            else [bool(show)] * self.batch
        self.items.append((self.n, self.n + p.shape[-2], tuple(color), alpha, width, show))
        self.n += p.shape[-2]

    def poly(self, p, color, alpha=255, show=None):
        self._add(p, color, alpha, 0.0, show)

    def line(self, p, color, width, alpha=255, show=None):
        self._add(p, color, alpha, width, show)

    def pixels(self, M: np.ndarray) -> np.ndarray:
        """(B, N, 2) pixel coordinates of all points under the affine map ``M`` (2, 3).  Written
        element-wise (no BLAS) so that a point's pixels never depend on the rest of the batch."""
        return self.transform(_cat(np.zeros((self.batch, 0, 2)), *self.pts), M)

    @staticmethod
    def transform(P: np.ndarray, M: np.ndarray) -> np.ndarray:
        x, y = P[..., 0], P[..., 1]
        return np.stack([x * M[0, 0] + y * M[0, 1] + M[0, 2], x * M[1, 0] + y * M[1, 1] + M[1, 2]], -1)

    def reach(self, unit: float) -> float:
        """Pixels a shape may cover beyond its points: half the widest stroke, plus rounding."""
        return 0.5 * max([w for *_, w, _ in self.items] + [0.0]) * unit + 2.0


def _paint(img, layers, b: int = 0, origin=(0, 0)):
    """Draw face ``b`` of display lists on the Pillow RGB image ``img``: ``layers`` is a sequence
    of ``(shapes, pixel points (B, N, 2), pixels per canonical unit)`` (a list of batch 1 is
    drawn on every face); ``origin`` is the canvas pixel at ``img``'s corner.  Opaque shapes are
    written directly (the same pixels as blending at alpha 255, ~4x faster), others blended."""
    from PIL import ImageDraw

    plain, blend = ImageDraw.Draw(img), ImageDraw.Draw(img, "RGBA")
    for shapes, xy, unit in layers:
        k = b if shapes.batch > 1 else 0
        flat = (xy[k] - np.asarray(origin, np.float64)).ravel().tolist()
        for i0, i1, color, alpha, width, show in shapes.items:
            if show is not None and not show[k]:
                continue
            a = alpha if type(alpha) is int else alpha[k]
            d, ink = (plain, color) if a >= 255 else (blend, color + (a,))
            pts = flat[2 * i0:2 * i1]
            if not width:
                d.polygon(pts, fill=ink)
                continue
            w = max(1, int(round(width * unit)))
            d.line(pts, fill=ink, width=w, joint="curve")
            if w > 2:                                       # round caps
                r = w / 2 - 0.5
                for x, y in (pts[:2], pts[-2:]):
                    d.ellipse((x - r, y - r, x + r, y + r), fill=ink)


def _under_shapes(sh: _Shapes, ident: Identity, L: np.ndarray):
    """What lies behind the face and no AU moves: back hair, shoulders, neck, ears (``L`` (68, 2))."""
    hair, a, st = ident.hair_color, ident.face_width, ident.hair_style
    dark_skin = _shade(ident.skin, 0.8)
    if st in (1, 2):
        bottom = 1.25 if st == 1 else 0.45
        back = np.concatenate([_ellipse(0, -0.12, a * 1.22, 0.98, 24, np.pi, 2 * np.pi),
                               [[a * 1.24, bottom], [-a * 1.24, bottom]]])
        sh.poly(back, _shade(hair, 0.85))
    if st == 4:
        sh.poly(_ellipse(0, -1.0, 0.25, 0.2), hair)
    sh.poly(_ellipse(0, 1.55, 1.1, 0.55), ident.shirt)
    sh.poly([[-0.24, 0.4], [0.24, 0.4], [0.27, 1.1], [-0.27, 1.1]], dark_skin)
    sh.poly(_ellipse(0, 1.02, 0.3, 0.1, 16, 0, np.pi), _shade(ident.shirt, 0.7))
    if st not in (1, 2):                           # ears (no AU moves landmarks 0 and 16)
        for s in (-1, 1):
            sh.poly(_ellipse(L[0, 0] if s < 0 else L[16, 0], 0.0, 0.085, 0.14), dark_skin)


def _face_shapes(sh: _Shapes, ident: Identity, L: np.ndarray, side_aus: np.ndarray):
    """The face proper, everything an AU changes, for a group of faces of ``ident``: canonical
    landmarks ``L`` (B, 68, 2), per-side AUs ``side_aus`` (B, 2, N_AU)."""
    S, Sm = side_aus.astype(np.float64), side_aus.mean(-2).astype(np.float64)
    au = lambda n: Sm[:, _AU_COL[n]]               # noqa: E731
    aul = lambda n, s: S[:, s, _AU_COL[n]]         # noqa: E731
    skin, hair = ident.skin, ident.hair_color
    line_c = _shade(skin, 0.55)
    # head outline: jaw (with its AU motion) + forehead arc
    sh.poly(_cat(_spline(L[:, :17], 4), _ellipse(0, -0.05, L[:, 16, 0], 0.93, 20, -0.05, -np.pi + 0.05)), skin)
    # beard
    if ident.beard:
        sh.poly(_cat(L[:, 3:14], L[:, [54, 35, 33, 31, 48]] + [[0.08, -0.08], [0.02, 0.04], [0, 0.045],
                                                               [-0.02, 0.04], [-0.08, -0.08]]), hair, 215)
    # cheeks: blush grows with AU6, and the cheek bulge line
    for s, e in ((0, 36), (1, 42)):
        c6 = aul(6, s) + 0.5 * aul(12, s)
        cx = L[:, e:e + 6, 0].mean(1)
        sh.poly(_ellipse(cx * 1.02, L[:, e + 4, 1] + 0.2 - 0.04 * c6, 0.12, 0.075), (230, 90, 90), 12 + 60 * c6)
        arc = _ellipse(cx, L[:, e + 4, 1] + 0.02, 0.12, 0.06, 9, 0.25 * np.pi, 0.75 * np.pi)
        sh.line(arc, line_c, 0.012, 150 * np.minimum(1, c6), show=c6 > 0.05)
    # eyes: white, iris, pupil, then lids as skin covers, then the lash line
    for s, e in ((0, 36), (1, 42)):
        P = L[:, e:e + 6]
        up = _spline(P[:, [0, 1, 2, 3]], 5)
        lo = _spline(P[:, [3, 4, 5, 0]], 5)
        is_open = P[:, [4, 5], 1].mean(1) - P[:, [1, 2], 1].mean(1) > 0.008
        cx, cy = P[:, [0, 3], 0].mean(1), P[:, :, 1].mean(1)
        sh.poly(_cat(up, lo), (245, 245, 240), show=is_open)
        r = 0.06 * ident.eye_size
        iy = P[:, [1, 2, 4, 5], 1].mean(1) + 0.004
        sh.poly(_ellipse(cx, iy, r, r, 20), ident.eye_color, show=is_open)
        sh.poly(_ellipse(cx, iy, r * 0.5, r * 0.5, 14), (20, 15, 15), show=is_open)
        sh.poly(_ellipse(cx + r * 0.35, iy - r * 0.35, r * 0.22, r * 0.22, 10), (255, 255, 255), 230, show=is_open)
        # lid covers: skin above the upper lid and below the lower lid, around the eye
        x0, x3 = P[:, 0, 0], P[:, 3, 0]
        sh.poly(_cat(up, _pts(x3 + 0.03, cy - 0.02, x3 + 0.02, cy - 0.14, x0 - 0.02, cy - 0.14, x0 - 0.03, cy - 0.02)),
                skin, show=is_open)
        sh.poly(_cat(lo, _pts(x0 - 0.03, cy + 0.02, x0 - 0.02, cy + 0.13, x3 + 0.02, cy + 0.13, x3 + 0.03, cy + 0.02)),
                skin, show=is_open)
        sh.line(lo, line_c, 0.008, 160, show=is_open)
        sh.line(up, (40, 30, 30), 0.022)
        lash = P[:, 0] if e == 36 else P[:, 3]
        sh.line(np.stack([lash, lash + [-0.035 if e == 36 else 0.035, -0.02]], 1), (40, 30, 30), 0.014)
        # crow's feet (AU6) at the outer corner
        c6 = aul(6, s)
        sg = -1 if e == 36 else 1
        for dy in (-0.03, 0.0, 0.03):
            sh.line(np.stack([lash + [sg * 0.05, dy * 0.6], lash + [sg * 0.1, dy * 1.3]], 1), line_c, 0.008,
                    160 * c6, show=c6 > 0.05)
    # brows: a thick tapered band along the brow points
    th = ident.brow_thickness
    brow_c = tuple(min(h, k) for h, k in zip(_shade(hair, 0.6), _shade(skin, 0.45)))
    for s, b in ((0, slice(17, 22)), (1, slice(22, 27))):
        P = _spline(L[:, b], 4)
        t = np.linspace(0.55, 1.0, P.shape[1])[:, None]
        t = t if s == 0 else t[::-1]
        sh.poly(_cat(P - [0, th * 0.5] * t, _rev(P + [0, th * 0.5] * t)), brow_c)
    # glabella frown lines (AU4) and nose wrinkles (AU9)
    a4, a9 = au(4), au(9)
    for sg in (-1, 1):
        x = sg * 0.035
        sh.line(_pts(x, L[:, 27, 1] - 0.1, x * 0.7, L[:, 27, 1] - 0.01), line_c, 0.011, 200 * a4, show=a4 > 0.05)
    for k, y in enumerate((L[:, 27, 1] + 0.02, L[:, 27, 1] + 0.06, L[:, 28, 1] + 0.04)):
        w = 0.06 + 0.01 * k
        sh.line(_ellipse(0, y + 0.03, w, 0.025, 7, 1.15 * np.pi, 1.85 * np.pi), line_c, 0.01, 210 * a9, show=a9 > 0.05)
    # nose: side line of the bridge, tip shadow, nostrils
    sh.line(_spline(np.stack([L[:, 27] + [0.03, 0.03], L[:, 29] + [0.04, 0], L[:, 31] + [0.03, -0.05]], 1), 4),
            line_c, 0.009, 90)
    sh.line(_spline(L[:, 31:36], 4), line_c, 0.014, 220)
    sh.line(_spline(L[:, 31, None] + [[-0.005, 0.005], [-0.025, -0.035], [0.0, -0.06]], 3), line_c, 0.012, 200)
    sh.line(_spline(L[:, 35, None] + [[0.005, 0.005], [0.025, -0.035], [0.0, -0.06]], 3), line_c, 0.012, 200)
    for i in (32, 34):
        sh.poly(_ellipse(L[:, i, 0], L[:, i, 1] - 0.012, 0.02, 0.011, 10), _shade(skin, 0.45))
    # nasolabial folds (AU12, AU9 / AU10)
    for s, (n_, m_) in enumerate(((31, 48), (35, 54))):
        k = np.maximum(np.maximum(aul(12, s), 0.6 * au(9)), aul(10, s))
        sg = -1 if s == 0 else 1
        fold = np.stack([L[:, n_] + [sg * 0.04, -0.02], L[:, n_] + [sg * 0.1, 0.08], L[:, m_] + [sg * 0.06, 0.02]], 1)
        sh.line(_spline(fold, 4), line_c, 0.012, 170 * k, show=k > 0.05)
    # dimples (AU14)
    for s_, m_ in ((0, 48), (1, 54)):
        sg = -1 if s_ == 0 else 1
        dim = L[:, m_, None] + np.array([[sg * 0.03, -0.03], [sg * 0.045, 0.0], [sg * 0.03, 0.03]])
        sh.line(_spline(dim, 3), line_c, 0.01, 200 * aul(14, s_), show=aul(14, s_) > 0.05)
    # mouth: cavity + teeth when open, then the lips
    inner_up = _spline(L[:, [60, 61, 62, 63, 64]], 4)
    inner_lo = _spline(L[:, [64, 65, 66, 67, 60]], 4)
    gap = L[:, 66, 1] - L[:, 62, 1]
    sh.poly(_cat(inner_up, inner_lo), (70, 25, 30), show=gap > 0.008)
    sh.poly(_cat(inner_up, _rev(inner_up + _xy(0, np.minimum(0.035, gap * 0.45))[:, None])), (250, 248, 240),
            show=gap > 0.008)
    sh.poly(_cat(inner_lo, _rev(inner_lo - _xy(0, np.minimum(0.03, gap * 0.3))[:, None])), (240, 238, 230),
            show=(au(16) > 0.2) & (gap > 0.05))
    sh.poly(_ellipse(L[:, 66, 0], L[:, 66, 1] - 0.015, (L[:, 64, 0] - L[:, 60, 0]) * 0.28, 0.03, 14, np.pi, 2 * np.pi),
            (200, 90, 100), show=gap > 0.07)
    lip_hi = tuple(ident.lip_color)
    sh.poly(_cat(_spline(L[:, 48:55], 4), _rev(inner_up)), _shade(lip_hi, 0.88))
    sh.poly(_cat(_spline(L[:, [54, 55, 56, 57, 58, 59, 48]], 4), _rev(inner_lo)), lip_hi)
    sh.line(inner_up, _shade(lip_hi, 0.45), 0.01)
    sh.line(_spline(L[:, [48, 60, 61, 62, 63, 64, 54]], 3), _shade(lip_hi, 0.4), 0.014, show=gap <= 0.008)


def _hair_shapes(sh: _Shapes, ident: Identity):
    """Hair over the forehead (cap, strands, curls, side locks): drawn over the face, never moves."""
    hair, a, st, part = ident.hair_color, ident.face_width, ident.hair_style, ident.hair_part
    top = _ellipse(0, -0.1, a * 1.1, 0.93, 26, np.pi + 0.12, 2 * np.pi - 0.12)
    hl_y = {0: -0.6, 1: -0.6, 2: -0.6, 3: -0.68, 4: -0.64, 5: -0.6}[st]
    hx = np.linspace(a * 1.05, -a * 1.05, 11)
    hy = hl_y + 0.32 * (np.abs(hx) / a) ** 2.2 - 0.08 * part * hx / a * (st in (0, 1, 2))
    hy = hy + 0.05 * np.sin(np.linspace(0, np.pi, 11)) * (st == 2)
    hairline = np.stack([hx, np.minimum(hy, -0.12)], 1)
    sh.poly(np.concatenate([top, hairline]), hair, 255 if st != 3 else 150)
    if st in (0, 1, 2, 4):                       # a few strands for texture
        for k in range(5):
            x0 = (k - 2) * 0.22 * a + 0.1 * part
            strand = np.array([[x0 * 0.6, -0.98], [x0 * 0.95, -0.8], [x0 * 1.15, hl_y + 0.05 + 0.25 * abs(x0)]])
            sh.line(_spline(strand, 4), _shade(hair, 0.75), 0.012, 200)
    if st == 5:
        for k in range(9):
            ang = np.pi + 0.1 + k * (np.pi - 0.2) / 8
            sh.poly(_ellipse(a * 1.05 * np.cos(ang), -0.12 + 0.9 * np.sin(ang), 0.13, 0.13, 14), hair)
    if st in (1, 2):
        for sg in (-1, 1):
            side = np.array([[sg * a * 1.1, -0.3], [sg * a * 0.93, -0.32], [sg * a * 0.98, 0.15 if st == 2 else 0.4],
                             [sg * a * 1.18, 0.2 if st == 2 else 0.6]])
            sh.poly(side, _shade(hair, 0.95))


def _glasses_shapes(sh: _Shapes, ident: Identity, L: np.ndarray):
    """Glasses, drawn last; the frames follow the eye corners (``L`` (B, 68, 2))."""
    if ident.glasses:
        gc, a = (35, 35, 45), ident.face_width
        for sg, e in ((-1, 36), (1, 42)):
            cx = L[:, e:e + 6:3, 0].mean(1)
            sh.line(_ellipse(cx, -0.125, 0.16, 0.115, 30), gc, 0.02)
            sh.line(_pts(cx + sg * 0.16, -0.14, sg * a * 0.99, -0.1), gc, 0.018)
        sh.line(_pts(L[:, 39, 0] + 0.035, -0.15, L[:, 42, 0] - 0.035, -0.15), gc, 0.018)


@lru_cache(maxsize=8)
def _pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x, y), each (size, size) float32."""
    g = np.arange(size, dtype=np.float32) + 0.5
    return np.broadcast_to(g[None, :], (size, size)), np.broadcast_to(g[:, None], (size, size))


def _shading(ident: Identity, M: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 1) multiplicative shading: directional light plus a darker rim of the head."""
    xx, yy = _pixel_grid(size)
    inv = np.linalg.inv(M[:, :2]).astype(np.float32)
    dx, dy = xx - np.float32(M[0, 2]), yy - np.float32(M[1, 2])
    u = inv[0, 0] * dx + inv[0, 1] * dy
    v = inv[1, 0] * dx + inv[1, 1] * dy
    r2 = (u / np.float32(ident.face_width)) ** 2 + ((v - np.float32(0.05)) / np.float32(0.9)) ** 2
    lx, ly = np.float32(0.07 * np.cos(ident.light)), np.float32(0.07 * np.sin(ident.light))
    s = 1.0 + lx * u + ly * v - np.float32(0.12) * np.clip((r2 - np.float32(0.45)) / np.float32(0.55), 0, 1)
    return s[..., None]


def _background(ident: Identity, size: int, f: int):
    """Linear two-colour gradient along ``bg_angle``, computed at ``size`` and enlarged ``f`` x
    (nearest: the box downscale gives the same pixels back), as a Pillow image."""
    from PIL import Image

    c1, c2 = (np.array(c, np.float32) for c in ident.background)
    g = np.linspace(-1, 1, size, dtype=np.float32)
    t = np.clip(0.5 + 0.5 * (g[None, :] * np.float32(np.cos(ident.bg_angle))
                             + g[:, None] * np.float32(np.sin(ident.bg_angle))), 0, 1)[..., None]
    img = Image.fromarray(np.stack([(a + (b - a) * t[..., 0]).astype(np.uint8) for a, b in zip(c1, c2)], -1))
    return img.resize((size * f, size * f), Image.NEAREST) if f > 1 else img


def _reduce(img, f: int) -> np.ndarray:
    """Box-downscale a supersampled Pillow image ``f`` x (area averaging: the anti-aliasing)."""
    return np.asarray(img.reduce(f) if f > 1 else img)


def _shaded(small: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """uint8 pixels times the shading field -> uint8 (rounded)."""
    x = small.astype(np.float32)
    x *= shade
    x += 0.5
    return np.clip(x, 0, 255, out=x).astype(np.uint8)


class _Layers:
    """What all faces of one identity share, whatever their AUs (see :func:`_layers`)."""

    def __init__(self, ident: Identity, size: int, f: int):
        self.f, self.size = f, size
        M = _pose_matrix([ident], size)[0]
        self.M = M * f                                       # canonical units -> canvas pixels
        self.unit = float(np.hypot(*self.M[:, 0]))           # canvas pixels per canonical unit
        self.shade = np.repeat(_shading(ident, M, size), 3, -1)       # (H, W, 3): no broadcasting, faster
        L = _neutral([ident])[0]
        self.under = _background(ident, size, f)
        sh = _Shapes()
        _under_shapes(sh, ident, L)
        _paint(self.under, [(sh, sh.pixels(self.M), self.unit)])
        self.hair = _Shapes()
        _hair_shapes(self.hair, ident)
        self.hair_xy = self.hair.pixels(self.M)
        top = self.under.copy()
        _paint(top, [(self.hair, self.hair_xy, self.unit)])
        self.static = _shaded(_reduce(top, f), self.shade)            # the image where no face shape reaches
        # the box redrawn per face: where the landmarks can go (each AU at most 1, on either
        # side), the forehead and the glasses, plus a margin for the shapes drawn around the
        # landmarks (a face that reaches out of it is drawn on the whole canvas instead)
        glasses = _Shapes()
        _glasses_shapes(glasses, ident, L[None])
        pts = _cat(L + _DISP.clip(max=0).sum(0), L + _DISP.clip(min=0).sum(0), [[0.0, -0.98]],
                   *(p[0] for p in glasses.pts))
        u0, v0, u1, v1 = pts[:, 0].min() - 0.15, pts[:, 1].min() - 0.15, pts[:, 0].max() + 0.15, pts[:, 1].max() + 0.15
        corners = _Shapes.transform(np.array([[u0, v0], [u1, v0], [u0, v1], [u1, v1]]), self.M)
        self.box = self.align(corners, glasses.reach(self.unit))

    def align(self, xy: np.ndarray, margin: float) -> tuple[int, int, int, int]:
        """The canvas box (x0, y0, x1, y1), on the supersampling grid, around points (..., 2) plus ``margin``."""
        x, y = xy[..., 0], xy[..., 1]
        lo = np.floor((np.array([x.min(), y.min()]) - margin) / self.f).clip(0, self.size) * self.f
        hi = np.ceil((np.array([x.max(), y.max()]) + margin) / self.f).clip(0, self.size) * self.f
        return int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])


@lru_cache(maxsize=16)
def _layers(ident: Identity, size: int, f: int) -> _Layers:
    """Per-identity cache (our choice, for speed: a dataset renders each identity under 8
    expressions in a row): the supersampled canvas every face starts from (background,
    back hair, shoulders, neck, ears), the hair display list, the shading field, the finished
    image without a face, and the box a face is drawn in."""
    return _Layers(ident, size, f)


def _render_group(lay: _Layers, ident: Identity, L: np.ndarray, side_aus: np.ndarray, crop: bool = True) -> np.ndarray:
    """(B, size, size, 3) uint8 faces of ``ident`` (canonical landmarks ``L`` (B, 68, 2), per-side
    AUs (B, 2, N_AU)) on ``lay``: the face, the hair over it, the glasses.

    With ``crop``, a face that lies inside ``lay.box`` is drawn and downscaled in that box only
    (on the supersampling grid), the rest of its image is ``lay.static``; any other face, or all
    with ``crop=False``, is drawn on the whole canvas.  An image depends only on its identity
    and AUs, never on the rest of the batch."""
    f, n, B = lay.f, lay.size * lay.f, len(L)
    face, top = _Shapes(B), _Shapes(B)
    _face_shapes(face, ident, L, side_aus)
    _glasses_shapes(top, ident, L)
    layers = [(face, face.pixels(lay.M), lay.unit), (lay.hair, lay.hair_xy, lay.unit), (top, top.pixels(lay.M), lay.unit)]
    x0, y0, x1, y1 = lay.box
    xy = np.concatenate([layers[0][1], layers[2][1]], 1)
    m = max(face.reach(lay.unit), top.reach(lay.unit))
    x, y = xy[..., 0], xy[..., 1]                 # (B, N) each (min/max over an axis of 2 are slow in numpy)
    inside = ((x.min(1) - m >= x0) | (x0 == 0)) & ((y.min(1) - m >= y0) | (y0 == 0)) \
        & ((x.max(1) + m <= x1) | (x1 == n)) & ((y.max(1) + m <= y1) | (y1 == n)) & crop
    out = np.broadcast_to(lay.static, (B,) + lay.static.shape).copy()
    if inside.any():
        small = []
        for b in np.flatnonzero(inside):
            img = lay.under.crop(lay.box)
            _paint(img, layers, b, (x0, y0))
            small.append(_reduce(img, f))
        sl = np.s_[y0 // f:y1 // f, x0 // f:x1 // f]
        out[inside, sl[0], sl[1]] = _shaded(np.stack(small), lay.shade[sl])
    for b in np.flatnonzero(~inside):
        img = lay.under.copy()
        _paint(img, layers, b)
        out[b] = _shaded(_reduce(img, f), lay.shade)
    return out


def render_batch(identities: Sequence[Identity], aus, size: int = 128, supersample: int = 3):
    """Render a batch: returns images (B, H, W, 3) uint8, landmarks (B, 68, 2) float32 pixels,
    AU vectors (B, N_AU) float32 (the per-side mean for unilateral input).

    ``aus``: (B, N_AU), (B, 2, N_AU) (left/right sides) or a list of what :func:`au_array`
    accepts.  Geometry is vectorised over the batch, and the shapes over each run of
    consecutive images of one identity; each face is then rasterised by Pillow at
    ``supersample`` x ``size`` and box-downscaled (anti-aliasing).  What no AU changes is
    drawn once per identity and cached (:func:`_layers`); only the box around the face is
    redrawn per image.  An image does not depend on the rest of the batch.
    """
    ids = list(identities)
    if isinstance(aus, np.ndarray) and aus.ndim >= 2 and aus.shape[0] == len(ids):
        A = np.asarray(aus, np.float32)
        au_array(A[0])  # validate shape/range of one row
        if not np.all((A >= 0) & (A <= 1)):
            raise ValueError("aus: intensities must lie in [0, 1]")
    else:
        A = np.stack([au_array(x) for x in aus]) if len(ids) else np.zeros((0, N_AU), np.float32)
    if len(A) != len(ids):
        raise ValueError(f"render_batch: {len(ids)} identities but {len(A)} AU vectors")
    if not isinstance(size, (int, np.integer)) or size < 16:
        raise ValueError(f"size: expected an integer >= 16 pixels, got {size!r}")
    f = int(supersample)
    if f != supersample or f < 1:
        raise ValueError(f"supersample: expected an integer >= 1, got {supersample!r}")
    if A.ndim == 2:
        A = np.stack([A, A], 1)
    Lc = _canonical_landmarks(ids, A)
    M = _pose_matrix(ids, size)
    lms = (np.einsum("bij,bpj->bpi", M[:, :, :2], Lc) + M[:, None, :, 2]).astype(np.float32)
    imgs = np.empty((len(ids), size, size, 3), np.uint8)
    k = 0
    while k < len(ids):                                  # runs of one identity share shapes and layers
        j = k + 1
        while j < len(ids) and (ids[j] is ids[k] or ids[j] == ids[k]):
            j += 1
        imgs[k:j] = _render_group(_layers(ids[k], int(size), f), ids[k], Lc[k:j], A[k:j])
        k = j
    return imgs, lms, A.mean(1).astype(np.float32)


def render(identity: Identity, aus=None, size: int = 128, pose: Mapping | None = None, side: str | None = None,
           supersample: int = 3):
    """Render one face: ``(image uint8 (H, W, 3), landmarks float32 (68, 2), au_vector float32)``.

    ``aus``: dict ``{AU: intensity}``, array over :data:`facs.AU_NUMBERS`, or (2, N_AU) per
    side; ``side="left"``/``"right"`` applies them to that half of the image only (a
    unilateral AU).  ``pose`` overrides the identity's pose: ``{"rotation": deg, "scale": s,
    "shift": (dx, dy)}``.
    """
    A = au_array(aus)
    if side is not None:
        if side not in ("left", "right") or A.ndim != 1:
            raise ValueError(f"side: expected None, 'left' or 'right' with a one-sided AU vector, got {side!r}")
        z = np.zeros_like(A)
        A = np.stack([A, z] if side == "left" else [z, A])
    if pose:
        bad = set(pose) - {"rotation", "scale", "shift"}
        if bad:
            raise ValueError(f"pose: unknown keys {sorted(bad)}; valid: rotation, scale, shift")
        identity = replace(identity, **pose)
    imgs, lms, av = render_batch([identity], A[None], size, supersample)
    return imgs[0], lms[0], av[0]


def expression_aus(expression: str, intensity: float = 1.0, jitter_rng: np.random.Generator | None = None,
                   jitter: float = 0.3) -> np.ndarray:
    """Per-side AU intensities (2, N_AU) of an expression prototype (:data:`PROTOTYPE_STRENGTH`).

    ``intensity`` in [0, 1] scales all AUs (0 = neutral, for interpolation lessons);
    ``jitter_rng`` multiplies each active AU by U(1 - jitter, 1), so two samples of a class
    differ.  Contempt acts on the image-left half only (unilateral; side is our choice).
    """
    name = facs.expression_name(facs.expression_index(expression))
    if not 0.0 <= float(intensity) <= 1.0:
        raise ValueError(f"intensity must lie in [0, 1], got {intensity!r}")
    v = np.zeros(N_AU, np.float32)
    for a, s in PROTOTYPE_STRENGTH[name].items():
        k = 1.0 - jitter * jitter_rng.uniform() if jitter_rng is not None else 1.0
        v[_AU_COL[a]] = s * k * float(intensity)
    out = np.stack([v, v])
    if name in facs.UNILATERAL_EXPRESSIONS:
        out[1] = 0.0
    return out


def render_expression(identity: Identity, expression: str, intensity: float = 1.0,
                      jitter_rng: np.random.Generator | None = None, size: int = 128, supersample: int = 3):
    """Render ``identity`` showing ``expression`` (a :data:`facs.EXPRESSIONS` name) at ``intensity``."""
    A = expression_aus(expression, intensity, jitter_rng)
    imgs, lms, av = render_batch([identity], A[None], size, supersample)
    return imgs[0], lms[0], av[0]


#: Seed of the README grid (``python -m course_lib data grid``): six identities that happen to
#: show glasses, a beard, four hair styles and a wide range of skin tones.
GRID_SEED = 22


def expression_grid(identities: int | Sequence[Identity] = 6, size: int = 128, seed: int = GRID_SEED,
                    expressions: Sequence[str] = facs.EXPRESSIONS, pad: int = 2) -> np.ndarray:
    """A uint8 grid image: one row per identity, one column per expression (label order)."""
    if isinstance(identities, int):
        rng = np.random.default_rng(seed)
        identities = [sample_identity(rng) for _ in range(identities)]
    ids = [i for i in identities for _ in expressions]
    A = np.stack([expression_aus(e) for _ in identities for e in expressions])
    imgs, _, _ = render_batch(ids, A, size)
    rows, cols = len(identities), len(expressions)
    grid = np.full((rows * (size + pad) + pad, cols * (size + pad) + pad, 3), 255, np.uint8)
    for k, im in enumerate(imgs):
        r, c = divmod(k, cols)
        grid[pad + r * (size + pad):pad + r * (size + pad) + size, pad + c * (size + pad):pad + c * (size + pad) + size] = im
    return grid


# --------------------------------------------------------------------------- figures and widgets
def show_landmarks(image: np.ndarray, landmarks: np.ndarray, ax=None, numbers: bool = False):
    """Show ``image`` with its 68 landmarks coloured by group (jaw, brows, nose, eyes, mouth)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(image)
    groups = {"jaw": range(0, 17), "brows": range(17, 27), "nose": range(27, 36), "eyes": range(36, 48),
              "mouth": range(48, 68)}
    for (name, idx), c in zip(groups.items(), ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]):
        p = np.asarray(landmarks)[list(idx)]
        ax.scatter(p[:, 0], p[:, 1], s=8, c=c, label=name)
        if numbers:
            for i, (x, y) in zip(idx, p):
                ax.text(x, y, str(i), fontsize=5, color=c)
    ax.legend(fontsize=7, loc="lower right", framealpha=0.6)
    ax.set_axis_off()
    return ax


def intensity_strip(identity: Identity, expression: str, steps: int = 6, size: int = 128) -> np.ndarray:
    """(steps, H, W, 3) uint8: ``expression`` at intensities ``linspace(0, 1, steps)`` (0 = neutral)."""
    A = np.stack([expression_aus(expression, t) for t in np.linspace(0, 1, steps)])
    return render_batch([identity] * steps, A, size)[0]


def show_images(images, titles: Sequence[str] | None = None, ncols: int | None = None, scale: float = 1.6):
    """Show a list/array of uint8 (H, W, 3) images in a grid with optional titles; returns the figure."""
    import matplotlib.pyplot as plt

    images = list(images)
    ncols = ncols or len(images)
    nrows = -(-len(images) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, scale * nrows + 0.3 * (titles is not None)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k < len(images):
            ax.imshow(images[k])
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    fig.tight_layout()
    return fig


def show_expression_grid(identities: int | Sequence[Identity] = 6, size: int = 128, seed: int = GRID_SEED):
    """Figure of :func:`expression_grid`: one row per identity, one column per expression."""
    if isinstance(identities, int):
        rng = np.random.default_rng(seed)
        identities = [sample_identity(rng) for _ in range(identities)]
    A = np.stack([expression_aus(e) for _ in identities for e in facs.EXPRESSIONS])
    imgs = render_batch([i for i in identities for _ in facs.EXPRESSIONS], A, size)[0]
    titles = [e if k < len(facs.EXPRESSIONS) else "" for k, e in enumerate(list(facs.EXPRESSIONS) * len(identities))]
    return show_images(imgs, titles, ncols=len(facs.EXPRESSIONS), scale=1.3)


def au_widget(identity: Identity | None = None, size: int = 128):
    """ipywidgets UI: one slider per AU plus an expression dropdown and intensity slider;
    the face and its landmarks re-render live."""
    import ipywidgets as w
    from IPython.display import display
    from PIL import Image
    import io

    identity = identity or sample_identity(0)
    sliders = {a: w.FloatSlider(0.0, min=0, max=1, step=0.05, description=f"AU{a}",
                                layout=w.Layout(width="230px"), continuous_update=True)
               for a in facs.AU_NUMBERS if a in AU_DISPLACEMENT}
    expr = w.Dropdown(options=("(AU sliders)",) + facs.EXPRESSIONS, description="expression")
    inten = w.FloatSlider(1.0, min=0, max=1, step=0.05, description="intensity")
    seed = w.IntText(0, description="identity seed")
    marks = w.Checkbox(False, description="landmarks")
    out = w.Image(format="png", width=3 * size, height=3 * size)

    def redraw(*_):
        ident = sample_identity(seed.value) if seed.value else identity
        if expr.value in facs.EXPRESSIONS:
            img, lm, _ = render_expression(ident, expr.value, inten.value, size=size)
        else:
            img, lm, _ = render(ident, {a: s.value for a, s in sliders.items()}, size=size)
        pil = Image.fromarray(img).resize((3 * size, 3 * size), Image.NEAREST)
        if marks.value:
            from PIL import ImageDraw
            d = ImageDraw.Draw(pil)
            for x, y in lm * 3:
                d.ellipse((x - 2, y - 2, x + 2, y + 2), fill=(255, 40, 40))
        buf = io.BytesIO()
        pil.save(buf, format="png")
        out.value = buf.getvalue()

    for c in list(sliders.values()) + [expr, inten, seed, marks]:
        c.observe(redraw, names="value")
    redraw()
    box = w.HBox([w.VBox([expr, inten, seed, marks, out]),
                  w.VBox(list(sliders.values())[:10]), w.VBox(list(sliders.values())[10:])])
    display(box)
    return box
