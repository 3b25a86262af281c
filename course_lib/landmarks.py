"""Face detection and 68-point landmarks with dlib (LGP-GAN IV.B: "aligned and cropped ...
according to the facial landmarks detected by Dlib [56] ... capable of detecting 68 landmarks").

* detector: dlib's HOG + linear SVM frontal face detector (default), or the CNN (MMOD)
  detector with ``cnn=True`` (more robust to pose, much slower on CPU);
* landmarks: dlib's 68-point shape predictor (iBUG-300W order: jaw 0-16, brows 17-26,
  nose 27-35, eyes 36-47, mouth 48-67), returned as float32 (68, 2) (x, y) pixels.

The model files ship inside the ``face_recognition_models`` package (nothing is
downloaded); they are located with :func:`importlib.util.find_spec` because that
package's own helpers need ``pkg_resources``.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PREDICTOR_68 = "shape_predictor_68_face_landmarks.dat"
MMOD_DETECTOR = "mmod_human_face_detector.dat"


class FaceNotFoundError(ValueError):
    """No face in an image; the message names the image."""


def model_path(filename: str) -> Path:
    """Path of a dlib model file shipped in ``face_recognition_models/models/``."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the dlib model files come from the 'face_recognition_models' package: "
                                  "pip install face_recognition_models")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / filename
    if not path.is_file():
        raise FileNotFoundError(f"{path}: dlib model file missing from face_recognition_models")
    return path


@functools.lru_cache(maxsize=None)
def _models(cnn: bool):
    import dlib

    detector = (dlib.cnn_face_detection_model_v1(str(model_path(MMOD_DETECTOR))) if cnn
                else dlib.get_frontal_face_detector())
    return detector, dlib.shape_predictor(str(model_path(PREDICTOR_68)))


@dataclass
class Face:
    """One detected face: its box (left, top, right, bottom), detector score and 68 landmarks."""
    box: tuple[int, int, int, int]
    score: float
    landmarks: np.ndarray

    @property
    def area(self) -> int:
        l, t, r, b = self.box
        return max(0, r - l) * max(0, b - t)


def _as_rgb(image, name: str) -> np.ndarray:
    if isinstance(image, (str, os.PathLike)):
        from course_lib.images import load_rgb
        return load_rgb(image)
    a = np.asarray(image)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"{name}: expected an (H, W, 3) uint8 RGB image, got {a.dtype} {a.shape}")
    return np.ascontiguousarray(a)


def predict_landmarks(image: np.ndarray, box) -> np.ndarray:
    """dlib's 68 points inside ``box`` (left, top, right, bottom) of an RGB uint8 image -> (68, 2) float32."""
    import dlib

    _, predictor = _models(False)
    shape = predictor(np.ascontiguousarray(image), dlib.rectangle(*(int(v) for v in box)))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def detect_faces(image, cnn: bool = False, upsample: int | None = None, name: str = "image") -> list[Face]:
    """All faces of ``image`` (uint8 RGB array or a path), largest first, with their landmarks.

    ``upsample`` is dlib's number of image doublings before detecting.  ``None`` (default,
    our choice) runs at 0 and retries once at 1 when nothing is found: 0 finds faces
    larger than about 80 px without the weak false positives a doubled image gives
    (on ``skimage.data.astronaut()`` upsample=1 adds a spurious second "face" on the
    suit), and the retry still finds small faces.
    """
    if isinstance(image, (str, os.PathLike)):
        name = str(image)
    rgb = _as_rgb(image, name)
    detector, _ = _models(bool(cnn))
    faces = []
    for up in ([0, 1] if upsample is None else [int(upsample)]):
        if cnn:
            found = [(d.rect, float(d.confidence)) for d in detector(rgb, up)]
        else:
            rects, scores, _ = detector.run(rgb, up, 0.0)
            found = list(zip(rects, scores))
        faces = [Face((r.left(), r.top(), r.right(), r.bottom()), s, predict_landmarks(rgb, (r.left(), r.top(), r.right(), r.bottom())))
                 for r, s in found]
        if faces:
            break
    return sorted(faces, key=lambda f: -f.area)


def largest_face(image, cnn: bool = False, upsample: int | None = None, name: str = "image") -> tuple[Face, int]:
    """The largest face of ``image`` and the number of faces found.

    Policy: no face -> :class:`FaceNotFoundError` naming the image; several faces -> the
    largest is used and a :class:`UserWarning` names the image and the count.
    """
    if isinstance(image, (str, os.PathLike)):
        name = str(image)
    faces = detect_faces(image, cnn=cnn, upsample=upsample, name=name)
    if not faces:
        raise FaceNotFoundError(f"{name}: no face found by dlib's {'CNN (MMOD)' if cnn else 'HOG'} detector")
    if len(faces) > 1:
        warnings.warn(f"{name}: {len(faces)} faces found; using the largest", UserWarning, stacklevel=2)
    return faces[0], len(faces)


def landmarks(image, cnn: bool = False, upsample: int | None = None, name: str = "image") -> np.ndarray:
    """The 68 (x, y) landmarks (float32 (68, 2)) of the largest face of ``image`` (see :func:`largest_face`)."""
    return largest_face(image, cnn=cnn, upsample=upsample, name=name)[0].landmarks
