"""Issue 14, items 7, 9 and 10: train/test split by identity for every dataset kind; what
``--resume --steps`` does to the learning-rate schedule; independent data orders per (seed, epoch).
Each test fails on the code before issue 14 (commit 60e742c)."""
import csv

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib import datasets, trainer
from course_lib.config import preset


def _png(path, value=120):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 40), (value, 60, 30)).save(path)


def _expression_folder(root, people=("anna", "ben", "carl", "dora", "eve", "finn", "gus", "hana", "ivo", "jo")):
    for k, who in enumerate(people):
        for e in ("happy", "sad", "neutral"):
            _png(root / e / f"{who}_{e}.png", 20 * k)
    return root


def _rafd_folder(root):
    for s in ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10"):
        for e in ("angry", "happy"):
            _png(root / f"Rafd090_{s}_Caucasian_female_{e}_frontal.jpg")
    return root


def _identities(ds):
    return {str(ds[i]["identity"]) for i in range(len(ds))}


@pytest.mark.parametrize("kind", ["synthetic", "rafd", "expression-folder", "split-csv"])
def test_every_dataset_kind_splits_by_identity(kind, tmp_path):
    if kind == "synthetic":
        root = datasets.build_synthetic(tmp_path / "d", identities=10, size=32, seed=0, progress=False)
    elif kind == "rafd":
        root = _rafd_folder(tmp_path / "d")
    else:
        root = _expression_folder(tmp_path / "d")
        if kind == "split-csv":
            (root / "split.csv").write_text("identity,split\n" + "".join(
                f"{p},{'test' if p in ('anna', 'ben', 'carl') else 'train'}\n"
                for p in ("anna", "ben", "carl", "dora", "eve", "finn", "gus", "hana", "ivo", "jo")))
    cfg = preset("cpu", data=str(root))
    train, test = trainer.open_dataset(cfg, "train"), trainer.open_dataset(cfg, "test")
    a, b = _identities(train), _identities(test)
    assert a and b and not (a & b), f"{kind}: identities on both sides: {sorted(a & b)}"
    assert len(train) + len(test) == len(trainer.open_dataset(cfg, "all"))
    if kind == "split-csv":
        assert b == {"anna", "ben", "carl"}


def test_split_csv_must_list_every_identity(tmp_path):
    root = _expression_folder(tmp_path / "d")
    (root / "split.csv").write_text("identity,split\nanna,test\n")
    with pytest.raises(ValueError, match="split.csv.*not listed"):
        datasets.ExpressionFolder(root, split="train")


# ----------------------------------------------------------------------------- item 9
def test_extending_a_run_never_raises_the_learning_rate():
    c = preset("cpu")                            # 4000 iterations, decay from 2000
    assert c.lr_factor(3999) == pytest.approx(0.0005)
    e = c.extended(8000, at=4000)                # the example: before, the factor restarted at 0.667
    assert e.lr_factor(4000) <= c.lr_factor(3999) and e.lr_factor(7999) > 0 and e.lr_factor(8000) == 0
    factors = [e.lr_factor(s) for s in range(3990, 8001)]
    assert all(x >= y for x, y in zip(factors, factors[1:]))
    early = c.extended(8000, at=1000)            # still constant: the decay start keeps the run's ratio
    assert (early.decay_start, early.lr_factor(3999), early.lr_factor(6000)) == (4000, 1.0, 0.5)
    with pytest.raises(ValueError, match="already at iteration 4000"):
        c.extended(3000, at=4000)


def test_resumed_longer_run_continues_the_decay(tmp_path):
    rng = np.random.default_rng(0)
    faces = {"image": torch.from_numpy(rng.integers(0, 256, (8, 3, 64, 64), dtype=np.uint8)),
             "label": torch.arange(8), "landmarks": torch.zeros(8, 68, 2), "aus": torch.zeros(8, 17)}
    cfg = preset("cpu", model="stargan", steps=4, decay_start=2, batch_size=2, n_critic=1, log_every=1,
                 sample_every=1000, threads=1)
    trainer.Trainer(cfg, tmp_path, faces, progress=False).train()
    trainer.Trainer(None, tmp_path, faces, resume=True, steps=8, progress=False).train()
    lr = [float(r["lr_factor"]) for r in csv.DictReader(open(tmp_path / "log.csv"))]
    assert lr[:4] == [1.0, 1.0, 1.0, 0.5] and len(lr) == 8
    assert all(x >= y for x, y in zip(lr, lr[1:])), lr    # before: 1, 1, 1, 0.5, then 0.667 ...
    assert lr[4:] == pytest.approx([0.4, 0.3, 0.2, 0.1])


# ----------------------------------------------------------------------------- item 10
def test_data_order_depends_on_seed_and_epoch_independently():
    tensors = {"image": torch.zeros(32, 3, 2, 2, dtype=torch.uint8), "label": torch.arange(32)}

    def order(seed, epochs):
        s = trainer.BatchStream(tensors, 32, seed)
        return [s.next()["label"].tolist() for _ in range(epochs)]

    s0, s1 = order(0, 3), order(1, 3)
    assert s1[0] != s0[1] and s1[1] != s0[2]   # before: seed 1 replayed seed 0 one epoch later
    assert len({tuple(o) for o in s0 + s1}) == 6 and order(0, 3) == s0


