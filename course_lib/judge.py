"""The judge: one expression classifier, trained by one recipe, behind accuracy R, G and R+G
(Cascade EF-GAN Table 1), the AU error and the in-domain FID of :mod:`course_lib.evaluate`.

A judge trained anew for every evaluation is a different feature space every time: the
in-domain FID of one model moved from 106 to 300 between two machines (issue 15).  So the
course ships **fixed, versioned judges** in ``data/judges/``, trained once by

    python -m course_lib judge train --size 64

on the training split of the embedded synthetic set (``data/synthetic``), and the
evaluation uses the shipped judge whenever a run's data is that set at the judge's size
(:func:`shipped_judge`: same build parameters, same train/test items, checked by a sha256
recorded in the file).  On other data, or other sizes, it trains one with the same
:data:`RECIPE` for that run (``evaluate.judge_for``, cached in the run folder).  R+G's
classifier is trained by the same recipe as the judge it is compared with (:func:`train`,
AU head included), with as many updates.

A judge file (:func:`course_lib.classifier.save_judge`) records its name and version, its
:class:`Recipe`, the data it was trained on (:func:`data_record`), its measured accuracy on
the test split (overall, per class, confusion matrix, AU error), the torch version and the
command; its weights (float16, about 1 MB) carry a sha256 checked on every load.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import torch

from course_lib import classifier as clf_lib
from course_lib import facs
from course_lib.lesson import repo_root

#: Where the shipped judges live (committed): ``data/judges/expression-judge-<size>px-v<version>.pt``.
JUDGES_DIR = repo_root() / "data" / "judges"
#: Keys of a judge's ``data`` record that must equal the evaluated data's for the judge to be used.
MATCH_KEYS = ("kind", "identities", "render_size", "seed", "format", "image_size", "n_train", "n_test",
              "split_sha256")


def judge_name(size: int) -> str:
    """The name of the shipped judge for ``size`` x ``size`` images."""
    return f"expression-judge-{int(size)}px"


def judge_path(size: int, version: int, directory: Path | None = None) -> Path:
    """Where the shipped judge ``size`` / ``version`` lives."""
    return Path(directory or JUDGES_DIR) / f"{judge_name(size)}-v{int(version)}.pt"


@dataclass(frozen=True)
class Recipe:
    """How a judge is trained (our choices; the papers do not describe their classifiers).

    Measured on the synthetic set at 64x64 (1440 training, 160 test images, seed 0): 30 epochs
    with 16 channels and 4-pixel shifts reached R = 78.8 % (training accuracy 85 %: contempt and
    neutral were confused even on the training faces); 100 epochs, 2-pixel shifts: 96.2 %; with
    32 channels as well: 98.1 %; 60 epochs without shifts over-fitted (training 99.6 %, test
    78.8 %).  A judge that misreads real faces cannot tell whether a generator's expressions are
    right, so G and R+G are only meaningful with a high R.
    """
    epochs: int = 100
    conv_dim: int = 32          #: base channels of :class:`~course_lib.classifier.ExpressionClassifier`
    feature_dim: int = 64       #: penultimate features (the in-domain FID's feature space)
    max_dim: int = 128
    shift: int = 2              #: random shifts (pixels) of the training images
    flip: bool = True           #: random horizontal flips
    lr: float = 3e-4
    batch_size: int = 32
    au_weight: float = 1.0      #: weight of the AU head's MSE (when AUs are known)
    seed: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> "Recipe":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"judge recipe: unknown field(s) {', '.join(unknown)} (expected some of "
                             f"{', '.join(sorted(names))})")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)

    def replace(self, **kw) -> "Recipe":
        return replace(self, **kw)

    def label(self) -> str:
        """A short description, e.g. ``100 epochs, 32 channels, shifts <= 2 px, seed 0``."""
        return f"{self.epochs} epochs, {self.conv_dim} channels, shifts <= {self.shift} px, seed {self.seed}"

    def model_kw(self) -> dict:
        return dict(conv_dim=self.conv_dim, feature_dim=self.feature_dim, max_dim=self.max_dim)

    def train_kw(self) -> dict:
        return dict(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, au_weight=self.au_weight,
                    flip=self.flip, shift=self.shift, seed=self.seed)


#: The course's one judge recipe (R, R+G, the shipped judges, the judges trained for a run).
RECIPE = Recipe()


def train(split, recipe: Recipe = RECIPE, progress: bool = True, desc: str = "classifier R"):
    """Train a classifier by ``recipe`` on ``split`` (an ``evaluate.Split``: uint8 images, labels,
    AU intensities or None): the one training function of R and R+G.  It has an AU head whenever
    ``split.aus`` is given; rows of ``split.aus`` holding NaN (images whose AUs are unknown, such as
    R+G's generated ones) are left out of the AU loss.  ``.meta["recipe"]`` records the recipe."""
    size = split.images.shape[-1]
    model = clf_lib.ExpressionClassifier(image_size=size if size & (size - 1) == 0 else 64,
                                         n_aus=split.aus.shape[1] if split.aus is not None else 0,
                                         **recipe.model_kw())
    model = clf_lib.train_classifier(model, split.images, split.labels, split.aus, progress=progress, desc=desc,
                                     **recipe.train_kw())
    model.meta = {"recipe": recipe.to_dict()}
    return model


def recipe_of(model, default: Recipe = RECIPE) -> Recipe:
    """The recipe ``model`` was trained by (``model.meta["recipe"]``), else ``default``."""
    r = (getattr(model, "meta", None) or {}).get("recipe")
    return Recipe.from_dict(r) if isinstance(r, dict) else default


# ----------------------------------------------------------------------------- data records
def synthetic_params(dataset) -> dict | None:
    """The build parameters (identities, size, seed, format) of a synthetic build
    (``datasets.SyntheticFolder``), None for any other dataset."""
    meta = getattr(dataset, "meta", None)
    if not isinstance(meta, dict) or not {"identities", "size", "seed", "format"} <= set(meta):
        return None
    return {k: meta[k] for k in ("identities", "size", "seed", "format")}


def _items(split) -> list:
    return [[str(i), int(label)] for i, label in zip(split.identities, split.labels.tolist())]


def split_sha256(params: dict, train, test) -> str:
    """sha256 of the build parameters and the (identity, label) of every training and test item, in order."""
    text = json.dumps({"params": params, "train": _items(train), "test": _items(test)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def pixels_sha256(images: torch.Tensor) -> str:
    """sha256 of uint8 images (N,3,S,S) as decoded for the judge (renderer and resize included)."""
    return hashlib.sha256(torch.as_tensor(images).contiguous().numpy().tobytes()).hexdigest()


def data_record(train, test, params: dict | None = None) -> dict | None:
    """What a judge trained on ``train`` (and measured on ``test``) records about its data, and what
    :func:`shipped_judge` compares: kind, build parameters (``identities``, ``render_size``,
    ``seed``, ``format``), ``image_size``, ``n_train`` / ``n_test``, :func:`split_sha256` and the
    :func:`pixels_sha256` of both splits.  ``params``: the build parameters (default: read from
    the splits' datasets); None when the data is not a synthetic build."""
    params = params or synthetic_params(getattr(train, "dataset", None))
    if params is None or (params != (synthetic_params(getattr(test, "dataset", None)) or params)):
        return None
    return {"kind": "synthetic", "identities": params["identities"], "render_size": params["size"],
            "seed": params["seed"], "format": params["format"], "image_size": int(train.images.shape[-1]),
            "n_train": len(train.labels), "n_test": len(test.labels),
            "split_sha256": split_sha256(params, train, test),
            "train_pixels_sha256": pixels_sha256(train.images), "test_pixels_sha256": pixels_sha256(test.images)}


# ----------------------------------------------------------------------------- measuring
@torch.no_grad()
def measure(model, train, test) -> dict:
    """A judge's figures: ``acc_r`` (test split), ``acc_train``, per-class test accuracy
    ``per_class`` {expression: share}, the test ``confusion`` (rows: true, columns: predicted,
    :data:`facs.EXPRESSIONS` order) and ``au_error`` (mean absolute AU error on the test images,
    with an AU head and known AUs)."""
    from course_lib import metrics

    pred = clf_lib.predict(model, test.images)
    m = metrics.confusion_matrix(test.labels.numpy(), pred.numpy(), len(facs.EXPRESSIONS))
    out = {"acc_r": float((pred == test.labels).float().mean()),
           "acc_train": clf_lib.accuracy(model, train.images, train.labels),
           "per_class": {e: (float(m[k, k] / m[k].sum()) if m[k].sum() else None)
                         for k, e in enumerate(facs.EXPRESSIONS)},
           "confusion": m.tolist()}
    if model.au_head is not None and test.aus is not None:
        out["au_error"] = float(metrics.au_error(clf_lib.predict_aus(model, test.images), test.aus).mean())
    return out


def build(train, test, recipe: Recipe = RECIPE, *, name: str, version: int, out, command: str,
          params: dict | None = None, progress: bool = True, log=print):
    """Train a judge by ``recipe`` on ``train``, round it to float16 (what the file stores), measure
    it on ``test`` (:func:`measure`), and write it to ``out`` (:func:`classifier.save_judge`).
    Returns the loaded judge (its ``.meta`` as in the file)."""
    record = data_record(train, test, params)
    if record is None:
        raise ValueError("a shipped judge is trained on a synthetic build (python -m course_lib data "
                         "build-synthetic); this data is not one")
    t0 = time.perf_counter()
    model = train_fn(train, recipe, progress=progress, desc=f"judge {name}")
    seconds = time.perf_counter() - t0
    clf_lib.half_precision(model)
    figures = dict(measure(model, train, test), train_seconds=round(seconds, 1), threads=torch.get_num_threads())
    path = clf_lib.save_judge(model, out, name=name, version=version, recipe=recipe.to_dict(), data=record,
                              metrics=figures, command=command)
    log(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) and {path.with_suffix('.json')}")
    return clf_lib.load_judge(path)


train_fn = train      # ``build``'s name for :func:`train` (its own argument is called ``train``)


# ----------------------------------------------------------------------------- shipped judges
def shipped(size: int | None = None, directory: Path | None = None) -> list[Path]:
    """Shipped judge files (``expression-judge-<size>px-v<version>.pt``) in ``directory`` (default
    :data:`JUDGES_DIR`), for ``size`` when given; highest version last."""
    pattern = re.compile(r"^expression-judge-(\d+)px-v(\d+)\.pt$")
    found = []
    for p in Path(directory or JUDGES_DIR).glob("expression-judge-*px-v*.pt"):
        m = pattern.match(p.name)
        if m and (size is None or int(m.group(1)) == int(size)):
            found.append((int(m.group(1)), int(m.group(2)), p))
    return [p for *_, p in sorted(found)]


def check_data(model, train, test) -> tuple[bool, str]:
    """Whether ``model`` (a judge with a ``data`` record) was trained on this very split: (ok, why)."""
    theirs = (model.meta or {}).get("data") or {}
    ours = data_record(train, test)
    if ours is None:
        return False, "the data is not a synthetic build"
    differ = [k for k in MATCH_KEYS if theirs.get(k) != ours.get(k)]
    if differ:
        return False, f"it was trained on other data ({', '.join(differ)} differ)"
    same = (theirs.get("train_pixels_sha256"), theirs.get("test_pixels_sha256")) == \
           (ours["train_pixels_sha256"], ours["test_pixels_sha256"])
    return True, ("same split, same pixels" if same else
                  "same split; the images decoded on this machine differ from those it was trained on "
                  "(another renderer or resize)")


def shipped_judge(train, test, directory: Path | None = None):
    """The newest shipped judge for ``train``'s image size whose data record matches ``train`` /
    ``test`` (:func:`check_data`) and its note, or ``(None, why not)``.  A shipped file that
    cannot be loaded (corrupted, foreign) raises its error."""
    size = int(train.images.shape[-1])
    if data_record(train, test) is None:
        return None, "the data is not the embedded synthetic set"
    files = shipped(size, directory)
    if not files:
        return None, f"no shipped judge for {size}x{size} images in {Path(directory or JUDGES_DIR)}"
    why = ""
    for path in reversed(files):
        model = clf_lib.load_judge(path)
        ok, why = check_data(model, train, test)
        if ok:
            model.meta["data_check"] = why
            return model, why
    return None, f"{files[-1].name}: {why}"


def describe(model, cache: Path | None = None) -> dict:
    """``judge_name`` (one line for the table's notes) and ``judge_kind`` ("shipped", "trained for this
    run" or "file") of a judge."""
    meta = getattr(model, "meta", None) or {}
    if meta.get("format") == clf_lib.JUDGE_FORMAT:
        try:
            where = Path(meta["path"]).resolve().relative_to(repo_root())
        except ValueError:
            where = meta["path"]
        shipped_here = Path(meta["path"]).resolve().parent == JUDGES_DIR.resolve()
        acc = (meta.get("metrics") or {}).get("acc_r")
        text = (f"{meta['name']} v{meta['version']} ({where}, weights sha256 {meta['weights_sha256'][:12]}; "
                f"{Recipe.from_dict(meta['recipe']).label()}; R = {acc:.1%} on the test split when trained)")
        if meta.get("data_check", "").startswith("same split;"):
            text += "; " + meta["data_check"].split("; ", 1)[1]
        return {"judge_name": text, "judge_kind": "shipped" if shipped_here else "file"}
    label = recipe_of(model).label()
    return {"judge_name": f"trained for this run ({label}" + (f"; cached in {cache}" if cache else "") + ")",
            "judge_kind": "trained for this run"}
