"""Face alignment: a similarity transform that puts the eyes level at fixed positions.

LGP-GAN IV.B: "all the input facial images were first aligned and cropped to the size of
128x128 according to the facial landmarks detected by Dlib"; Cascade EF-GAN 4.1: "128x128
patches with faces in the center".  Neither paper gives the canonical geometry, so it is
our choice, stated here and checked by the tests:

* eye centres (mean of points 36-41 and 42-47) at x = size/2 -/+ ``EYE_DISTANCE``*size/2
  and y = ``EYE_Y`` * size: at 128, (42, 48) and (86, 48), an inter-ocular distance of 44 px.
* Why: measured with dlib on ``astronaut`` and ``grace_hopper`` (in units of the
  inter-ocular distance IOD), the outer eye corners span 1.33-1.38 IOD, the mouth is
  0.82-1.04 IOD wide and its centre 0.98-1.08 IOD below the eyes, the chin 1.73-1.74 IOD
  below.  At IOD = 44 px the eyes span ~60 px (inside the 96 and 92 px eye boxes), the
  mouth 36-46 px (inside 64 / 60, with room for a smile), the aligned mouth centres land
  at y = 90-91 (the 48 px LGP box ends by y = 115) and the chins at y = 116-124, inside
  the crop: every LGP and EF-GAN box fits in 128x128 without being shifted, face centred.

The transform is a :class:`skimage.transform.SimilarityTransform` (rotation, uniform scale,
translation) estimated from the two eye centres (exactly determined) with
:func:`estimate_similarity`, which works with scikit-image 0.26's ``from_estimate`` and with
the ``estimate`` method of earlier versions (Colab has shipped 0.25); the image is warped
with :func:`skimage.transform.warp` (bilinear, edge pixels repeated outside the photo),
after a Gaussian anti-aliasing blur when it shrinks (sigma = (1/scale - 1)/2, the rule of
``skimage.transform.rescale(anti_aliasing=True)``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

#: Inter-ocular distance of the aligned face, as a fraction of the output size (44 px at 128).
EYE_DISTANCE = 44 / 128
#: Height of the eye centres, as a fraction of the output size (y = 48 at 128).
EYE_Y = 48 / 128
DEFAULT_SIZE = 128


@dataclass
class Aligned:
    """An aligned face: ``image`` (size, size, 3) uint8, ``landmarks`` (68, 2) float32 in the
    aligned image, ``transform`` (source -> aligned, a SimilarityTransform) and ``n_faces``
    (faces the detector found; 1 when landmarks were given)."""
    image: np.ndarray
    landmarks: np.ndarray
    transform: object
    n_faces: int = 1


def eye_centres(landmarks) -> tuple[np.ndarray, np.ndarray]:
    """(image-left eye, image-right eye) centres: means of points 36-41 and 42-47 of (68, 2)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (68, 2):
        raise ValueError(f"landmarks: expected (68, 2) (x, y) points, got shape {lm.shape}")
    return lm[36:42].mean(0), lm[42:48].mean(0)


def canonical_eyes(size: int = DEFAULT_SIZE, eye_distance: float = EYE_DISTANCE,
                   eye_y: float = EYE_Y) -> np.ndarray:
    """(2, 2) target positions (x, y) of the image-left and image-right eye centres."""
    half = eye_distance * size / 2
    return np.array([[size / 2 - half, eye_y * size], [size / 2 + half, eye_y * size]])


def similarity_from_eyes(landmarks, size: int = DEFAULT_SIZE, eye_distance: float = EYE_DISTANCE,
                         eye_y: float = EYE_Y):
    """The SimilarityTransform mapping the two eye centres of ``landmarks`` onto :func:`canonical_eyes`."""
    from skimage.transform import SimilarityTransform

    src = np.stack(eye_centres(landmarks))
    if np.linalg.norm(src[1] - src[0]) < 1e-6:
        raise ValueError("landmarks: both eye centres coincide; cannot align")
    return estimate_similarity(src, canonical_eyes(size, eye_distance, eye_y), SimilarityTransform,
                               what="the similarity transform from the eyes")


def estimate_similarity(src, dst, transform_class=None, what: str = "the similarity transform"):
    """The least-squares ``transform_class`` (default ``SimilarityTransform``) mapping ``src`` onto ``dst``.

    Works with both scikit-image APIs: ``from_estimate`` (0.26+, which returns a falsy
    ``FailedEstimation`` on failure and deprecates ``estimate``) and, before 0.26 (Colab has
    shipped 0.25), ``tform = SimilarityTransform(); tform.estimate(src, dst)`` (which returns
    ``False`` on failure).  A failure is a ``ValueError``; so is a non-finite result.
    """
    if transform_class is None:
        from skimage.transform import SimilarityTransform as transform_class
    src, dst = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if hasattr(transform_class, "from_estimate"):
        tform = transform_class.from_estimate(src, dst)
        ok, reason = bool(tform), str(tform)
    else:
        tform = transform_class()
        ok, reason = bool(tform.estimate(src, dst)), "estimate() returned False"
    if ok and not np.all(np.isfinite(tform.params)):
        ok, reason = False, "non-finite matrix"
    if not ok:
        raise ValueError(f"landmarks: could not estimate {what} ({reason})")
    return tform


