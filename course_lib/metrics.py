"""Image-quality metrics of the papers' experiments, and their offline counterparts.

* **FID** (Heusel et al.; LGP-GAN Sec. IV.A / Table IV, Cascade EF-GAN Table 2, the
  landmark+label GAN's Eq. 10): the Fréchet distance between Gaussians fitted to two
  feature sets, ``|mu_g - mu_r|^2 + Tr(S_g + S_r - 2 (S_g S_r)^{1/2})``.
  :func:`fid_from_features` computes it by hand (``scipy.linalg.sqrtm``);
  :func:`fidelity_metrics` computes FID / IS / KID with torch-fidelity.
* **Inception** features need the Inception-v3 weights: a file given by the user
  (``inception_weights``), the torch hub cache, or (only when asked) a download.  Without
  them Inception FID/IS/KID are *unavailable* (:class:`InceptionUnavailable`), never a
  made-up number; randomly initialised Inception weights are never used.
* **In-domain FID**: the penultimate layer of the expression classifier of
  :mod:`course_lib.classifier`, registered with torch-fidelity as the feature extractor
  :data:`IN_DOMAIN_EXTRACTOR`.  Always labelled "in-domain FID", never "FID (Inception)":
  its numbers are not comparable with the papers'.  They are comparable between runs judged
  by the same classifier: the evaluation uses the shipped, versioned judge of ``data/judges/``
  (:mod:`course_lib.judge`) whenever the data is the embedded set it was trained on.
* **PSNR / SSIM** against the ground-truth target (the landmark+label GAN's Eq. 8 and 9,
  Table 5; Cascade EF-GAN Table 2) with scikit-image; **AU error**; **identity**: the
  distance between dlib face-recognition descriptors of input and output and the share
  under dlib's 0.6 same-person threshold (our counterpart of the landmark+label GAN's
  Table 6), counting the images where dlib finds no face.
* Our own diagnostics of paired translations (none of the papers reports them):
  **changes outside the expression** (:func:`outside_change_share`: the share of the pixels
  the truth leaves unchanged that the translation changes) and the **high-frequency ratio**
  (:func:`high_frequency_ratio`: mean |Laplacian| of the translations over that of the
  truths; stripes and checkerboards push it above 1, blur below).
* **LPIPS** (Zhang et al. 2018, the ``lpips`` package, AlexNet trunk) only when the package
  and its weights are present (:func:`lpips_model`); otherwise :class:`LPIPSUnavailable`
  and the tables say :data:`LPIPS_NOTE`, never a number.
* :func:`confusion_matrix` of the expression judge (rows: target, columns: predicted).
"""
from __future__ import annotations

import copy
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch_fidelity

from course_lib.images import uint8_from_unit, unit_from_uint8
from torch_fidelity import FeatureExtractorBase, register_feature_extractor
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

#: Name under which the in-domain extractor is registered with torch-fidelity.
IN_DOMAIN_EXTRACTOR = "course-expression-classifier"
#: Label of FID computed with it (never "FID (Inception)").
IN_DOMAIN_FID = "in-domain FID"
#: dlib's same-person threshold on the Euclidean distance between face descriptors.
DLIB_SAME_PERSON = 0.6
#: File name of torch-fidelity's Inception-v3 weights in the torch hub cache.
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"


