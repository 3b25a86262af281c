"""Datasets of the course: the embedded synthetic faces, RaFD, and a folder-per-expression layout.

Every dataset yields the same dict (so one training loop serves all of them, and torch's
default collate batches it):

``{"image": float (3, H, W) in [-1, 1], "label": int (index into facs.EXPRESSIONS),
"landmarks": float (68, 2) pixel (x, y), NaN when unknown, "identity": str, "path": str}``
("path" is "" for faces rendered on the fly); the synthetic sets add ``"aus"`` (float over
:data:`course_lib.facs.AU_NUMBERS`).

Splits are *by identity/subject* (no person on both sides), 90/10 with a seeded shuffle.
LGP-GAN (Section IV.A) instead "randomly select[s] 90% facial images" of RaFD's frontal
camera; we split by subject (our choice) so the test set measures generalisation to unseen
people, and offer ``split_by="image"`` on :class:`RaFDFolder` to reproduce the paper.

Bad input is never skipped silently: an unknown expression, a file name that does not
parse, an unreadable/corrupt image or a non-RGB image raises an error naming the file
(``convert=True`` applies :func:`course_lib.images.load_rgb`'s documented conversions); a
folder without images raises an error naming the folder.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Sequence

import numpy as np

from course_lib import facs, render
from course_lib.images import list_images, load_rgb, save_rgb, to_tensor
from course_lib.lesson import repo_root

__all__ = ["split_identities", "SyntheticFaces", "SyntheticFolder", "RaFDFolder", "ExpressionFolder",
           "parse_rafd_name", "build_synthetic", "DEFAULT_SYNTHETIC", "synthetic_name", "MARKER", "METADATA",
           "decode", "prototype_aus", "resize_item"]

#: Where the course keeps the embedded dataset (git-ignored): ``data/synthetic`` in the checkout.
DEFAULT_SYNTHETIC = repo_root() / "data" / "synthetic"
#: Marker file that says "course_lib created this folder" (with the build parameters).
MARKER = ".course_synthetic.json"
#: Metadata written next to the images by :func:`build_synthetic`.
METADATA = "metadata.json"
TEST_FRACTION = 0.1


def split_identities(names: Sequence[str], split: str, seed: int = 0, test_fraction: float = TEST_FRACTION) -> list[str]:
    """The identities of ``split`` ("train", "test" or "all"): a seeded shuffle, the last
    ``test_fraction`` (at least one, when there are >= 2) go to test.  Our choice of rule."""
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    names = sorted(set(names))
    if split == "all":
        return names
    order = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    n_test = max(1, int(round(test_fraction * len(names)))) if len(names) >= 2 else 0
    test = set(order[len(order) - n_test:])
    return [n for n in names if (n in test) == (split == "test")]


def _nan_landmarks():
    import torch

    return torch.full((68, 2), float("nan"))


def _item(image: np.ndarray, label: int, landmarks, identity: str, path: str, aus=None) -> dict:
    import torch

    out = {"image": to_tensor(image), "label": int(label),
           "landmarks": torch.as_tensor(np.asarray(landmarks, np.float32)) if landmarks is not None else _nan_landmarks(),
           "identity": identity, "path": path}
    if aus is not None:
        out["aus"] = torch.as_tensor(np.asarray(aus, np.float32))
    return out


def synthetic_name(identity: str, expression: str) -> str:
    """RaFD-style file name of a synthetic face: ``Synth090_<id>_<expression>_frontal.png``."""
    return f"Synth090_{identity}_{expression}_frontal.png"


class _SyntheticBase:
    """Shared by the synthetic sets: labels without loading images, and :meth:`find`."""

    records: list[tuple[str, int]]        # (identity, label) per index

    def __len__(self):
        return len(self.records)

    @property
    def labels(self) -> np.ndarray:
        """All labels (int array), without rendering or loading an image."""
        return np.array([r[1] for r in self.records], np.int64)

    @property
    def identities(self) -> list[str]:
        return sorted({r[0] for r in self.records})

    def find(self, identity: str, expression: str | int) -> int:
        """Index of ``identity`` showing ``expression`` (a name or label index): the paired
        ground truth the evaluation lessons compare a synthesised face with."""
        label = expression if isinstance(expression, (int, np.integer)) else facs.expression_index(expression)
        try:
            return self._index[(str(identity), int(label))]
        except KeyError:
            raise KeyError(f"no image of identity {identity!r} with expression {facs.expression_name(int(label))!r} "
                           f"in this split ({len(self.identities)} identities)") from None


class SyntheticFaces(_SyntheticBase):
    """The embedded dataset rendered on the fly: ``identities`` people x the 8 expressions.

    Identity ``k`` (named ``"%03d" % k``) is ``render.sample_identity(default_rng([seed, k]))``;
    the per-image AU jitter uses ``default_rng([seed, k, label])``, so an item is the same
    whatever order it is asked in.  ``split``: "train"/"test" (90/10 by identity) or "all".
    ``jitter=False`` renders the exact prototypes.
    """

    def __init__(self, identities: int = 200, size: int = 128, seed: int = 0, split: str = "train",
                 expressions: Sequence[str] = facs.EXPRESSIONS, jitter: bool = True, intensity: float = 1.0):
        if not isinstance(identities, (int, np.integer)) or identities < 1:
            raise ValueError(f"identities must be a positive integer, got {identities!r}")
        self.size, self.seed, self.split, self.jitter, self.intensity = int(size), int(seed), split, jitter, intensity
        self.width = max(3, len(str(identities - 1)))
        names = [f"{k:0{self.width}d}" for k in range(identities)]
        self.expressions = [facs.expression_name(facs.expression_index(e)) for e in expressions]
        keep = split_identities(names, split, seed)
        self.records = [(n, facs.expression_index(e)) for n in keep for e in self.expressions]
        self._index = {r: i for i, r in enumerate(self.records)}
        self._ids: dict[str, render.Identity] = {}

    def identity(self, name: str) -> render.Identity:
        """The :class:`render.Identity` of identity ``name``."""
        if name not in self._ids:
            self._ids[name] = render.sample_identity(np.random.default_rng([self.seed, int(name)]))
        return self._ids[name]

    def aus(self, index: int) -> np.ndarray:
        """Per-side AU intensities (2, N_AU) of item ``index``."""
        name, label = self.records[index]
        rng = np.random.default_rng([self.seed, int(name), label]) if self.jitter else None
        return render.expression_aus(facs.EXPRESSIONS[label], self.intensity, rng)

    def render_item(self, index: int):
        """(image uint8, landmarks, au_vector) of item ``index``."""
        name, _ = self.records[index]
        imgs, lms, av = render.render_batch([self.identity(name)], self.aus(index)[None], self.size)
        return imgs[0], lms[0], av[0]

    def __getitem__(self, index: int) -> dict:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        index %= len(self)
        img, lm, av = self.render_item(index)
        name, label = self.records[index]
        return _item(img, label, lm, name, "", av)


class SyntheticFolder(_SyntheticBase):
    """What ``python -m course_lib data build-synthetic`` wrote (images + ``metadata.json``).

    ``split``: "train", "test" (the split stored in the metadata) or "all".
    """

    def __init__(self, root: str | os.PathLike = DEFAULT_SYNTHETIC, split: str = "train", convert: bool = False):
        self.root, self.convert = Path(root), convert
        meta_path = self.root / METADATA
        if not meta_path.is_file():
            raise FileNotFoundError(f"{meta_path}: no metadata; build the dataset first with "
                                    f"`python -m course_lib data build-synthetic --out {self.root}`")
        try:
            meta = json.loads(meta_path.read_text())
            recs = meta["records"]
        except (ValueError, KeyError) as err:
            raise ValueError(f"{meta_path}: not a synthetic-dataset metadata file ({err})") from err
        if split not in ("train", "test", "all"):
            raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
        self.meta = {k: v for k, v in meta.items() if k != "records"}
        self.items = [r for r in recs if split == "all" or r["split"] == split]
        self.records = [(r["identity"], facs.expression_index(r["expression"])) for r in self.items]
        self._index = {r: i for i, r in enumerate(self.records)}

    def __getitem__(self, index: int) -> dict:
        r = self.items[index]
        path = self.root / r["file"]
        img = load_rgb(path, convert=self.convert)
        return _item(img, facs.expression_index(r["expression"]), r["landmarks"], r["identity"], str(path),
                     [r["aus"][str(a)] for a in facs.AU_NUMBERS])


def _render_identity(args):
    """(imgs, landmarks, au vectors, per-side AUs, labels) of one identity's 8 images (worker-safe)."""
    identities, size, seed, name = args
    ds = SyntheticFaces(identities, size, seed, split="all")
    idx = list(range(ds.find(name, 0), ds.find(name, 0) + len(facs.EXPRESSIONS)))
    A = np.stack([ds.aus(i) for i in idx])
    imgs, lms, av = render.render_batch([ds.identity(name)] * len(idx), A, size)
    return imgs, lms, av, A, [ds.records[i][1] for i in idx]