def warp_face(image: np.ndarray, tform, size: int) -> np.ndarray:
    """Warp ``image`` (H, W, 3) uint8 with ``tform`` (source -> output) to (size, size, 3) uint8."""
    from skimage.filters import gaussian
    from skimage.transform import SimilarityTransform, warp

    scale = float(tform.scale)
    # only the part of the photo the output sees (plus a margin for the blur) is processed
    corners = tform.inverse(np.array([[0, 0], [size, 0], [0, size], [size, size]], float))
    sigma = max(0.0, (1.0 / scale - 1.0) / 2.0)
    pad = int(np.ceil(3 * sigma)) + 2
    x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + pad, [image.shape[1], image.shape[0]])
    if x1 <= x0 or y1 <= y0:     # the output lies outside the photo: warp the whole photo
        x0 = y0 = 0
        y1, x1 = image.shape[:2]
    part = image[y0:y1, x0:x1].astype(np.float64)
    if sigma > 0:
        part = gaussian(part, sigma=(sigma, sigma, 0), preserve_range=True, mode="nearest")
    shifted = SimilarityTransform(translation=(x0, y0)) + tform      # part -> photo -> output
    out = warp(part, shifted.inverse, output_shape=(size, size), order=1, mode="edge", preserve_range=True)
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def align(image: np.ndarray, landmarks, size: int = DEFAULT_SIZE, eye_distance: float = EYE_DISTANCE,
          eye_y: float = EYE_Y) -> Aligned:
    """Align a face given its 68 landmarks: eyes level at :func:`canonical_eyes`, ``size`` x ``size``.

    Returns :class:`Aligned` with the warped image, the landmarks mapped by the same
    transform (so region boxes can be computed in the aligned frame) and the transform.
    """
    img = np.asarray(image)
    if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f"image: expected an (H, W, 3) uint8 RGB image, got {img.dtype} {img.shape}")
    if int(size) != size or size < 8:
        raise ValueError(f"size={size!r}: expected an integer >= 8")
    tform = similarity_from_eyes(landmarks, size, eye_distance, eye_y)
    lm = tform(np.asarray(landmarks, np.float64)).astype(np.float32)
    return Aligned(warp_face(img, tform, size), lm, tform)


def align_face(image, size: int = DEFAULT_SIZE, cnn: bool = False, upsample: int | None = None,
               name: str = "image", eye_distance: float = EYE_DISTANCE, eye_y: float = EYE_Y) -> Aligned:
    """Detect (dlib), take the largest face and :func:`align` it.  ``image``: a path or (H, W, 3) uint8.

    Errors name the image: unreadable files (:class:`course_lib.images.ImageError`), an
    image smaller than the crop (``ValueError``), no face (:class:`~course_lib.landmarks.FaceNotFoundError`);
    several faces -> the largest, with a warning (see :func:`course_lib.landmarks.largest_face`).
    """
    from course_lib import landmarks as lmk
    from course_lib.images import load_rgb

    if isinstance(image, (str, os.PathLike)):
        name = str(image)
        image = load_rgb(image)
    image = np.asarray(image)
    if image.ndim >= 2 and min(image.shape[:2]) < size:
        raise ValueError(f"{name}: image is {image.shape[1]}x{image.shape[0]} px, smaller than the "
                         f"{size}x{size} crop; use a larger photo or a smaller --size")
    face, n = lmk.largest_face(image, cnn=cnn, upsample=upsample, name=name)
    out = align(image, face.landmarks, size, eye_distance, eye_y)
    out.n_faces = n
    return out


def show_alignment(photo: np.ndarray, aligned: Aligned, source_landmarks=None, box=None, title: str = ""):
    """Figure: the photo with its landmarks, detector ``box`` and eye line; the aligned crop with
    its landmarks and the canonical eye positions (crosses) on the level eye line."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from course_lib.render import show_landmarks

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(8, 4))
    if source_landmarks is None:
        source_landmarks = aligned.transform.inverse(aligned.landmarks)
    show_landmarks(photo, source_landmarks, ax=a0)
    eyes = np.stack(eye_centres(source_landmarks))
    angle = np.degrees(np.arctan2(*(eyes[1] - eyes[0])[::-1]))
    a0.plot(eyes[:, 0], eyes[:, 1], "y-", lw=1.5)
    if box is not None:
        l, t, r, b = box
        a0.add_patch(Rectangle((l, t), r - l, b - t, fill=False, ec="lime", lw=1.5))
    a0.set_title(f"{title} photo {photo.shape[1]}x{photo.shape[0]}, eye line {angle:+.1f} deg", fontsize=9)
    size = aligned.image.shape[0]
    target = canonical_eyes(size, *_eye_params(aligned, size))
    show_landmarks(aligned.image, aligned.landmarks, ax=a1)
    a1.axhline(target[0, 1], color="y", lw=0.8)
    a1.scatter(target[:, 0], target[:, 1], marker="x", s=60, c="yellow")
    a1.set_title(f"aligned {size}x{size}, eyes at {target[0].round(1).tolist()} / {target[1].round(1).tolist()}",
                 fontsize=9)
    fig.tight_layout()
    return fig


def _eye_params(aligned: Aligned, size: int) -> tuple[float, float]:
    le, re = eye_centres(aligned.landmarks)
    return float(np.linalg.norm(re - le) / size), float((le[1] + re[1]) / 2 / size)
