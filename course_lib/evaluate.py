"""Evaluation of an expression translator: our counterpart of LGP-GAN Table IV (IS, FID),
Cascade EF-GAN Tables 1-2 (accuracy R / G / R+G, PSNR, FID) and the landmark+label GAN's
Tables 5-6 (PSNR, SSIM, FID; identity).

Protocol (``evaluate_translator``), on the test split the translator never saw:

1. every test image is translated to every **other** target expression (Cascade EF-GAN 4.3:
   "perform expression editing on the same, unseen testing set"; our choice: a face's own
   expression is left out, where returning the input unchanged would be the exact answer
   and a do-nothing model would win for free — :func:`changed_pairs`);
2. **R**: a classifier trained on the real training images, tested on the real test
   images; **G**: the same classifier on the translations, scored against their target
   labels, also per target with its confusion matrix (:func:`per_target_g`); **R+G**: a
   classifier trained on the real training images plus generated ones, tested on the real
   test images (Cascade EF-GAN Table 1).  Our choice for R+G: the generated training
   images are translations of the *training* images (one random other target each,
   seeded), so no test identity leaks into training; its classifier is trained by the
   judge's own recipe (AU head included) with as many updates.  The **judge** (the R
   classifier) is the shipped, versioned one of ``data/judges/`` when the data is the
   embedded synthetic set at its size (:mod:`course_lib.judge`), else one trained for the
   run by the same recipe; every table names it (:func:`choose_judge`);
3. **FID**: Inception when its weights are there, and always the **in-domain FID** (the
   R classifier's penultimate features), generated vs real test images;
   **IS** with Inception only;
4. paired metrics where a ground truth exists (synthetic data: ``dataset.find(identity,
   expression)``): **PSNR**, **SSIM** of each translation against the true image of the
   same identity with the target expression, and their **gain over copy** (the same
   metric of the unchanged input against the same truths, subtracted); **LPIPS** when its
   weights are present; the share of **changes outside the expression** and the
   **high-frequency ratio** (:mod:`course_lib.metrics`); the **AU error** of the
   classifier's AU head on the translation against the true target's AU intensities;
5. **identity**: dlib face-descriptor distance between input and translation, the share
   under 0.6 and how often dlib found no face.

:func:`reference_rows` scores two stand-ins on the same pairs with the same judge: **copy**
(the input unchanged: gains 0 by definition) and **oracle** (the ground truth: PSNR
infinite, SSIM 1, the largest possible gains).  ``evaluate_run`` writes them around the
model's row.  ``write_table`` / ``compare`` turn result rows into Markdown and CSV.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from course_lib import classifier as clf_lib
from course_lib import facs, metrics
from course_lib import judge as judge_lib
from course_lib.images import uint8_from_unit

N_CLASSES = len(facs.EXPRESSIONS)

#: Columns of the result table, in order: (key in a result row, Markdown header, format).
COLUMNS = [
    ("method", "method", "{}"),
    ("fid_kind", "FID kind", "{}"),
    ("fid", "FID ↓", "{:.2f}"),
    ("is_mean", "IS ↑", "{:.3f}"),
    ("psnr", "PSNR ↑ (dB)", "{:.2f}"),
    ("psnr_gain", "PSNR gain over copy (dB) ↑", "{:+.2f}"),
    ("ssim", "SSIM ↑", "{:.3f}"),
    ("ssim_gain", "SSIM gain over copy ↑", "{:+.3f}"),
    ("lpips", "LPIPS ↓", "{:.3f}"),
    ("outside_change", "changes outside the expression ↓", "{:.1%}"),
    ("hf_ratio", "HF ratio (truth = 1)", "{:.2f}"),
    ("acc_r", "acc. R", "{:.1%}"),
    ("acc_g", "acc. G ↑", "{:.1%}"),
    ("acc_rg", "acc. R+G ↑", "{:.1%}"),
    ("au_error", "AU error ↓", "{:.3f}"),
    ("identity", "identity (dlib)", "{}"),
]
#: Per-target G accuracy (share of the translations to that target the judge reads as it) and
#: the number of those translations: ``acc_g_<expression>``, ``n_g_<expression>``.
PER_TARGET = [f"acc_g_{e}" for e in facs.EXPRESSIONS]
PER_TARGET_N = [f"n_g_{e}" for e in facs.EXPRESSIONS]
#: Extra CSV columns (every number of a row, for plots and the compare command).
CSV_EXTRA = ["reference", "psnr_copy", "ssim_copy", "psnr_exact", "lpips_note", "in_domain_fid", "inception_fid",
             "is_std", "kid_mean", "kid_std", "au_error_real", "identity_distance", "identity_share_same",
             "identity_no_face", "identity_pairs", "n_test", "n_generated", "n_train", "paired", "inception",
             "judge_name", "judge_kind", *PER_TARGET, *PER_TARGET_N]
#: Mean PSNR counts an exact pair (infinite PSNR) as this many dB when the other pairs of the
#: row are not all exact; a row of exact pairs only (the oracle) reports infinity ("∞").
PSNR_CAP = 100.0
#: Names of the reference rows (``row["reference"]``) and their method labels.
REFERENCES = {"copy": "copy (input unchanged)", "oracle": "oracle (ground truth)"}


# ----------------------------------------------------------------------------- data
@dataclass
class Split:
    """A dataset decoded once: uint8 images (N,3,S,S), labels (N,), landmarks (N,68,2) in
    pixels of S, AU intensities (N,K) or None, identities, and the dataset (for ``find``)."""
    images: torch.Tensor
    labels: torch.Tensor
    landmarks: torch.Tensor
    aus: torch.Tensor | None
    identities: list
    dataset: object = None

    def __len__(self):
        return len(self.labels)


def collect(dataset, image_size: int, limit: int = 0, desc: str = "loading images") -> Split:
    """Decode ``dataset`` (course dataset dicts) into a :class:`Split` at ``image_size`` with
    :func:`course_lib.datasets.decode` (``aus`` None unless every item has AU intensities).

    ``limit`` > 0 keeps the first ``limit`` items.  Images are resized with antialiasing
    and their landmarks scaled alike.
    """
    from course_lib.datasets import decode

    t, ids = decode(dataset, image_size, limit, desc, names=True)
    return Split(t["image"], t["label"], t["landmarks"], t["aus"] if bool(t["aus_known"].all()) else None, ids, dataset)


@dataclass
class Generated:
    """Translations: uint8 images (M,3,S,S), the index of each one's source in the split, its target label."""
    images: torch.Tensor
    source: torch.Tensor
    target: torch.Tensor