def build_synthetic(out: str | os.PathLike = DEFAULT_SYNTHETIC, identities: int = 200, size: int = 128,
                    seed: int = 0, force: bool = False, progress: bool = True, workers: int = 1) -> Path:
    """Render the embedded dataset to ``out``: ``Synth090_<id>_<expression>_frontal.png`` files and
    ``metadata.json`` (build parameters, then one record per image: file, identity, expression,
    split, AU intensities per side and mean, landmarks).

    Idempotent: a folder this function built with the same parameters is left as is.  It
    refuses (``FileExistsError``) a non-empty folder it did not create, unless ``force``; in a
    folder it created with other parameters it deletes its own old images first.
    ``workers`` > 1 renders in that many processes (the files are identical).  Returns ``out``.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    params = {"identities": int(identities), "size": int(size), "seed": int(seed), "format": 1}
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: exists and is not a folder")
    marker = out / MARKER
    if out.is_dir() and any(out.iterdir()):
        if marker.is_file():
            old = json.loads(marker.read_text())
            if old == params and (out / METADATA).is_file():
                meta = json.loads((out / METADATA).read_text())
                if all((out / r["file"]).is_file() for r in meta["records"]):
                    if progress:
                        print(f"{out}: already built with {params}; nothing to do")
                    return out
            for p in out.glob("Synth*_*.png"):      # our own files from another build
                p.unlink()
            (out / METADATA).unlink(missing_ok=True)
        elif not force:
            raise FileExistsError(f"{out}: folder is not empty and was not created by build_synthetic "
                                  f"(no {MARKER}); choose an empty folder or pass force=True (--force)")
    out.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(params))
    ds = SyntheticFaces(identities, size, seed, split="all")
    test = set(split_identities(ds.identities, "test", seed))
    records = []
    names = ds.identities
    jobs = [(int(identities), int(size), int(seed), n) for n in names]
    pool = None
    if workers > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers)
    results = pool.map(_render_identity, jobs, chunksize=4) if pool else map(_render_identity, jobs)
    try:
        for name, (imgs, lms, av, A, labels) in tqdm(zip(names, results), total=len(names),
                                                     desc=f"rendering {len(names)} identities", disable=not progress):
            _write_identity(out, name, name in test, imgs, lms, av, A, labels, records)
    finally:
        if pool:
            pool.shutdown()
    meta = dict(params, au_numbers=list(facs.AU_NUMBERS), expressions=list(facs.EXPRESSIONS),
                identity_params={n: ds.identity(n).to_dict() for n in names}, records=records)
    from course_lib.checkpoint import atomic_write_bytes

    atomic_write_bytes(out / METADATA, json.dumps(meta).encode())
    return out


def _write_identity(out, name, is_test, imgs, lms, av, A, labels, records):
    """Save one identity's images and append their metadata records."""
    for label, img, lm, a, sides in zip(labels, imgs, lms, av, A):
        expr = facs.EXPRESSIONS[label]
        fname = synthetic_name(name, expr)
        save_rgb(img, out / fname)
        records.append({"file": fname, "identity": name, "expression": expr,
                        "split": "test" if is_test else "train",
                        "aus": {str(k): round(float(v), 6) for k, v in zip(facs.AU_NUMBERS, a)},
                        "aus_left": [round(float(v), 6) for v in sides[0]],
                        "aus_right": [round(float(v), 6) for v in sides[1]],
                        "landmarks": np.round(lm.astype(np.float64), 3).tolist()})


