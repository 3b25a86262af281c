"""A small CNN expression classifier: the judge of Cascade EF-GAN's R / G / R+G protocol
(its Table 1) and, through its penultimate layer, the in-domain feature extractor of
``metrics`` (the offline stand-in for Inception features).

The papers do not describe their classifiers (Cascade EF-GAN Sec. 4.3 only says "train an
expression classifier by using the original training images"), so the architecture is
our choice, written like StarGAN's discriminator: stride-2 4x4 convolutions that halve
the image down to 4x4, each followed by BatchNorm and LeakyReLU(0.01), then (like
StarGAN's classification output, a convolution over the whole final map) one fully
connected layer from the flattened 4x4 map to ``feature_dim`` features — the **penultimate
layer**, taken before its ReLU so that no unit is constantly zero (a singular feature
covariance makes FID's matrix square root ill-conditioned) — then ReLU and a linear head
to the ``n_classes`` logits.  On the synthetic set, where AU intensities are known, an
optional second head (ReLU + linear) regresses them (``n_aus``), which gives the AU error
of generated images (``evaluate``).

    clf = ExpressionClassifier(image_size=64)
    train_classifier(clf, images, labels, epochs=30, shift=4)   # images (N,3,H,W), [-1,1] or uint8
    accuracy(clf, test_images, test_labels)
    save_classifier(clf, "runs/main/eval/classifier.pt"); clf = load_classifier(...)

A **judge file** (:func:`save_judge` / :func:`load_judge`, format :data:`JUDGE_FORMAT`) is a
classifier made to be shipped: a name and version, its training recipe, the data it was
trained on, its measured accuracy, the torch version and the command that made it, and its
weights stored in half precision (a file of about 1 MB) with their sha256, checked on every
load.  ``course_lib.judge`` trains and finds them; ``data/judges/`` holds the shipped ones.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib import facs
from course_lib.images import unit_from_uint8

FORMAT = "course-expression-classifier/1"
#: Format of a versioned judge file (:func:`save_judge`).
JUDGE_FORMAT = "course-expression-judge/1"
#: What a judge file records besides its weights (:func:`save_judge`).
JUDGE_FIELDS = ("name", "version", "recipe", "data", "metrics", "torch", "command")


class ExpressionClassifier(nn.Module):
    """Expression classifier; ``features(x)`` is the penultimate layer (our choice, see module doc).

    ``x``: images (B, 3, image_size, image_size) in [-1, 1]; other sizes are resized
    bilinearly first.  ``forward`` returns the logits (B, n_classes); ``au_head`` (when
    ``n_aus > 0``) maps the features to AU intensities.
    """

    def __init__(self, n_classes: int = len(facs.EXPRESSIONS), image_size: int = 64, conv_dim: int = 16,
                 max_dim: int = 128, feature_dim: int = 64, n_aus: int = 0):
        super().__init__()
        if image_size < 8 or image_size & (image_size - 1):
            raise ValueError(f"image_size={image_size}: expected a power of two >= 8")
        self.hparams = dict(n_classes=n_classes, image_size=image_size, conv_dim=conv_dim, max_dim=max_dim,
                            feature_dim=feature_dim, n_aus=n_aus)
        layers, c_in = [], 3
        for i in range(int(math.log2(image_size)) - 2):          # image_size -> 4
            c_out = min(conv_dim * 2 ** i, max_dim)
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.01)]
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * 16, feature_dim))
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(feature_dim, n_classes))
        self.au_head = nn.Sequential(nn.ReLU(), nn.Linear(feature_dim, n_aus)) if n_aus else None

    @property
    def image_size(self) -> int:
        return self.hparams["image_size"]

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        s = self.image_size
        return x if x.shape[-2:] == (s, s) else F.interpolate(x, size=(s, s), mode="bilinear",
                                                               align_corners=False, antialias=True)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features (B, feature_dim): the in-domain FID features."""
        return self.body(self._resize(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def predict_aus(self, x: torch.Tensor) -> torch.Tensor:
        """AU intensities (B, n_aus) from the AU head; an error when the classifier has none."""
        if self.au_head is None:
            raise ValueError("this classifier was built with n_aus=0: it has no AU head")
        return self.au_head(self.features(x))


def as_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 images (B,3,H,W) -> float in [-1, 1]; float images pass through."""
    return unit_from_uint8(x) if x.dtype == torch.uint8 else x.float()


def _batches(n: int, batch_size: int, generator: torch.Generator | None = None):
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    for i in range(0, n, batch_size):
        yield order[i:i + batch_size]


def train_classifier(model: ExpressionClassifier, images: torch.Tensor, labels: torch.Tensor,
                     aus: torch.Tensor | None = None, epochs: int = 10, batch_size: int = 32,
                     lr: float = 3e-4, au_weight: float = 1.0, flip: bool = True, shift: int = 0, seed: int = 0,
                     progress: bool = True, desc: str = "classifier") -> ExpressionClassifier:
    """Train ``model`` from scratch on images (N,3,H,W) (float in [-1,1] or uint8) and int labels (N,);
    returns it in eval mode.

    Our choices (the papers give none): Adam(lr, betas 0.9/0.999; 1e-3 let the units of the
    synthetic-face classifier die, 3e-4 trains), cross-entropy, plus
    ``au_weight`` x MSE on the AU head when ``aus`` (N, n_aus) is given (rows holding NaN are
    images whose AUs are unknown, e.g. the generated images of R+G: left out of that term), random
    horizontal flips (an expression keeps its class when mirrored; contempt stays
    unilateral) and, with ``shift`` > 0, random translations by up to ``shift`` pixels
    (edges replicated).  Deterministic on CPU for a seed: initialisation, shuffling and
    augmentation come from ``seed``; the global torch RNG is left as it was.
    """
    from tqdm.auto import tqdm

    images, labels = torch.as_tensor(images), torch.as_tensor(labels).long()
    if images.ndim != 4 or images.shape[1] != 3 or len(images) != len(labels):
        raise ValueError(f"train_classifier: expected images (N,3,H,W) and labels (N,), got "
                         f"{tuple(images.shape)} and {tuple(labels.shape)}")
    if len(labels) and (labels.min() < 0 or labels.max() >= model.hparams["n_classes"]):
        raise ValueError(f"train_classifier: labels must lie in 0..{model.hparams['n_classes'] - 1}")
    use_aus = aus is not None and model.au_head is not None
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in model.modules():                    # re-initialise: same seed, same classifier
            if hasattr(m, "reset_parameters") and m is not model:
                m.reset_parameters()
        g = torch.Generator().manual_seed(seed)
        device = next(model.parameters()).device
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=False)
        for _ in bar:
            for idx in _batches(len(images), batch_size, g):
                x, y = as_float(images[idx]).to(device), labels[idx].to(device)
                if flip:
                    mirror = torch.rand(len(idx), generator=g) < 0.5
                    x = torch.where(mirror.to(device)[:, None, None, None], x.flip(-1), x)
                if shift:
                    x = _translate(x, torch.randint(-shift, shift + 1, (len(idx), 2), generator=g), shift)
                feats = model.features(x)
                loss = F.cross_entropy(model.head(feats), y)
                if use_aus:
                    a = aus[idx].to(device).float()
                    known = ~torch.isnan(a).any(1)
                    if bool(known.all()):
                        loss = loss + au_weight * F.mse_loss(model.au_head(feats), a)
                    elif bool(known.any()):
                        loss = loss + au_weight * F.mse_loss(model.au_head(feats[known]), a[known])
                opt.zero_grad()
                loss.backward()
                opt.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    return model.eval()


def _translate(x: torch.Tensor, offsets: torch.Tensor, pad: int) -> torch.Tensor:
    """Shift each image (B,3,H,W) by its (dy, dx) in ``offsets`` (|d| <= pad), replicating the edges."""
    h, w = x.shape[-2:]
    padded = F.pad(x, (pad, pad, pad, pad), mode="replicate")
    return torch.stack([p[:, pad + dy:pad + dy + h, pad + dx:pad + dx + w] for p, (dy, dx) in zip(padded, offsets.tolist())])


@torch.no_grad()
def predict(model: ExpressionClassifier, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Predicted labels (N,) of images (N,3,H,W) (float in [-1,1] or uint8; eval mode)."""
    model.eval()
    device = next(model.parameters()).device
    out = [model(as_float(images[i:i + batch_size]).to(device)).argmax(1).cpu()
           for i in range(0, len(images), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


def accuracy(model: ExpressionClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Share (0..1) of ``images`` whose predicted label equals ``labels``."""
    labels = torch.as_tensor(labels).long()
    if len(labels) == 0:
        raise ValueError("accuracy of an empty set")
    return float((predict(model, images) == labels).float().mean())


@torch.no_grad()
def predict_aus(model: ExpressionClassifier, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """AU intensities (N, n_aus) predicted by the AU head (float in [-1,1] or uint8 images)."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.predict_aus(as_float(images[i:i + batch_size]).to(device)).cpu()
                      for i in range(0, len(images), batch_size)])


@torch.no_grad()
def extract_features(model: ExpressionClassifier, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """Penultimate features (N, feature_dim) of images (N,3,H,W) (float in [-1,1] or uint8; eval mode)."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.features(as_float(images[i:i + batch_size]).to(device)).cpu()
                      for i in range(0, len(images), batch_size)])


def save_classifier(model: ExpressionClassifier, path: str | os.PathLike, **meta) -> Path:
    """Write the classifier (hyper-parameters, weights, ``meta``) atomically to ``path``."""
    from course_lib import checkpoint

    return checkpoint.save({"format": FORMAT, "hparams": model.hparams,
                            "state_dict": {k: v.cpu() for k, v in model.state_dict().items()}, "meta": meta}, path)


def _read(path: Path, what: str):
    """The object stored at ``path`` (:func:`course_lib.checkpoint.load`); errors name the file."""
    from course_lib import checkpoint

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such {what}")
    try:
        return checkpoint.load(path)
    except checkpoint.CheckpointError as err:
        raise ValueError(f"{path}: cannot read the {what} ({err})") from err


def load_classifier(path: str | os.PathLike, device="cpu") -> ExpressionClassifier:
    """Load what :func:`save_classifier` wrote (eval mode); ``.meta`` holds its metadata.
    A judge file (:func:`save_judge`) is loaded, and checked, by :func:`load_judge`."""
    path = Path(path)
    blob = _read(path, "classifier file")
    if isinstance(blob, dict) and str(blob.get("format", "")).startswith("course-expression-judge/"):
        return _judge_from_blob(blob, path, device)
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise ValueError(f"{path}: not an expression classifier written by course_lib.classifier "
                         f"(expected format {FORMAT!r})")
    model = ExpressionClassifier(**blob["hparams"])
    model.load_state_dict(blob["state_dict"])
    model.meta = blob.get("meta", {})
    return model.to(device).eval()


# ----------------------------------------------------------------------------- judge files
def weights_sha256(state_dict: dict) -> str:
    """sha256 of a state_dict: every tensor's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for k in sorted(state_dict):
        v = torch.as_tensor(state_dict[k]).detach().cpu().contiguous()
        h.update(f"{k}:{v.dtype}:{tuple(v.shape)}\n".encode())
        h.update(v.numpy().tobytes())
    return h.hexdigest()


def half_precision(model: ExpressionClassifier) -> ExpressionClassifier:
    """Round ``model``'s floating-point weights and buffers to float16 precision, in place (they stay
    float32 tensors): what a judge file stores.  Measure a judge after this, not before."""
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            if t.is_floating_point():
                t.copy_(t.half().float())
    return model


def save_judge(model: ExpressionClassifier, path: str | os.PathLike, *, name: str, version: int, recipe: dict,
               data: dict, metrics: dict, command: str) -> Path:
    """Write ``model`` as a versioned judge file (format :data:`JUDGE_FORMAT`) atomically to ``path``
    and its description (everything but the weights) to ``path`` with suffix ``.json``.

    The weights are stored in float16 with their sha256 (:func:`weights_sha256`); ``model`` must
    already be rounded (:func:`half_precision`) so that the ``metrics`` measured on it are those of
    the file.  ``recipe``: how it was trained; ``data``: what on; ``metrics``: its measured
    accuracy; ``command``: the command that rebuilds it.
    """
    from course_lib import checkpoint

    state = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu()
        if v.is_floating_point():
            if not torch.equal(v.half().float(), v.float()):
                raise ValueError(f"save_judge: {k} is not rounded to float16; call half_precision(model) and "
                                 "measure it before saving")
            v = v.half()
        state[k] = v
    info = {"format": JUDGE_FORMAT, "name": str(name), "version": int(version), "hparams": dict(model.hparams),
            "recipe": dict(recipe), "data": dict(data), "metrics": dict(metrics), "torch": str(torch.__version__),
            "command": str(command), "weights_sha256": weights_sha256(state)}
    path = Path(path)
    checkpoint.save(dict(info, state_dict=state), path)
    checkpoint.atomic_write_bytes(path.with_suffix(".json"), (json.dumps(info, indent=1) + "\n").encode())
    return path


def load_judge(path: str | os.PathLike, device="cpu") -> ExpressionClassifier:
    """Load a judge file written by :func:`save_judge`, checking its format and the sha256 of its
    weights; ``.meta`` holds its name, version, recipe, data, metrics, torch version, command,
    ``weights_sha256`` and ``path``.  A missing, unreadable, foreign or corrupted file raises an
    error naming it (``FileNotFoundError`` / ``ValueError``)."""
    path = Path(path)
    blob = _read(path, "judge file")
    fmt = blob.get("format") if isinstance(blob, dict) else None
    if fmt == FORMAT:
        raise ValueError(f"{path}: a classifier trained for one run (format {FORMAT!r}), not a versioned judge "
                         f"file (format {JUDGE_FORMAT!r})")
    return _judge_from_blob(blob, path, device)


def _judge_from_blob(blob, path: Path, device) -> ExpressionClassifier:
    fmt = blob.get("format") if isinstance(blob, dict) else None
    if isinstance(fmt, str) and fmt.startswith("course-expression-judge/") and fmt != JUDGE_FORMAT:
        raise ValueError(f"{path}: judge format {fmt!r} is not the one this course_lib reads ({JUDGE_FORMAT!r}); "
                         "update the course")
    if fmt != JUDGE_FORMAT:
        raise ValueError(f"{path}: not a judge file written by course_lib.classifier.save_judge "
                         f"(expected format {JUDGE_FORMAT!r})")
    missing = [k for k in ("hparams", "state_dict", "weights_sha256", *JUDGE_FIELDS) if k not in blob]
    if missing:
        raise ValueError(f"{path}: judge file without {', '.join(missing)} (damaged or written by hand)")
    if weights_sha256(blob["state_dict"]) != blob["weights_sha256"]:
        raise ValueError(f"{path}: its weights do not match the sha256 recorded in it (the file is corrupted or "
                         f"was edited); restore it (git checkout -- {path}) or rebuild it with: {blob['command']}")
    try:
        model = ExpressionClassifier(**blob["hparams"])
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()})
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{path}: its weights do not fit its hyper-parameters ({str(err).splitlines()[0]})") from err
    model.meta = {k: blob[k] for k in (*JUDGE_FIELDS, "weights_sha256")}
    model.meta.update(format=JUDGE_FORMAT, path=str(path))
    return model.to(device).eval()