def changed_pairs(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(source, target) of every image to every expression other than its own label: image i
    once per target in label order, its own label skipped (7 pairs per image)."""
    labels = torch.as_tensor(labels).long()
    source = torch.arange(len(labels)).repeat_interleave(N_CLASSES)
    target = torch.arange(N_CLASSES).repeat(len(labels))
    keep = target != labels[source]
    return source[keep], target[keep]


@torch.no_grad()
def translate(translator, split: Split, targets: torch.Tensor | None = None, batch_size: int = 32,
              desc: str = "translating", changed_only: bool = False) -> Generated:
    """Translate every image of ``split`` to every target expression (``targets=None``; with
    ``changed_only`` to every target but its own label, :func:`changed_pairs`), or image i to
    ``targets[i]``.  ``translator(images, labels, landmarks) -> images`` in [-1, 1]."""
    from tqdm.auto import tqdm

    n = len(split)
    if targets is None and changed_only:
        source, target = changed_pairs(split.labels)
    elif targets is None:
        source = torch.arange(n).repeat_interleave(N_CLASSES)
        target = torch.arange(N_CLASSES).repeat(n)
    else:
        source, target = torch.arange(n), torch.as_tensor(targets).long()
    has_lm = not torch.isnan(split.landmarks).any()
    out = []
    for i in tqdm(range(0, len(source), batch_size), desc=desc, leave=False):
        s, t = source[i:i + batch_size], target[i:i + batch_size]
        y = translator(clf_lib.as_float(split.images[s]), t, split.landmarks[s] if has_lm else None)
        out.append(uint8_from_unit(torch.as_tensor(y).detach().cpu()))
    return Generated(torch.cat(out), source, target)


class IdentityTranslator:
    """Stand-in translator that changes nothing (the **copy** reference of :func:`reference_rows`):
    its PSNR / SSIM gains over copy are 0, and on changed targets its G accuracy is the share of
    inputs the judge misreads as the target, near 0."""
    model_name = "identity (no change)"

    def __call__(self, images, targets, landmarks=None):
        return torch.as_tensor(images).clone()


class OracleTranslator:
    """Stand-in translator that returns the ground truth: the true image of the input's identity
    with the target expression (``split.dataset.find``), the input found by its pixels in one of
    ``splits``.  The upper bound of the paired metrics; its G accuracy is the R accuracy."""
    model_name = "oracle (ground truth)"

    def __init__(self, *splits: Split):
        if not splits or not all(hasattr(s.dataset, "find") for s in splits):
            raise ValueError("the oracle needs splits whose dataset has find(identity, expression) (synthetic sets)")
        self._index = {s.images[i].numpy().tobytes(): (s, i) for s in splits for i in range(len(s))}

    def __call__(self, images, targets, landmarks=None):
        u8 = uint8_from_unit(images)
        out = []
        for x, t in zip(u8, torch.as_tensor(targets).tolist()):
            if x.numpy().tobytes() not in self._index:
                raise ValueError("OracleTranslator: an input image is in none of its splits")
            split, i = self._index[x.numpy().tobytes()]
            j = split.dataset.find(split.identities[i], facs.expression_name(t))
            if j >= len(split):
                raise ValueError(f"OracleTranslator: the ground truth (item {j}) lies beyond the {len(split)} "
                                 "items loaded; collect the split without a limit")
            out.append(split.images[j])
        return clf_lib.as_float(torch.stack(out))


# ----------------------------------------------------------------------------- R / G / R+G
#: The judge's recipe (:data:`course_lib.judge.RECIPE`): epochs of the R classifier (R+G gets the same
#: number of updates), its width (``conv_dim``) and its random shifts (pixels).
JUDGE_EPOCHS = judge_lib.RECIPE.epochs
JUDGE_CONV_DIM = judge_lib.RECIPE.conv_dim
JUDGE_SHIFT = judge_lib.RECIPE.shift


def train_judge(split: Split, epochs: int = JUDGE_EPOCHS, seed: int = 0, progress: bool = True,
                desc: str = "classifier R", **recipe) -> clf_lib.ExpressionClassifier:
    """A classifier of protocol R (or R+G) trained on ``split`` by the course's one recipe
    (:data:`course_lib.judge.RECIPE`, with ``epochs``, ``seed`` and any other
    :class:`~course_lib.judge.Recipe` field in ``recipe`` replaced): an AU head when AUs are known
    (:func:`course_lib.judge.train`).  See :class:`~course_lib.judge.Recipe` for the measurements
    behind the defaults."""
    return judge_lib.train(split, judge_lib.RECIPE.replace(epochs=epochs, seed=seed, **recipe), progress, desc)


def expression_protocol(train: Split, test: Split, generated_test: Generated, generated_train: Generated | None,
                        judge=None, epochs: int = JUDGE_EPOCHS, seed: int = 0, progress: bool = True,
                        judge_kw: dict | None = None) -> dict:
    """Cascade EF-GAN Table 1: accuracies R, G and R+G (shares in 0..1), G per target with the
    confusion matrix (:func:`per_target_g`), the judge and the R+G classifier (``judge_rg``).

    ``generated_test``: translations of the test images (G); ``generated_train``:
    translations of training images added to the real ones for R+G (None: R+G skipped).
    ``judge``: an already trained R classifier (else trained here with ``epochs``, ``seed`` and
    ``judge_kw``, fields of :class:`~course_lib.judge.Recipe`).  The R+G classifier is trained by
    the judge's own recipe (:func:`course_lib.judge.recipe_of`; a shipped judge records it), AU
    head included (the generated images' AUs are unknown: left out of the AU loss), with as many
    updates as the judge.
    """
    judge_kw = judge_kw or {}
    judge = judge if judge is not None else train_judge(train, epochs, seed, progress, **judge_kw)
    per_target = per_target_g(judge, generated_test)   # one pass of the judge over the translations
    m = np.asarray(per_target["confusion_g"])
    out = {"judge": judge,
           "acc_r": clf_lib.accuracy(judge, test.images, test.labels),
           "acc_g": float(np.trace(m) / m.sum()), **per_target}
    if generated_train is not None:
        recipe = judge_lib.recipe_of(judge, judge_lib.RECIPE.replace(epochs=epochs, seed=seed, **judge_kw))
        aus = None
        if train.aus is not None:      # the generated images' AUs are unknown (NaN): real ones only in the AU loss
            aus = torch.cat([train.aus, torch.full((len(generated_train.target), train.aus.shape[1]), float("nan"))])
        both = Split(torch.cat([train.images, generated_train.images]),
                     torch.cat([train.labels, generated_train.target]), train.landmarks, aus, [])
        # as many updates as the R classifier: its epochs scaled by the share of real images
        rg_epochs = max(1, round(recipe.epochs * len(train) / len(both.labels)))
        other = {k: v for k, v in recipe.to_dict().items() if k not in ("epochs", "seed")}
        rg = train_judge(both, rg_epochs, recipe.seed, progress, desc="classifier R+G", **other)
        out["judge_rg"] = rg
        out["acc_rg"] = clf_lib.accuracy(rg, test.images, test.labels)
    return out


def random_other_targets(labels: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """One random target per image, different from its own label (seeded; our choice for R+G)."""
    g = torch.Generator().manual_seed(seed)
    shift = torch.randint(1, N_CLASSES, (len(labels),), generator=g)
    return (labels + shift) % N_CLASSES


def per_target_g(judge, generated: Generated) -> dict:
    """G accuracy per target expression and the judge's confusion matrix on the translations.

    Returns ``acc_g_<expression>`` (share of the translations to that target that the judge
    classifies as it; NaN where there are none), ``n_g_<expression>`` (their number) and
    ``confusion_g``: counts (8 x 8) as nested lists, row = target, column = predicted
    (:data:`facs.EXPRESSIONS` order).  The per-target accuracies weighted by ``n_g_*``
    average to G.
    """
    predicted = clf_lib.predict(judge, generated.images)
    m = metrics.confusion_matrix(generated.target.numpy(), predicted.numpy(), N_CLASSES)
    out = {"confusion_g": m.tolist()}
    for k, name in enumerate(facs.EXPRESSIONS):
        n = int(m[k].sum())
        out[f"n_g_{name}"] = n
        out[f"acc_g_{name}"] = float(m[k, k] / n) if n else float("nan")
    return out


# ----------------------------------------------------------------------------- paired metrics
def ground_truth_index(split: Split, generated: Generated) -> torch.Tensor:
    """Index in ``split`` of the true image of each translation's identity with its target
    expression (``split.dataset.find``), -1 where there is none; all -1 without ``find``."""
    find = getattr(split.dataset, "find", None)
    idx = torch.full((len(generated.source),), -1, dtype=torch.long)
    if find is None:
        return idx
    position = {}
    for k, (s, t) in enumerate(zip(generated.source.tolist(), generated.target.tolist())):
        key = (split.identities[s], t)
        if key not in position:
            try:
                position[key] = int(find(split.identities[s], facs.expression_name(t)))
            except (KeyError, ValueError, IndexError):
                position[key] = -1
        idx[k] = position[key] if position[key] < len(split) else -1
    return idx


def mean_psnr(values) -> float:
    """Mean of per-pair PSNRs: infinity when every pair is exact (the oracle), else exact pairs
    count as :data:`PSNR_CAP` dB."""
    v = np.asarray(values, np.float64)
    if len(v) and np.isinf(v).all():
        return float("inf")
    return float(np.minimum(v, PSNR_CAP).mean())


def paired_metrics(split: Split, generated: Generated, judge=None, lpips=None) -> dict:
    """Paired metrics of translations against their ground truth, on the **changed** targets only
    (target != the source's own label) that have a ground truth; ``{"paired": 0}`` when none has.

    * ``psnr`` (mean over pairs, :func:`mean_psnr`), ``ssim``;
    * ``psnr_copy`` / ``ssim_copy``: the same metrics of the unchanged inputs against the same
      truths, and ``psnr_gain`` = ``psnr - psnr_copy`` (dB), ``ssim_gain`` = ``ssim - ssim_copy``:
      0 for a copy, infinity / ``1 - ssim_copy`` for the truth itself (the largest possible);
    * ``psnr_exact``: pairs identical to their truth (infinite PSNR);
    * ``outside_change``: :func:`metrics.outside_change_share` — of the pixels where the truth
      differs from the input by at most :data:`metrics.OUTSIDE_CHANGE_THRESHOLD` grey levels, the
      share the translation changes by more than that (pooled over the pairs);
    * ``hf_ratio``: :func:`metrics.high_frequency_ratio` — mean |Laplacian| of the translations
      over that of the truths;
    * ``lpips``: mean LPIPS when ``lpips`` (a callable ``(outputs, truths) -> (N,)``, e.g.
      :func:`metrics.lpips_model`) is given, else ``lpips_note`` = :data:`metrics.LPIPS_NOTE`;
    * ``au_error`` (and ``au_error_real``, the judge on the real test images) with the judge's AU head.
    """
    gt = ground_truth_index(split, generated)
    ok = (gt >= 0) & (generated.target != split.labels[generated.source])
    if not ok.any():
        return {"paired": 0}
    out_imgs, gt_imgs, in_imgs = generated.images[ok], split.images[gt[ok]], split.images[generated.source[ok]]
    hwc = lambda t: t.permute(0, 2, 3, 1).numpy()
    a, b, x = hwc(out_imgs), hwc(gt_imgs), hwc(in_imgs)
    p, p_copy = metrics.psnr(a, b), metrics.psnr(x, b)
    q, q_copy = metrics.ssim(a, b), metrics.ssim(x, b)
    res = {"paired": int(ok.sum()), "psnr": mean_psnr(p), "ssim": float(q.mean()),
           "psnr_copy": mean_psnr(p_copy), "ssim_copy": float(q_copy.mean()), "psnr_exact": int(np.isinf(p).sum()),
           "outside_change": metrics.outside_change_share(a, x, b), "hf_ratio": metrics.high_frequency_ratio(a, b)}
    res["psnr_gain"] = res["psnr"] - res["psnr_copy"] if res["psnr"] != res["psnr_copy"] else 0.0  # inf - inf
    res["ssim_gain"] = res["ssim"] - res["ssim_copy"]
    if lpips is not None:
        res["lpips"] = float(np.mean(lpips(a, b)))
    else:
        res["lpips_note"] = metrics.LPIPS_NOTE
    if judge is not None and judge.au_head is not None and split.aus is not None:
        res["au_error"] = float(metrics.au_error(clf_lib.predict_aus(judge, out_imgs), split.aus[gt[ok]]).mean())
        res["au_error_real"] = float(metrics.au_error(clf_lib.predict_aus(judge, split.images), split.aus).mean())
    return res


# ----------------------------------------------------------------------------- everything
class CachedDescriptors:
    """dlib face descriptors (:class:`metrics.FaceDescriptors`, made on first use) computed once per
    distinct image within one evaluation: the inputs are described once for all rows, and the copy
    row's outputs (the inputs) and the oracle's (test images) cost nothing more.  Same numbers as
    describing every image anew (dlib is deterministic)."""

    def __init__(self, descriptors=None):
        self._descriptors = descriptors
        self._memo: dict[bytes, np.ndarray] = {}

    def __call__(self, images, progress: bool = False) -> np.ndarray:
        import hashlib

        a = np.ascontiguousarray(np.asarray(images))
        keys = [hashlib.sha1(x.tobytes()).digest() for x in a]
        todo = list(dict.fromkeys(k for k in keys if k not in self._memo))
        if todo:
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            if self._descriptors is None:
                self._descriptors = metrics.FaceDescriptors()
            new = self._descriptors(a[[first[k] for k in todo]], progress)
            self._memo.update(zip(todo, new))
        return np.stack([self._memo[k] for k in keys]) if keys else np.zeros((0, 128))


def resolve_lpips(lpips="auto", download: bool = False, log=print):
    """The LPIPS callable to use: ``"auto"``: :func:`metrics.lpips_model` when the package and its
    weights are present (else None, the reason logged); None/False: none; a callable: itself."""
    if isinstance(lpips, str) and lpips == "auto":
        try:
            return metrics.lpips_model(download=download)
        except metrics.LPIPSUnavailable as err:
            log(str(err))
            return None
    return lpips or None


def score_translations(gen: Generated, train: Split, test: Split, *, method: str, judge=None,
                       gen_train: Generated | None = None, inception_path=None,
                       classifier_epochs: int = JUDGE_EPOCHS, identity: bool = True, identity_inputs: int = 32,
                       seed: int = 0, progress: bool = True, log=print, judge_kw: dict | None = None,
                       lpips=None, descriptors=None) -> dict:
    """Score translations ``gen`` of the test split (steps 2-5 of the module docstring); one
    result row.  ``gen_train``: translations of training images for R+G (None: R+G skipped);
    ``descriptors``: the dlib descriptor function to use (e.g. a shared :class:`CachedDescriptors`);
    ``lpips``: a callable or None (see :func:`paired_metrics`)."""
    row = {"method": method, "n_test": len(test), "n_train": len(train), "n_generated": len(gen.target)}
    prot = expression_protocol(train, test, gen, gen_train, judge, classifier_epochs, seed, progress, judge_kw)
    judge = prot.pop("judge")
    prot.pop("judge_rg", None)
    row.update(prot)
    row["judge"] = judge
    row.update(paired_metrics(test, gen, judge, lpips=lpips))

    fid = metrics.fidelity_metrics(gen.images, test.images, kind="in-domain", classifier=judge)
    row["in_domain_fid"] = fid["fid"]
    row["fid_kind"], row["fid"] = metrics.IN_DOMAIN_FID, fid["fid"]
    if inception_path is not None:
        inc = metrics.fidelity_metrics(gen.images, test.images, kind="inception", inception_path=inception_path,
                                       isc=True, kid=True, verbose=progress)
        row.update(inception_fid=inc["fid"], is_mean=inc["is_mean"], is_std=inc["is_std"],
                   kid_mean=inc["kid_mean"], kid_std=inc["kid_std"], fid_kind=inc["kind"], fid=inc["fid"],
                   inception="yes")
    else:
        row["inception"] = "unavailable (no weights)"
        log("Inception FID/IS: unavailable (no Inception weights; pass --inception-weights PATH). "
            "Reporting the in-domain FID only.")

    if identity:   # the translations of the first `identity_inputs` test images (dlib is slow: our choice)
        keep = gen.source < identity_inputs
        scores = metrics.identity_scores(test.images[:identity_inputs].permute(0, 2, 3, 1).numpy(),
                                         gen.images[keep].permute(0, 2, 3, 1).numpy(), progress=progress,
                                         source=gen.source[keep].numpy(), descriptors=descriptors)
        row.update(identity=scores.summary(), identity_distance=scores.distance,
                   identity_share_same=scores.share_same, identity_no_face=scores.no_face,
                   identity_pairs=scores.pairs)
    return row


def evaluate_translator(translator, train: Split, test: Split, *, method: str = "", judge=None,
                        inception_path=None, classifier_epochs: int = JUDGE_EPOCHS, rg: bool = True, identity: bool = True,
                        identity_inputs: int = 32, seed: int = 0, progress: bool = True, log=print,
                        judge_kw: dict | None = None, lpips="auto", descriptors=None) -> dict:
    """Run the whole protocol (module docstring) and return one result row (a dict).

    ``judge``: a trained R classifier to reuse (else trained on ``train``);
    ``inception_path``: Inception weights (None: Inception FID/IS unavailable, said in the
    row's ``inception`` field); ``rg=False`` skips R+G, ``identity=False`` skips dlib, which
    otherwise scores the translations of the first ``identity_inputs`` test images;
    ``lpips``: see :func:`resolve_lpips`.  The test images are translated to every target
    but their own (:func:`changed_pairs`); :func:`reference_rows` scores copy and oracle on
    the same pairs.
    """
    gen = translate(translator, test, changed_only=True, desc="translating the test set to the 7 other targets")
    gen_train = None
    if rg:
        gen_train = translate(translator, train, random_other_targets(train.labels, seed),
                              desc="translating the training set (R+G)")
    return score_translations(gen, train, test, method=method or getattr(translator, "model_name", "translator"),
                              judge=judge, gen_train=gen_train, inception_path=inception_path,
                              classifier_epochs=classifier_epochs, identity=identity,
                              identity_inputs=identity_inputs, seed=seed, progress=progress, log=log,
                              judge_kw=judge_kw, lpips=resolve_lpips(lpips, log=log), descriptors=descriptors)


def reference_rows(train: Split, test: Split, judge, *, inception_path=None, identity: bool = True,
                   identity_inputs: int = 32, seed: int = 0, progress: bool = True, log=print,
                   lpips="auto", descriptors=None) -> list[dict]:
    """The two reference rows on the pairs of :func:`evaluate_translator` (every test image to
    every other target), scored with the same ``judge``: **copy** (each output is its input
    unchanged) and, where a ground truth exists, **oracle** (each output is its ground truth;
    pairs without one are left out).  R+G is not computed for them (n/a).

    By construction the copy's PSNR / SSIM gains are 0 and its outside-change share 0; the
    oracle's PSNR is infinite, its SSIM 1, its gains the largest any translator can reach,
    its outside-change share 0 and its HF ratio 1; its G is R measured on the truths.
    """
    source, target = changed_pairs(test.labels)
    copy = Generated(test.images[source], source, target)
    lpips = resolve_lpips(lpips, log=log)
    kw = dict(inception_path=inception_path, identity=identity, identity_inputs=identity_inputs, seed=seed,
              progress=progress, log=lambda *a: None, lpips=lpips, descriptors=descriptors)
    rows = [score_translations(copy, train, test, method=REFERENCES["copy"], judge=judge, **kw)]
    gt = ground_truth_index(test, copy)
    ok = gt >= 0
    if ok.any():
        oracle = Generated(test.images[gt[ok]], source[ok], target[ok])
        rows.append(score_translations(oracle, train, test, method=REFERENCES["oracle"], judge=judge, **kw))
    for row, kind in zip(rows, REFERENCES):
        row["reference"] = kind
    return rows


# ----------------------------------------------------------------------------- tables
def _cell(row: dict, key: str, fmt: str) -> str:
    v = row.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return str(row.get(f"{key}_note") or "n/a")
    if isinstance(v, float) and math.isinf(v):
        return ("∞ (exact)" if key == "psnr" else "∞") if v > 0 else "-∞"
    return fmt.format(v)


def markdown_table(rows: list[dict]) -> str:
    """The result rows as a Markdown table (:data:`COLUMNS`); missing values read ``n/a`` (or the
    row's ``<key>_note``, e.g. LPIPS's), infinite ones ``∞`` (PSNR: ``∞ (exact)``)."""
    lines = ["| " + " | ".join(h for _, h, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_cell(r, k, f) for k, _, f in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def per_target_table(rows: list[dict]) -> str:
    """G accuracy per target expression (columns) of each row that has it; "" when none has."""
    rows = [r for r in rows if any(k in r for k in PER_TARGET)]
    if not rows:
        return ""
    cols = [("method", "method", "{}"), *((k, e, "{:.1%}") for k, e in zip(PER_TARGET, facs.EXPRESSIONS)),
            ("acc_g", "all (G)", "{:.1%}")]
    lines = ["| " + " | ".join(h for _, h, _ in cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_cell(r, k, f) for k, _, f in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def csv_table(rows: list[dict]) -> str:
    """The result rows as CSV: every :data:`COLUMNS` key and :data:`CSV_EXTRA`, raw values."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=[k for k, _, _ in COLUMNS] + CSV_EXTRA, extrasaction="ignore",
                       lineterminator="\n")
    w.writeheader()
    for r in rows:     # infinity (the oracle's PSNR) is written "inf", which float() and pandas read back
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in w.fieldnames})
    return buf.getvalue()


def notes(rows: list[dict]) -> str:
    """Plain-language notes under a table: FID kinds, Inception availability, dlib misses."""
    out = []
    kinds = {r.get("fid_kind") for r in rows}
    if metrics.IN_DOMAIN_FID in kinds:
        out.append(f"- **{metrics.IN_DOMAIN_FID}**: Fréchet distance of the expression classifier's penultimate "
                   "features (trained on the real training images), not Inception features: not comparable with "
                   "the papers' FID.")
    if len(kinds) > 1:
        out.append("- The rows use different FID kinds: compare FID only between rows of the same kind.")
    if any(str(r.get("inception", "")).startswith("unavailable") for r in rows):
        out.append("- Inception FID / IS: unavailable (no Inception-v3 weights offline); nothing is reported in "
                   "their place.")
    if any("psnr_gain" in r for r in rows):
        out.append("- Paired metrics (PSNR, SSIM, LPIPS, changes outside the expression, HF ratio) compare each "
                   "translation of a test face to another expression (its own is left out) with the true face of "
                   "the same identity with that expression.")
        out.append("- **gain over copy**: the row's PSNR (dB) / SSIM minus those of the input left unchanged, on the "
                   "same pairs: 0 for a model that does nothing, negative for one that does worse than nothing.")
    partial = [r for r in rows if 0 < (r.get("psnr_exact") or 0) < (r.get("paired") or 0)]
    if partial:
        out.append(f"- PSNR: pairs identical to their truth (infinite PSNR) count as {PSNR_CAP:.0f} dB in the mean of "
                   + ", ".join(f"{r['method']} ({r['psnr_exact']} of {r['paired']})" for r in partial) + ".")
    if any(r.get("reference") for r in rows):
        out.append("- Reference rows, on the same pairs with the same judge: **copy** returns the input unchanged; "
                   "**oracle** returns the ground truth (PSNR ∞: exact; its gains are the most any model can "
                   "reach; its G is the judge's accuracy on the truths). R+G is not computed for them.")
    if any("outside_change" in r for r in rows):
        out.append(f"- **changes outside the expression**: of the pixels the truth leaves unchanged (no colour "
                   f"channel differs from the input by more than {metrics.OUTSIDE_CHANGE_THRESHOLD} of 255 grey "
                   "levels), the share the translation changes by more than that. **HF ratio**: mean |Laplacian| of "
                   "the translations over that of the truths (1 = as sharp as the truth; stripes or a checkerboard "
                   "raise it, blur lowers it).")
    if any(r.get("lpips_note") for r in rows):
        out.append(f"- LPIPS: {metrics.LPIPS_NOTE} — the lpips package and its AlexNet weights are needed; nothing "
                   "is reported in its place.")
    judges = list(dict.fromkeys(r["judge_name"] for r in rows if r.get("judge_name")))
    if len(judges) == 1:
        out.append(f"- **Judge** (acc. R and G, AU error, in-domain FID; R+G is trained by its recipe): {judges[0]}.")
    elif judges:
        out.append("- **Judges**: the rows were scored by different judges (compare acc. G, AU error and in-domain "
                   "FID only between rows of the same judge): "
                   + "; ".join(f"{r['method']}: {r['judge_name']}" for r in rows if r.get("judge_name")) + ".")
    out.append("- acc. R / G / R+G: Cascade EF-GAN Table 1's protocol (G on the translations to the other "
               "expressions); R+G adds translations of the training images (one random other target each).")
    out.append("- identity: mean dlib descriptor distance input/output (share of pairs under 0.6; pairs where "
               "dlib found no face in the input or the output, left out of the mean).")
    return "\n".join(out) + "\n"


def _jsonable(v) -> bool:
    if isinstance(v, (list, tuple)):
        return all(_jsonable(x) for x in v)
    return isinstance(v, (str, int, float, bool, type(None)))


def write_table(rows: list[dict], out_dir, stem: str = "metrics", title: str = "Evaluation",
                extra: str = "") -> tuple[Path, Path]:
    """Write ``<stem>.md`` (title, table, per-target G table, notes, then ``extra`` Markdown),
    ``<stem>.csv`` and ``<stem>.json`` into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / f"{stem}.md"
    per_target = per_target_table(rows)
    per_target = f"\n## G accuracy per target expression\n\n{per_target}" if per_target else ""
    md.write_text(f"# {title}\n\n{markdown_table(rows)}{per_target}\n{notes(rows)}{extra}", encoding="utf-8")
    cs = out_dir / f"{stem}.csv"
    cs.write_text(csv_table(rows), encoding="utf-8")
    clean = [{k: v for k, v in r.items() if _jsonable(v)} for r in rows]
    (out_dir / f"{stem}.json").write_text(json.dumps(clean, indent=1, allow_nan=True), encoding="utf-8")
    return md, cs


def load_rows(run_dirs) -> list[dict]:
    """The result rows ``evaluate`` wrote into each run's ``eval/metrics.json`` (each row's
    ``run`` set to its folder when missing)."""
    rows = []
    for run in map(Path, run_dirs):
        path = run / "eval" / "metrics.json"
        if not path.is_file():
            raise FileNotFoundError(f"{run}: no eval/metrics.json; run "
                                    f"`python -m course_lib evaluate --run {run}` first")
        rows += [dict(r, run=r.get("run", str(run))) for r in json.loads(path.read_text(encoding="utf-8"))]
    return rows


def _same_numbers(a: dict, b: dict) -> bool:
    keys = [k for k, _, _ in COLUMNS if k != "method"] + PER_TARGET
    same = lambda x, y: x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
    return all(same(a.get(k), b.get(k)) for k in keys)


def compare_rows(rows: list[dict]) -> list[dict]:
    """Rows of several runs for one table: the copy rows first, the models, the oracle rows last.

    Reference rows with the same numbers (the runs were evaluated on the same pairs with the
    same judge) appear once; otherwise each keeps its own, its run named in the method."""
    out = {"copy": [], None: [], "oracle": []}
    for r in rows:
        kind = r.get("reference") if r.get("reference") in REFERENCES else None
        if kind and any(_same_numbers(r, o) for o in out[kind]):
            continue
        out[kind].append(dict(r))
    for kind in REFERENCES:
        if len(out[kind]) > 1:
            for r in out[kind]:
                r["method"] = f"{r['method']} — {r.get('run', '?')}"
    return out["copy"] + out[None] + out["oracle"]


# ----------------------------------------------------------------------------- a run folder
def judge_for(train: Split, cache: Path | None, epochs: int, seed: int = 0, progress: bool = True, tag: str = "",
              log=print) -> clf_lib.ExpressionClassifier:
    """A judge trained for this run: the course's recipe (:data:`course_lib.judge.RECIPE`, with
    ``epochs`` and ``seed``) on ``train``; loaded from ``cache`` when it was trained on the same data
    (same ``tag``, number of images, size) by the same recipe, else trained and saved there."""
    recipe = judge_lib.RECIPE.replace(epochs=epochs, seed=seed)
    meta = {"tag": tag, "n_train": len(train), "image_size": int(train.images.shape[-1]), "epochs": epochs,
            "seed": seed, "recipe": recipe.to_dict()}
    if cache is not None and Path(cache).is_file():
        try:
            judge = clf_lib.load_classifier(cache)
            if {k: judge.meta.get(k) for k in meta} == meta:
                log(f"classifier R: reusing {cache}")
                return judge
        except ValueError:
            pass
    judge = train_judge(train, epochs, seed, progress)
    if cache is not None:
        clf_lib.save_classifier(judge, cache, **meta)
        judge.meta = dict(meta)
    return judge


def choose_judge(train: Split, test: Split, judge="auto", *, cache: Path | None = None,
                 epochs: int = JUDGE_EPOCHS, seed: int = 0, progress: bool = True, tag: str = "",
                 log=print) -> tuple[clf_lib.ExpressionClassifier, dict]:
    """The judge of an evaluation and its description for the table (:func:`course_lib.judge.describe`).

    ``judge``: ``"auto"`` — the shipped judge of ``data/judges/`` when the data is the embedded
    synthetic set at its image size with the same split (:func:`course_lib.judge.shipped_judge`),
    else one trained for this run (:func:`judge_for`, cached in ``cache``); ``"shipped"`` — the
    shipped judge or an error saying why none fits; ``"train"`` — always one trained for this run;
    a path — that judge or classifier file.  ``epochs`` / ``seed`` apply to a judge trained here.
    """
    if isinstance(judge, str) and judge in ("auto", "shipped"):
        model, why = judge_lib.shipped_judge(train, test)
        if model is not None:
            info = judge_lib.describe(model)
            log(f"judge: {info['judge_name']}")
            return model, info
        if judge == "shipped":
            raise ValueError(f"no shipped judge fits this data: {why}")
        log(f"judge: no shipped judge ({why}); training one for this run")
    elif not (isinstance(judge, str) and judge == "train"):
        path = Path(judge)
        model = clf_lib.load_classifier(path)
        info = judge_lib.describe(model)
        if model.meta.get("format") != clf_lib.JUDGE_FORMAT:
            info = {"judge_name": f"{path} ({judge_lib.recipe_of(model).label()})", "judge_kind": "file"}
        elif model.meta.get("data"):
            ok, why = judge_lib.check_data(model, train, test)
            if not ok:
                log(f"judge: {path}: {why}; using it as asked")
                info["judge_name"] += f"; {why}"
        log(f"judge: {info['judge_name']}")
        return model, info
    model = judge_for(train, cache, epochs, seed, progress, tag=tag, log=log)
    return model, judge_lib.describe(model, cache)


def eval_dir(run) -> Path:
    """Where ``evaluate`` writes for a run folder or a checkpoint file: ``<run>/eval``."""
    run = Path(run)
    return (run if run.is_dir() else run.parent) / "eval"


def save_confusion(row: dict, path, title: str = "") -> Path | None:
    """Draw ``row["confusion_g"]`` (:func:`viz.confusion_matrix_plot`) into ``path`` (PNG); None without it."""
    if "confusion_g" not in row:
        return None
    from matplotlib.figure import Figure

    from course_lib import viz

    fig = Figure(figsize=(6.4, 5.4))
    viz.confusion_matrix_plot(row["confusion_g"], ax=fig.add_subplot(), title=title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def evaluate_run(run, *, data: str | None = None, inception_weights=None, download_inception: bool = False,
                 limit: int = 0, train_limit: int = 0, classifier_epochs: int = JUDGE_EPOCHS, rg: bool = True,
                 identity: bool = True, identity_inputs: int = 32, seed: int = 0, progress: bool = True,
                 log=print, references: bool = True, download_lpips: bool = False, judge="auto") -> dict:
    """Evaluate the model of run folder ``run`` (or a checkpoint) on its dataset's test split and
    write ``<run>/eval/metrics.{md,csv,json}`` (the model's row between the **copy** and
    **oracle** reference rows, :func:`reference_rows`; ``references=False`` leaves them out),
    ``<run>/eval/confusion_g.png`` (the judge's confusion matrix on the model's translations)
    and, when the judge is trained for this run, the judge ``classifier.pt``.

    ``data`` overrides the run's dataset ('synthetic' or a folder; required for an official
    StarGAN checkpoint, which has no config); ``limit`` / ``train_limit`` cap the test and
    training images (0: all); ``download_lpips`` lets LPIPS fetch its AlexNet weights;
    ``judge``: see :func:`choose_judge` (``"auto"``: the shipped judge when the data is the
    embedded synthetic set at the model's size, else one trained for this run with
    ``classifier_epochs``).  Every row names its judge (``judge_name``, ``judge_kind``).
    Returns the model's result row.
    """
    from course_lib import trainer

    run = Path(run)
    try:
        translator = trainer.load_translator(run)
    except RuntimeError as err:      # e.g. a state_dict of an older model preset
        raise ValueError(f"{run}: cannot load its model: {str(err).splitlines()[0]} (trained with another "
                         "version of the model preset?)") from err
    config = translator.config
    if config is None and data is None:
        raise ValueError(f"{run}: this checkpoint has no training config; pass --data synthetic or --data FOLDER")
    if config is None:       # an official StarGAN generator: only the data's location is needed
        from types import SimpleNamespace
        config = SimpleNamespace(data=str(data), synthetic_identities=200)
    elif data is not None:
        config = config.replace(data=str(data))
    size = translator.image_size
    train = collect(trainer.open_dataset(config, "train"), size, train_limit, desc="loading training images")
    test = collect(trainer.open_dataset(config, "test"), size, limit, desc="loading test images")
    log(f"{run}: {translator.model_name} at {size}x{size}; {len(train)} training and {len(test)} test images "
        f"from {config.data}")
    out_dir = eval_dir(run)
    judge, judge_info = choose_judge(train, test, judge, cache=out_dir / "classifier.pt", epochs=classifier_epochs,
                                     seed=seed, progress=progress, tag=str(config.data), log=log)
    try:
        inception = metrics.inception_weights(inception_weights, download=download_inception)
    except metrics.InceptionUnavailable as err:
        log(str(err))
        inception = None
    lpips = resolve_lpips("auto", download=download_lpips, log=log)
    descriptors = CachedDescriptors() if identity else None     # inputs, copies and truths: described once
    row = evaluate_translator(translator, train, test, method=f"{translator.model_name} ({run.name})", judge=judge,
                              inception_path=inception, classifier_epochs=classifier_epochs, rg=rg,
                              identity=identity, identity_inputs=identity_inputs, seed=seed, progress=progress,
                              log=lambda *_: None, lpips=lpips, descriptors=descriptors)
    rows = [row]
    if references:
        copy, *oracle = reference_rows(train, test, judge, inception_path=inception, identity=identity,
                                       identity_inputs=identity_inputs, seed=seed, progress=progress, lpips=lpips,
                                       descriptors=descriptors)
        rows = [copy, row, *oracle]
    for r in rows:
        r.pop("judge", None)
        r.update(judge_info, run=str(run))
    png = save_confusion(row, out_dir / "confusion_g.png", title=f"G: {row['method']}")
    extra = (f"\n![The judge's confusion matrix on {row['method']}'s translations (rows: target, columns: "
             f"predicted, normalised per row)]({png.name})\n") if png else ""
    md, cs = write_table(rows, out_dir, title=f"Evaluation of {run}", extra=extra)
    log(f"wrote {md}, {cs} and {png}")
    return row