# --------------------------------------------------------------------------- real data
_RAFD = re.compile(r"^Rafd(?P<camera>\d{3})_(?P<subject>\d+)_(?P<ethnicity>[A-Za-z]+)_(?P<gender>[A-Za-z]+)_"
                   r"(?P<expression>[A-Za-z]+)_(?P<gaze>[A-Za-z]+)$")


def parse_rafd_name(path: str | os.PathLike) -> dict:
    """Fields of a RaFD file name, e.g. ``Rafd090_01_Caucasian_female_angry_frontal.jpg`` ->
    ``{"camera": 90, "subject": "01", "ethnicity": "Caucasian", "gender": "female",
    "expression": "angry", "label": 0, "gaze": "frontal"}``.  A name that does not parse or an
    unknown expression raises ``ValueError`` naming the file."""
    stem = Path(path).stem
    m = _RAFD.match(stem)
    if not m:
        raise ValueError(f"{path}: not a RaFD file name; expected "
                         "Rafd<camera>_<subject>_<ethnicity>_<gender>_<expression>_<gaze>.<ext>, "
                         "e.g. Rafd090_01_Caucasian_female_angry_frontal.jpg")
    d = m.groupdict()
    try:
        label = facs.expression_index(d["expression"])
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    return dict(d, camera=int(d["camera"]), expression=facs.EXPRESSIONS[label], label=label)