# ----------------------------------------------------------------------------- item 8
def _rendered_photos(folder, identities=3, size=160, rafd_names=True):
    """Rendered faces saved as plain PNGs, no metadata: dlib has to find them."""
    from course_lib import facs, render

    rng = np.random.default_rng(0)
    ids = [render.sample_identity(rng) for _ in range(identities)]
    A = np.stack([render.expression_aus(e) for _ in ids for e in facs.EXPRESSIONS])
    imgs, _, _ = render.render_batch([i for i in ids for _ in facs.EXPRESSIONS], A, size)
    paths = []
    for k, img in enumerate(imgs):
        who, e = k // len(facs.EXPRESSIONS), facs.EXPRESSIONS[k % len(facs.EXPRESSIONS)]
        name = (f"Rafd090_{who + 1:02d}_Caucasian_female_{e}_frontal.png" if rafd_names
                else f"{e}/person{who}_{e}.png")
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(folder / name)
        paths.append(folder / name)
    return paths


@pytest.mark.slow
def test_preprocessed_real_layouts_train_lgp_gan_with_their_landmarks(tmp_path):
    """preprocess (dlib alignment + 68 landmarks) -> train --data DIR reads the landmarks (RaFD layout
    and a folder per expression), and LGP-GAN trains on them."""
    from course_lib import cli, facs
    from course_lib.config import preset

    _rendered_photos(tmp_path / "rafd")
    assert cli.main(["preprocess", "--in", str(tmp_path / "rafd"), "--out", str(tmp_path / "rafd_aligned")]) == 0
    _rendered_photos(tmp_path / "mine", identities=2, rafd_names=False)
    for e in facs.EXPRESSIONS:
        assert cli.main(["preprocess", "--in", str(tmp_path / "mine" / e), "--out", str(tmp_path / "mine_aligned" / e)]) == 0
    for data in ("rafd_aligned", "mine_aligned"):
        cfg = preset("cpu", data=str(tmp_path / data))
        ds = trainer.open_dataset(cfg, "all")
        assert len(ds) == (24 if data == "rafd_aligned" else 16)
        item = ds[0]
        stored = np.load(str(item["path"]).replace(".png", ".npz"))["landmarks"]  # 128x128 frame
        assert torch.isfinite(item["landmarks"]).all()
        assert np.allclose(item["landmarks"].numpy(), stored * 64 / 128, atol=1e-4)   # the 64x64 frame
        (tmp_path / "tiny.yaml").write_text("batch_size: 2\nn_critic: 1\nn_samples: 1\nthreads: 1\n")
        assert cli.main(["train", "--model", "lgp-gan", "--data", str(tmp_path / data), "--out",
                         str(tmp_path / f"run_{data}"), "--steps", "1", "--config", str(tmp_path / "tiny.yaml")]) == 0


# ----------------------------------------------------------------------------- item 11
def _synthetic_landmarks(size, identities=20):
    from course_lib import facs, render

    rng = np.random.default_rng(0)
    ids = [render.sample_identity(rng) for _ in range(identities)]
    A = np.stack([render.expression_aus(e) for _ in ids for e in facs.EXPRESSIONS])
    imgs, lms, _ = render.render_batch([i for i in ids for _ in facs.EXPRESSIONS], A, size, supersample=1)
    return imgs, torch.from_numpy(lms)


@pytest.mark.parametrize("size, rows", [(64, (3, 9)), (128, (6, 18))])
def test_lgp_boxes_overlap_as_documented_and_separate_removes_it(size, rows):
    from course_lib import regions

    _, lm = _synthetic_landmarks(size)
    b = regions.region_boxes(lm, "lgp", size)
    overlap = b["eye"][:, 0] + b["eye"][:, 2] - b["mouth"][:, 0]
    assert (overlap.min().item(), overlap.max().item()) == rows      # the figures in methods/lgp_gan.py
    eye, mouth = regions.separate_boxes(b["eye"], b["mouth"], size)
    assert (eye[:, 0] + eye[:, 2] <= mouth[:, 0]).all()               # no row belongs to both
    assert torch.equal(eye[:, 1:], b["eye"][:, 1:]) and torch.equal(mouth[:, 1:], b["mouth"][:, 1:])
    assert (eye[:, 0] >= 0).all() and (mouth[:, 0] + mouth[:, 2] <= size).all()
    for box, pts in ((eye, lm[:, 36:48, 1]), (mouth, lm[:, 48:68, 1])):  # the landmarks stay inside
        assert (pts >= box[:, :1]).all() and (pts <= (box[:, 0] + box[:, 2])[:, None]).all()


def test_lgp_paste_order_mouth_over_eye_and_the_separate_option():
    from course_lib import facs, methods
    from course_lib.images import unit_from_uint8

    imgs, lm = _synthetic_landmarks(64, identities=1)
    x = unit_from_uint8(torch.from_numpy(imgs).permute(0, 3, 1, 2))
    torch.manual_seed(0)
    m = methods.get("lgp-gan")(size="cpu")
    with torch.no_grad():
        r = m.translate(x, torch.arange(len(facs.EXPRESSIONS)), {"landmarks": lm})["raw"]
    boxes, checked = m.boxes(lm), 0
    for i in range(len(x)):
        et, _, eh, _ = boxes["eye"][i].tolist()
        mt, ml, mh, mw = boxes["mouth"][i].tolist()
        feather = m.nets["G"].feather
        if et + eh > mt + feather:  # overlap rows past the mouth paste's feathered border: G_mouth's output
            got = r["aggregated"][i, :, mt + feather:et + eh, ml + feather:ml + mw - feather]
            want = r["mouth_out"][i, :, feather:et + eh - mt, feather:mw - feather]
            assert torch.allclose(got, want, atol=1e-6)
            checked += 1
    assert checked
    sep = methods.get("lgp-gan")(methods.make_hyper("lgp-gan", {"region_overlap": "separate"}), size="cpu", build=False)
    b = sep.boxes(lm)
    assert (b["eye"][:, 0] + b["eye"][:, 2] <= b["mouth"][:, 0]).all()
    from course_lib.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match="region_overlap"):
        TrainConfig(hyper={"region_overlap": "blend"})