# ----------------------------------------------------------------------------- FID by hand
def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of a feature set (N, D) (unbiased, like torch-fidelity)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"expected a feature set of shape (N >= 2, D), got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance of N(mu1, sigma1) and N(mu2, sigma2) (the landmark+label GAN's Eq. 10).

    ``(S1 S2)^{1/2}`` by ``scipy.linalg.sqrtm``; like Eq. 10 says, only its real part is
    kept (numerical noise makes it slightly complex).
    """
    from scipy import linalg

    diff = np.asarray(mu1, np.float64) - np.asarray(mu2, np.float64)
    covmean = linalg.sqrtm(np.asarray(sigma1, np.float64) @ np.asarray(sigma2, np.float64))
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean).real)


def fid_from_features(features1, features2) -> float:
    """FID between two feature sets (N1, D) and (N2, D), by hand (Eq. 10 above)."""
    return frechet_distance(*feature_statistics(features1), *feature_statistics(features2))


# ------------------------------------------------------------- torch-fidelity inputs
class UInt8Images(torch.utils.data.Dataset):
    """A torch Dataset of uint8 (3, H, W) tensors, the input torch-fidelity expects.

    Built from float images (N, 3, H, W) in [-1, 1], uint8 tensors (N, 3, H, W) or uint8
    arrays (N, H, W, 3).
    """

    def __init__(self, images):
        t = torch.as_tensor(np.asarray(images)) if not torch.is_tensor(images) else images
        if t.ndim != 4:
            raise ValueError(f"expected a batch of images (N, 3, H, W) or (N, H, W, 3), got shape {tuple(t.shape)}")
        if t.dtype == torch.uint8:
            t = t if t.shape[1] == 3 else t.permute(0, 3, 1, 2)
        else:
            if t.shape[1] != 3:
                raise ValueError(f"float images must be (N, 3, H, W) in [-1, 1], got shape {tuple(t.shape)}")
            t = uint8_from_unit(t.detach().cpu())
        if t.shape[1] != 3:
            raise ValueError(f"expected 3 colour channels, got shape {tuple(t.shape)}")
        if len(t) < 2:
            raise ValueError(f"a metric needs at least 2 images, got {len(t)}")
        self.images = t.contiguous()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


# ------------------------------------------------------------- in-domain extractor
class InDomainFeatureExtractor(FeatureExtractorBase):
    """torch-fidelity feature extractor on :class:`course_lib.classifier.ExpressionClassifier`.

    Features: ``"penultimate"`` (FID/KID; the in-domain choice, ours) and ``"logits"``.
    The classifier comes from the keyword ``course_classifier`` (a module, copied) or from
    ``feature_extractor_weights_path`` (a file written by ``classifier.save_classifier``, or a
    judge file of ``classifier.save_judge``, e.g. ``data/judges/expression-judge-64px-v1.pt``).
    torch-fidelity builds it as ``cls(name, features_list, **kwargs)``.
    """

    def __init__(self, name, features_list, feature_extractor_weights_path=None, course_classifier=None, **kwargs):
        super().__init__(name, features_list)
        from course_lib import classifier as clf

        if course_classifier is not None:
            model = copy.deepcopy(course_classifier).cpu()
        elif feature_extractor_weights_path is not None:
            model = clf.load_classifier(feature_extractor_weights_path)
        else:
            raise ValueError(f"feature extractor {name!r} needs a classifier: pass course_classifier=MODEL "
                             "or feature_extractor_weights_path=PATH (a file written by save_classifier or save_judge)")
        self.model = model.eval().requires_grad_(False)

    @staticmethod
    def get_provided_features_list():
        return "penultimate", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"fid": "penultimate", "kid": "penultimate", "prc": "penultimate", "isc": "logits"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return None

    def forward(self, x):
        if not (torch.is_tensor(x) and x.dtype == torch.uint8 and x.ndim == 4 and x.shape[1] == 3):
            raise ValueError(f"{self.name}: expected uint8 images (B, 3, H, W), got "
                             f"{getattr(x, 'dtype', type(x))} {tuple(getattr(x, 'shape', ()))}")
        feats = self.model.features(unit_from_uint8(x))
        out = {"penultimate": feats, "logits": self.model.head(feats)}
        return tuple(out[f].float() for f in self.features_list)


def register_in_domain_extractor() -> str:
    """Register :class:`InDomainFeatureExtractor` with torch-fidelity (idempotent); return its name.

    Calling it again (re-running a notebook cell, or after ``importlib.reload`` of this
    module) does not raise: an extractor already registered under
    :data:`IN_DOMAIN_EXTRACTOR` by this module is kept; a foreign one under that name is
    an error naming its module.
    """
    present = FEATURE_EXTRACTORS_REGISTRY.get(IN_DOMAIN_EXTRACTOR)
    if present is None:
        register_feature_extractor(IN_DOMAIN_EXTRACTOR, InDomainFeatureExtractor)
    elif present.__module__ != __name__:
        raise ValueError(f"torch-fidelity already has a feature extractor {IN_DOMAIN_EXTRACTOR!r} "
                         f"from {present.__module__}")
    return IN_DOMAIN_EXTRACTOR


# ------------------------------------------------------------- Inception weights
class InceptionUnavailable(RuntimeError):
    """Inception-v3 weights are not available: Inception FID / IS / KID cannot be computed."""


def inception_weights(path: str | os.PathLike | None = None, download: bool = False) -> Path:
    """Path of torch-fidelity's Inception-v3 weights, or :class:`InceptionUnavailable`.

    Looks at ``path`` (an error if given and missing), then the torch hub cache
    (``$TORCH_HOME/hub/checkpoints/``); downloads only when ``download=True``.
    """
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"--inception-weights {p}: no such file (expected torch-fidelity's "
                                    f"{INCEPTION_FILE})")
        return p
    cached = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    if cached.is_file():
        return cached
    if download:
        from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

        try:
            torch.hub.load_state_dict_from_url(URL_INCEPTION_V3, progress=True)
        except Exception as err:  # offline, blocked, ...
            raise InceptionUnavailable(f"Inception FID/IS unavailable: downloading the weights failed "
                                       f"({type(err).__name__}: {err})") from err
        if cached.is_file():
            return cached
    raise InceptionUnavailable(
        "Inception FID/IS unavailable: no Inception-v3 weights (pass --inception-weights PATH to "
        f"torch-fidelity's {INCEPTION_FILE}, or allow the download). Only the in-domain FID is reported.")


# ------------------------------------------------------------- torch-fidelity wrappers
def fidelity_metrics(generated, real, *, kind: str = "in-domain", classifier=None, inception_path=None,
                     fid: bool = True, isc: bool = False, kid: bool = False, verbose: bool = False) -> dict:
    """FID (and IS, KID) of ``generated`` against ``real`` with torch-fidelity.

    ``generated`` / ``real``: anything :class:`UInt8Images` accepts (or such a Dataset).
    ``kind="in-domain"`` uses the classifier's penultimate features (``classifier``: a
    module or a saved file); ``kind="inception"`` needs ``inception_path`` (see
    :func:`inception_weights`).  Returns ``{"kind": label, "fid": ..., "is_mean": ...,
    "is_std": ..., "kid_mean": ..., "kid_std": ...}`` (the metrics asked for), where
    label is :data:`IN_DOMAIN_FID` or ``"Inception FID"``.  IS is computed only with
    Inception (an in-domain IS is not the paper's metric).
    """
    g = generated if isinstance(generated, torch.utils.data.Dataset) else UInt8Images(generated)
    r = real if isinstance(real, torch.utils.data.Dataset) else UInt8Images(real)
    common = dict(input1=g, input2=r, fid=fid, kid=kid, cuda=False, cache=False, save_cpu_ram=True,
                  verbose=verbose, batch_size=64, kid_subset_size=min(1000, len(g), len(r)))
    if kind == "in-domain":
        if isc:
            raise ValueError("IS needs Inception features; the in-domain extractor has no ImageNet classes")
        if classifier is None:
            raise ValueError("in-domain FID needs the expression classifier (a module or a saved file)")
        extra = ({"feature_extractor_weights_path": str(classifier)} if isinstance(classifier, (str, os.PathLike))
                 else {"course_classifier": classifier})
        out = torch_fidelity.calculate_metrics(feature_extractor=register_in_domain_extractor(), **common, **extra)
        label = IN_DOMAIN_FID
    elif kind == "inception":
        if inception_path is None:
            raise InceptionUnavailable("Inception metrics need the weights file (see metrics.inception_weights)")
        common["cuda"] = torch.cuda.is_available()
        out = torch_fidelity.calculate_metrics(feature_extractor="inception-v3-compat", isc=isc,
                                               feature_extractor_weights_path=str(inception_path),
                                               isc_splits=min(10, len(g)), **common)
        label = "Inception FID"
    else:
        raise ValueError(f"kind={kind!r}: expected 'in-domain' or 'inception'")
    names = {"frechet_inception_distance": "fid", "inception_score_mean": "is_mean", "inception_score_std": "is_std",
             "kernel_inception_distance_mean": "kid_mean", "kernel_inception_distance_std": "kid_std"}
    return {"kind": label, **{names[k]: float(v) for k, v in out.items() if k in names}}


# ------------------------------------------------------------- paired metrics
def _as_uint8_hwc(images) -> np.ndarray:
    """(N,3,H,W) float in [-1,1] / uint8 (N,H,W,3) / one image -> uint8 (N,H,W,3)."""
    if torch.is_tensor(images) and images.dtype != torch.uint8:
        from course_lib.images import to_uint8

        images = to_uint8(images)
    a = np.asarray(images.cpu() if torch.is_tensor(images) else images)
    if a.ndim == 3:
        a = a[None]
    if a.dtype != np.uint8 or a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"expected uint8 images (N, H, W, 3) or float tensors (N, 3, H, W) in [-1, 1], "
                         f"got {a.dtype} {a.shape}")
    return a


def psnr(outputs, targets) -> np.ndarray:
    """PSNR in dB of each output against its ground truth (the landmark+label GAN's Eq. 8, P = 255).

    Per image (scikit-image ``peak_signal_noise_ratio`` with ``data_range=255``); identical
    images give ``inf``.
    """
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _as_uint8_hwc(outputs), _as_uint8_hwc(targets)
    if a.shape != b.shape:
        raise ValueError(f"psnr: shapes differ, {a.shape} vs {b.shape}")
    with np.errstate(divide="ignore"):
        return np.array([peak_signal_noise_ratio(y, x, data_range=255) for x, y in zip(a, b)])


def ssim(outputs, targets) -> np.ndarray:
    """SSIM of each output against its ground truth (the landmark+label GAN's Eq. 9).

    scikit-image ``structural_similarity`` on uint8 RGB (``data_range=255``, 7x7 uniform
    window, k1 = 0.01, k2 = 0.03, averaged over the colour channels).
    """
    from skimage.metrics import structural_similarity

    a, b = _as_uint8_hwc(outputs), _as_uint8_hwc(targets)
    if a.shape != b.shape:
        raise ValueError(f"ssim: shapes differ, {a.shape} vs {b.shape}")
    side = min(a.shape[1:3])
    win = 7 if side >= 7 else side - (1 - side % 2)      # scikit-image needs an odd window <= the image
    return np.array([structural_similarity(y, x, data_range=255, channel_axis=2, win_size=win)
                     for x, y in zip(a, b)])


def au_error(predicted, true) -> np.ndarray:
    """Mean absolute AU-intensity error per image: mean_k |predicted_k - true_k|, (N, K) -> (N,)."""
    p, t = np.asarray(predicted, np.float64), np.asarray(true, np.float64)
    if p.shape != t.shape:
        raise ValueError(f"au_error: shapes differ, {p.shape} vs {t.shape}")
    return np.abs(p - t).mean(axis=-1)


# ------------------------------------------------------------- identity (dlib)
def dlib_model(name: str) -> Path:
    """Path of a model file shipped by ``face_recognition_models`` (found with importlib, not pkg_resources)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("face_recognition_models is not installed: pip install face_recognition_models")
    path = Path(spec.origin).parent / "models" / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing from face_recognition_models")
    return path


class FaceDescriptors:
    """dlib's HOG face detector + 5-point shape predictor + face-recognition ResNet (128-D descriptors).

    Images smaller than ``min_size`` pixels are first enlarged (bicubic) to it: our choice —
    dlib's detector misses 64x64 faces, while at 128x128 it finds the synthetic ones.
    """

    def __init__(self, upsample: int = 1, min_size: int = 128):
        import dlib

        self.upsample, self.min_size = upsample, min_size
        self.detector = dlib.get_frontal_face_detector()
        self.shape = dlib.shape_predictor(str(dlib_model("shape_predictor_5_face_landmarks.dat")))
        self.net = dlib.face_recognition_model_v1(str(dlib_model("dlib_face_recognition_resnet_model_v1.dat")))

    def __call__(self, images, progress: bool = False) -> np.ndarray:
        """Descriptors (N, 128) of uint8 images; a row of NaN where dlib finds no face (largest face kept)."""
        from tqdm.auto import tqdm

        a = _as_uint8_hwc(images)
        out = np.full((len(a), 128), np.nan)
        for i in tqdm(range(len(a)), desc="dlib face descriptors", disable=not progress, leave=False):
            img = np.ascontiguousarray(self._enlarge(a[i]))
            faces = self.detector(img, self.upsample)
            if len(faces):
                box = max(faces, key=lambda r: r.area())
                out[i] = np.asarray(self.net.compute_face_descriptor(img, self.shape(img, box)))
        return out


    def _enlarge(self, img: np.ndarray) -> np.ndarray:
        from PIL import Image

        h, w = img.shape[:2]
        if min(h, w) >= self.min_size:
            return img
        f = self.min_size / min(h, w)
        return np.asarray(Image.fromarray(img).resize((round(w * f), round(h * f)), Image.BICUBIC))


@dataclass
class IdentityScores:
    """Identity preservation between inputs and outputs (dlib descriptors)."""
    pairs: int                      # input/output pairs examined
    no_face: int                    # pairs where dlib found no face in the input or the output
    distance: float = float("nan")  # mean descriptor distance over the pairs with both faces
    share_same: float = float("nan")  # share of those pairs under DLIB_SAME_PERSON
    distances: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def summary(self) -> str:
        if self.pairs - self.no_face == 0:
            return f"n/a (no face in {self.no_face}/{self.pairs} pairs)"
        return (f"{self.distance:.3f} ({100 * self.share_same:.0f}% < {DLIB_SAME_PERSON}; "
                f"no face in {self.no_face}/{self.pairs} pairs)")


def identity_scores(inputs, outputs, descriptors: FaceDescriptors | None = None, progress: bool = False,
                    source=None) -> IdentityScores:
    """Distance between dlib descriptors of each input and its output, and the share under 0.6.

    Output k pairs with input k, or with input ``source[k]`` when ``source`` is given (each
    input's descriptor is then computed once).
    Pairs where dlib finds no face in either image are counted in ``no_face`` and left
    out of the mean — reported, not hidden (likely on synthetic faces).
    """
    descriptors = descriptors or FaceDescriptors()
    d_in, d_out = descriptors(inputs, progress), descriptors(outputs, progress)
    if source is not None:
        d_in = d_in[np.asarray(source)]
    if len(d_in) != len(d_out):
        raise ValueError(f"identity_scores: {len(d_in)} inputs but {len(d_out)} outputs")
    dist = np.linalg.norm(d_in - d_out, axis=1)
    ok = ~np.isnan(dist)
    scores = IdentityScores(pairs=len(dist), no_face=int((~ok).sum()), distances=dist[ok])
    if ok.any():
        scores.distance = float(dist[ok].mean())
        scores.share_same = float((dist[ok] < DLIB_SAME_PERSON).mean())
    return scores


# ------------------------------------------------------------- diagnostics of paired translations
#: Grey levels (of 0..255, largest over the colour channels) above which a pixel counts as
#: changed, in :func:`outside_change_share` (our choice).  8/255 (about 3 % of the range,
#: 0.063 on the [-1, 1] scale) lies well above the +-1 of uint8 rounding and the few levels
#: that antialiased resizing moves an edge pixel, yet a stripe or a repainted background of
#: 8 levels is plainly visible on a flat cheek.  Measured on the synthetic test split at
#: 64 px (160 faces, 1,120 changed-target pairs): the truth changes 7.2 % of the pixels by
#: more than 1 level, 6.1 % by more than 8 and 4.9 % by more than 16, so the choice moves the
#: "static" region by about a percent of the image.
OUTSIDE_CHANGE_THRESHOLD = 8


def _changed(a: np.ndarray, b: np.ndarray, threshold: float) -> np.ndarray:
    """(N,H,W) bool: pixels where uint8 images (N,H,W,3) differ by more than ``threshold`` in some channel."""
    return (np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > threshold)


def outside_change_mask(outputs, inputs, truths, threshold: float = OUTSIDE_CHANGE_THRESHOLD):
    """Per pixel, the changes outside the expression and where the truth stays put.

    Returns two bool arrays (N, H, W): ``outside`` — the truth does **not** change the pixel
    (``max_c |truth - input| <= threshold``) but the output does
    (``max_c |output - input| > threshold``) — and ``static`` — the pixels the truth does not
    change.  Images: anything :func:`psnr` accepts; ``threshold`` in grey levels of 0..255
    (:data:`OUTSIDE_CHANGE_THRESHOLD`).
    """
    o, x, t = _as_uint8_hwc(outputs), _as_uint8_hwc(inputs), _as_uint8_hwc(truths)
    if not o.shape == x.shape == t.shape:
        raise ValueError(f"outside_change_mask: shapes differ, outputs {o.shape}, inputs {x.shape}, truths {t.shape}")
    static = ~_changed(t, x, threshold)
    return static & _changed(o, x, threshold), static


def outside_change_share(outputs, inputs, truths, threshold: float = OUTSIDE_CHANGE_THRESHOLD,
                         chunk: int = 256) -> float:
    """Share of the pixels the truth leaves unchanged that the translation changes ("changes
    outside the expression"), pooled over all pairs: ``sum(outside) / sum(static)`` of
    :func:`outside_change_mask`.  0 for a copy of the input and for the truth itself; a
    generator that repaints the background, blurs or adds stripes scores above 0.  NaN when the
    truth changes every pixel."""
    o, x, t = _as_uint8_hwc(outputs), _as_uint8_hwc(inputs), _as_uint8_hwc(truths)
    outside = static = 0
    for i in range(0, len(o), chunk):
        a, s = outside_change_mask(o[i:i + chunk], x[i:i + chunk], t[i:i + chunk], threshold)
        outside, static = outside + int(a.sum()), static + int(s.sum())
    return outside / static if static else float("nan")


def laplacian_energy(images, chunk: int = 256) -> np.ndarray:
    """Mean |Laplacian| per image (N,), in grey levels: the 4-neighbour Laplacian
    ``x[i-1,j] + x[i+1,j] + x[i,j-1] + x[i,j+1] - 4 x[i,j]`` of each colour channel, on the
    interior pixels (no padding)."""
    a = _as_uint8_hwc(images)
    out = []
    for i in range(0, len(a), chunk):
        x = a[i:i + chunk].astype(np.float32)
        lap = x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:] - 4 * x[:, 1:-1, 1:-1]
        out.append(np.abs(lap).mean(axis=(1, 2, 3)))
    return np.concatenate(out).astype(np.float64)


def high_frequency_ratio(outputs, truths) -> float:
    """Mean |Laplacian| of the outputs over the mean |Laplacian| of their truths (the same pairs).

    1.0: as much fine detail as the truth; above 1: extra high-frequency energy (stripes,
    checkerboard, noise); below 1: blur.  The truth itself gives exactly 1.
    """
    o, t = _as_uint8_hwc(outputs), _as_uint8_hwc(truths)
    if o.shape != t.shape:
        raise ValueError(f"high_frequency_ratio: shapes differ, {o.shape} vs {t.shape}")
    den = laplacian_energy(t).mean()
    return float(laplacian_energy(o).mean() / den) if den > 0 else float("nan")


def confusion_matrix(targets, predicted, n_classes: int) -> np.ndarray:
    """Counts (n_classes, n_classes): row = target label, column = predicted label."""
    t, p = np.asarray(targets, np.int64).ravel(), np.asarray(predicted, np.int64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: {t.size} targets but {p.size} predictions")
    m = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(m, (t, p), 1)
    return m


# ------------------------------------------------------------- LPIPS (optional)
#: What the tables say where LPIPS cannot be computed.
LPIPS_NOTE = "n/a (no LPIPS weights)"


class LPIPSUnavailable(RuntimeError):
    """The ``lpips`` package or its weights are missing: LPIPS cannot be computed."""


class LPIPSDistance:
    """``LPIPSDistance(model)(outputs, truths) -> (N,)`` LPIPS of each pair (images as :func:`psnr`
    accepts them; fed to the network in [-1, 1], batches of ``batch_size``)."""

    def __init__(self, model, batch_size: int = 64):
        self.model, self.batch_size = model, batch_size

    @torch.no_grad()
    def __call__(self, outputs, truths) -> np.ndarray:
        o, t = _as_uint8_hwc(outputs), _as_uint8_hwc(truths)
        if o.shape != t.shape:
            raise ValueError(f"lpips: shapes differ, {o.shape} vs {t.shape}")
        from course_lib.images import unit_from_uint8

        as_float = lambda a: unit_from_uint8(torch.from_numpy(a).permute(0, 3, 1, 2))
        out = [self.model(as_float(o[i:i + self.batch_size]), as_float(t[i:i + self.batch_size])).reshape(-1)
               for i in range(0, len(o), self.batch_size)]
        return torch.cat(out).double().numpy()


def lpips_model(download: bool = False) -> LPIPSDistance:
    """LPIPS (AlexNet trunk, linear layers v0.1) when it can be computed, else :class:`LPIPSUnavailable`.

    Needs the ``lpips`` package (which ships its linear layers) and torchvision's ImageNet
    AlexNet weights in the torch hub cache; downloads them only when ``download=True``
    (e.g. on Colab).  Never runs with random weights.
    """
    if importlib.util.find_spec("lpips") is None:
        raise LPIPSUnavailable("LPIPS unavailable: the lpips package is not installed (pip install lpips)")
    from torchvision.models import AlexNet_Weights

    url = AlexNet_Weights.IMAGENET1K_V1.url
    cached = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    if not cached.is_file():
        if not download:
            raise LPIPSUnavailable(f"LPIPS unavailable: no AlexNet weights at {cached} (allow the download, "
                                   "e.g. `evaluate --download-lpips`)")
        try:
            torch.hub.load_state_dict_from_url(url, progress=True)
        except Exception as err:  # offline, blocked, ...
            raise LPIPSUnavailable(f"LPIPS unavailable: downloading the AlexNet weights failed "
                                   f"({type(err).__name__}: {err})") from err
    import lpips

    linear = Path(lpips.__file__).parent / "weights" / "v0.1" / "alex.pth"
    if not linear.is_file():
        raise LPIPSUnavailable(f"LPIPS unavailable: {linear} is missing from the lpips package")
    try:
        model = lpips.LPIPS(net="alex", version="0.1", pretrained=True, pnet_rand=False, verbose=False)
    except Exception as err:
        raise LPIPSUnavailable(f"LPIPS unavailable: building the network failed ({type(err).__name__}: {err})") from err
    return LPIPSDistance(model.eval().requires_grad_(False))