def read_landmarks(image_path: Path):
    """The (68, 2) landmarks stored next to an image as ``<stem>.npz`` (``python -m course_lib
    preprocess`` output), or None when there is none."""
    npz = Path(image_path).with_suffix(".npz")
    if not npz.is_file():
        return None
    with np.load(npz) as z:
        if "landmarks" not in z or z["landmarks"].shape != (68, 2):
            raise ValueError(f"{npz}: expected a 'landmarks' array of shape (68, 2)")
        return z["landmarks"].astype(np.float32)


def _scaled_landmarks(lm, shape, size):
    """Landmarks of an (H, W) image -> the frame of :func:`_square` (centre crop + resize to ``size``)."""
    if lm is None:
        return None
    h, w = shape[:2]
    s = min(h, w)
    lm = lm - np.array([(w - s) // 2, (h - s) // 2], np.float32)
    return lm * (size / s) if size is not None else lm


def _square(img: np.ndarray, size: int | None) -> np.ndarray:
    """Centre-crop to a square and resize to ``size`` (area/Lanczos), our choice of preprocessing."""
    if size is None:
        return img
    from PIL import Image

    h, w = img.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    return np.array(Image.fromarray(img[y0:y0 + s, x0:x0 + s]).resize((size, size), Image.LANCZOS))


class RaFDFolder:
    """The Radboud Faces Database laid out as distributed (one folder of ``Rafd...jpg`` files).

    Keeps ``cameras`` (default: the 90 degree frontal camera only, as LGP-GAN Section IV.A
    does), all three gazes, and splits 90/10 by subject (``split_by="subject"``, our choice)
    or by image (``split_by="image"``: the paper's random 90 % of images).  Images are
    centre-cropped to a square and resized to ``size`` (``None`` keeps them as they are);
    landmarks come from a ``<stem>.npz`` next to an image (``python -m course_lib preprocess``
    writes one per aligned crop), else NaN.
    """

    def __init__(self, root: str | os.PathLike, split: str = "train", size: int | None = 128,
                 cameras: Sequence[int] = (90,), split_by: str = "subject", seed: int = 0, convert: bool = False):
        self.root, self.size, self.convert = Path(root), size, convert
        if split_by not in ("subject", "image"):
            raise ValueError(f"split_by must be 'subject' or 'image', got {split_by!r}")
        files = [p for p in list_images(self.root)]
        parsed = [(p, parse_rafd_name(p)) for p in files]
        parsed = [(p, d) for p, d in parsed if d["camera"] in tuple(cameras)]
        if not parsed:
            raise FileNotFoundError(f"{self.root}: no RaFD image from camera(s) {tuple(cameras)} "
                                    f"among {len(files)} images")
        if split_by == "subject":
            keep = set(split_identities([d["subject"] for _, d in parsed], split, seed))
            self.items = [(p, d) for p, d in parsed if d["subject"] in keep]
        else:
            keep = set(split_identities([p.name for p, _ in parsed], split, seed))
            self.items = [(p, d) for p, d in parsed if p.name in keep]

    def __len__(self):
        return len(self.items)

    @property
    def labels(self) -> np.ndarray:
        return np.array([d["label"] for _, d in self.items], np.int64)

    def __getitem__(self, index: int) -> dict:
        p, d = self.items[index]
        img = load_rgb(p, convert=self.convert)
        lm = _scaled_landmarks(read_landmarks(p), img.shape, self.size)
        return _item(_square(img, self.size), d["label"], lm, d["subject"], str(p))


def folder_identity(path: str | os.PathLike) -> str:
    """The identity of an image of an :class:`ExpressionFolder` (our rule): its file stem up to the
    first ``_`` - ``anna.png``, ``anna_2.png`` and ``happy/anna_smile.jpg`` are all ``anna``."""
    return Path(path).stem.split("_")[0]


SPLIT_CSV = "split.csv"


def read_split_csv(path: Path) -> dict[str, str]:
    """``split.csv`` (columns ``identity,split``, split ``train`` or ``test``) -> {identity: split}."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"identity", "split"} <= set(rows[0]):
        raise ValueError(f"{path}: expected a CSV with columns identity,split (split: train or test)")
    out = {}
    for i, r in enumerate(rows, start=2):
        if r["split"] not in ("train", "test"):
            raise ValueError(f"{path}, line {i}: split {r['split']!r}: expected train or test")
        out[r["identity"]] = r["split"]
    return out


class ExpressionFolder:
    """A generic layout: ``root/<expression>/*.png`` with one sub-folder per expression
    (names or aliases :func:`facs.expression_index` accepts, e.g. ``happy`` or ``happiness``).

    An unknown sub-folder name, a sub-folder without images, or a root without
    sub-folders raises an error naming the folder.

    ``identity``: :func:`folder_identity` (the file stem up to the first ``_``).  ``split``
    ("train", "test" or "all") is by identity: ``root/split.csv`` (columns ``identity,split``)
    when present (every identity must be listed), else :func:`split_identities` (a seeded 90/10).
    Landmarks: a ``<stem>.npz`` next to an image with a ``landmarks`` (68, 2) array in that
    image's pixels (what ``python -m course_lib preprocess`` writes) is read; else NaN.
    """

    def __init__(self, root: str | os.PathLike, size: int | None = 128, convert: bool = False,
                 split: str = "all", seed: int = 0):
        self.root, self.size, self.convert = Path(root), size, convert
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root}: no such folder")
        subs = sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not subs:
            raise FileNotFoundError(f"{self.root}: no expression sub-folders found; expected "
                                    f"root/<expression>/<images> with expressions among {', '.join(facs.EXPRESSIONS)}")
        self.items = []
        for sub in subs:
            try:
                label = facs.expression_index(sub.name)
            except ValueError as err:
                raise ValueError(f"{sub}: folder name is not an expression: {err}") from None
            # a sub-folder written by `python -m course_lib preprocess --out root/<expression>` holds aligned/
            images = sub / "aligned" if (sub / "aligned").is_dir() else sub
            self.items += [(p, label) for p in list_images(images)]
        ids = [folder_identity(p) for p, _ in self.items]
        if split not in ("train", "test", "all"):
            raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
        if (self.root / SPLIT_CSV).is_file():
            table = read_split_csv(self.root / SPLIT_CSV)
            missing = sorted(set(ids) - set(table))
            if missing:
                raise ValueError(f"{self.root / SPLIT_CSV}: identities {missing[:5]} are not listed "
                                 "(each identity needs a row identity,split)")
            keep = {i for i in ids if split == "all" or table[i] == split}
        else:
            keep = set(split_identities(ids, split, seed))
        self.items = [(p, label) for (p, label), i in zip(self.items, ids) if i in keep]

    def __len__(self):
        return len(self.items)

    @property
    def labels(self) -> np.ndarray:
        return np.array([label for _, label in self.items], np.int64)

    def __getitem__(self, index: int) -> dict:
        p, label = self.items[index]
        img = load_rgb(p, convert=self.convert)
        lm = _scaled_landmarks(read_landmarks(p), img.shape, self.size)
        return _item(_square(img, self.size), label, lm, folder_identity(p), str(p))


# ----------------------------------------------------------------------------- one decode
def prototype_aus(labels):
    """Expression labels (B,) -> AU vectors (B, len(facs.AU_NUMBERS)) in [0, 1]: the condition of an
    AU-conditioned method when a target (or an image without AU annotations) has a label only.
    Our choice: the synthetic renderer's prototype of the class (:func:`course_lib.render.expression_aus`,
    averaged over the two face sides as the synthetic sets' ``aus`` are)."""
    import torch

    table = torch.from_numpy(np.stack([render.expression_aus(e).mean(0) for e in facs.EXPRESSIONS])).float()
    labels = torch.as_tensor(labels)
    return table.to(labels.device)[labels.long()]


def resize_item(image, landmarks, size: int):
    """Resize a (3,H,W) image to size x size (antialiased) and scale its (68,2) landmarks alike."""
    import torch
    import torch.nn.functional as F

    h, w = image.shape[-2:]
    lm = _nan_landmarks() if landmarks is None else torch.as_tensor(landmarks, dtype=torch.float32).clone()
    if (h, w) != (size, size):
        image = F.interpolate(image[None].float(), size=(size, size), mode="bilinear", antialias=True,
                              align_corners=False)[0].clamp(-1, 1)
        lm = lm * torch.tensor([size / w, size / h])
    return image, lm


def decode(dataset, image_size: int, limit: int = 0, desc: str = "loading images", progress: bool = True,
           names: bool = False):
    """The one decode of a course dataset into tensors, used by training, evaluation and the lessons:
    ``{"image": uint8 (N,3,S,S), "label": long (N,), "landmarks": float (N,68,2) rescaled to S (NaN
    where unknown), "aus": float (N, len(AU_NUMBERS)) (:func:`prototype_aus` of the label where the
    dataset has none), "aus_known": bool (N,), "identity": long (N,) (index into the sorted
    identities of these items)}``; with ``names=True`` also the identity name of each item:
    ``(tensors, [name, ...])``.  ``limit`` > 0 keeps the first ``limit`` items; images are resized
    with antialiasing and their landmarks scaled alike."""
    import torch
    from tqdm.auto import tqdm

    from course_lib.images import uint8_from_unit
    from course_lib.lesson import torch_threads

    n = len(dataset) if not limit else min(limit, len(dataset))
    if n == 0:
        raise ValueError(f"{type(dataset).__name__}: the dataset is empty")
    images, labels, lms, aus, known, ids = [], [], [], [], [], []
    # one small image at a time: one thread (2.5x faster on a busy 2-core machine; same pixels)
    with torch_threads(1):
        for i in tqdm(range(n), desc=desc, leave=False, mininterval=1.0, disable=not progress):
            item = dataset[i]
            img, lm = resize_item(item["image"], item.get("landmarks"), image_size)
            images.append(uint8_from_unit(img))
            labels.append(int(item["label"]))
            lms.append(lm)
            a = item.get("aus")
            aus.append(torch.as_tensor(a, dtype=torch.float32) if a is not None else prototype_aus(torch.tensor([item["label"]]))[0])
            known.append(a is not None)
            ids.append(str(item.get("identity", i)))
    index = {name: k for k, name in enumerate(sorted(set(ids)))}
    tensors = {"image": torch.stack(images), "label": torch.tensor(labels, dtype=torch.long),
               "landmarks": torch.stack(lms), "aus": torch.stack(aus), "aus_known": torch.tensor(known),
               "identity": torch.tensor([index[s] for s in ids], dtype=torch.long)}
    return (tensors, ids) if names else tensors
