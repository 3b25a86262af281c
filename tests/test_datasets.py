"""Tests of course_lib.datasets: synthetic set, build-synthetic, RaFD and folder loaders, bad input."""
import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from course_lib import facs
from course_lib.cli import main
from course_lib.datasets import (ExpressionFolder, RaFDFolder, SyntheticFaces, SyntheticFolder, build_synthetic,
                                 parse_rafd_name, split_identities)
from course_lib.images import ImageError

SIZE = 32


def _check_item(item, size):
    assert item["image"].shape == (3, size, size) and item["image"].dtype == torch.float32
    assert -1.0 <= item["image"].min() and item["image"].max() <= 1.0
    assert isinstance(item["label"], int) and 0 <= item["label"] < 8
    assert item["landmarks"].shape == (68, 2)


def test_split_is_by_identity_and_90_10():
    names = [f"{i:03d}" for i in range(50)]
    tr, te = split_identities(names, "train", 3), split_identities(names, "test", 3)
    assert not set(tr) & set(te) and set(tr) | set(te) == set(names) and len(te) == 5
    assert te == split_identities(names, "test", 3) and te != split_identities(names, "test", 4)
    with pytest.raises(ValueError, match="split"):
        split_identities(names, "val")


def test_synthetic_faces():
    tr, te = SyntheticFaces(20, SIZE, seed=1, split="train"), SyntheticFaces(20, SIZE, seed=1, split="test")
    assert len(tr) == 18 * 8 and len(te) == 2 * 8
    assert not set(tr.identities) & set(te.identities)
    assert np.bincount(tr.labels, minlength=8).tolist() == [18] * 8
    i = te.find(te.identities[1], "happy")
    item = te[i]
    _check_item(item, SIZE)
    assert item["label"] == facs.expression_index("happy") and item["identity"] == te.identities[1]
    assert item["path"] == "" and item["aus"][facs.AU_NUMBERS.index(12)] > 0.5
    assert torch.isfinite(item["landmarks"]).all()
    again = SyntheticFaces(20, SIZE, seed=1, split="test")[i]              # same seed, same item
    assert torch.equal(again["image"], item["image"])
    assert not torch.equal(SyntheticFaces(20, SIZE, seed=2, split="test")[i]["image"], item["image"])
    # the same identity under two expressions: same person, different face
    j = te.find(te.identities[1], "sad")
    assert te[j]["identity"] == item["identity"] and not torch.equal(te[j]["image"], item["image"])
    with pytest.raises(KeyError, match="no image of identity"):
        te.find(tr.identities[0], "happy")
    batch = next(iter(torch.utils.data.DataLoader(te, batch_size=4)))
    assert batch["image"].shape == (4, 3, SIZE, SIZE) and batch["landmarks"].shape == (4, 68, 2)


def test_build_synthetic_and_folder(tmp_path):
    out = tmp_path / "synth"
    build_synthetic(out, identities=3, size=SIZE, seed=5, progress=False)
    files = sorted(p.name for p in out.glob("*.png"))
    assert len(files) == 24
    assert all(re.fullmatch(r"Synth090_\d{3}_[a-z]+_frontal\.png", f) for f in files)
    assert {f.split("_")[2] for f in files} == set(facs.EXPRESSIONS)
    meta = json.loads((out / "metadata.json").read_text())
    splits = {r["identity"]: r["split"] for r in meta["records"]}
    assert sorted(splits.values()).count("test") == 1
    for split in ("train", "test"):
        folder, fly = SyntheticFolder(out, split), SyntheticFaces(3, SIZE, seed=5, split=split)
        assert len(folder) == len(fly) and folder.identities == fly.identities
        assert np.array_equal(folder.labels, fly.labels)
        k = folder.find(folder.identities[0], "surprised")
        a, b = folder[k], fly[fly.find(folder.identities[0], "surprised")]
        assert torch.equal(a["image"], b["image"])                       # PNG is lossless
        assert torch.allclose(a["landmarks"], b["landmarks"], atol=1e-3)
        assert torch.allclose(a["aus"], b["aus"], atol=1e-5) and a["path"].endswith(".png")
    # idempotent: a second build changes nothing
    stamp = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    build_synthetic(out, identities=3, size=SIZE, seed=5, progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == stamp
    # two processes write the same bytes
    par = build_synthetic(tmp_path / "par", identities=3, size=SIZE, seed=5, progress=False, workers=2)
    assert all((par / f).read_bytes() == (out / f).read_bytes() for f in files + ["metadata.json"])
    # other parameters in its own folder: rebuilt, no stale files
    build_synthetic(out, identities=2, size=SIZE, seed=5, progress=False)
    assert len(list(out.glob("*.png"))) == 16 and len(SyntheticFolder(out, "all")) == 16


def test_build_refuses_foreign_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("precious")
    with pytest.raises(FileExistsError, match=str(tmp_path)):
        build_synthetic(tmp_path, identities=2, size=SIZE, progress=False)
    assert (tmp_path / "mine.txt").read_text() == "precious" and not list(tmp_path.glob("*.png"))
    build_synthetic(tmp_path, identities=2, size=SIZE, force=True, progress=False)
    assert len(list(tmp_path.glob("*.png"))) == 16 and (tmp_path / "mine.txt").read_text() == "precious"
    with pytest.raises(FileNotFoundError, match="build-synthetic"):
        SyntheticFolder(tmp_path / "nothing")


def test_cli_build_and_grid(tmp_path, capsys):
    assert main(["data", "build-synthetic", "--out", str(tmp_path / "d"), "--identities", "2", "--size", "32"]) == 0
    assert len(list((tmp_path / "d").glob("*.png"))) == 16
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "a.txt").write_text("1")
    assert main(["data", "build-synthetic", "--out", str(tmp_path / "x"), "--identities", "2", "--size", "32"]) == 2
    assert "not created by build_synthetic" in capsys.readouterr().out
    grid = tmp_path / "g.png"
    assert main(["data", "grid", "--out", str(grid), "--identities", "1", "--size", "32"]) == 0
    assert Image.open(grid).size == (8 * 34 + 2, 36)
    assert main(["data", "grid", "--out", str(grid), "--identities", "1", "--size", "32"]) == 2


def _save(path, mode="RGB", size=(40, 30), value=120):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode != "RGB" else (value, 60, 30)).save(path)
    return path


def _rafd(root, subjects=("01", "02", "03", "04", "05", "06", "07", "08", "09", "10")):
    for s in subjects:
        for e in ("angry", "happy", "contemptuous"):
            for cam in ("045", "090", "135"):
                _save(root / f"Rafd{cam}_{s}_Caucasian_female_{e}_frontal.jpg")
        _save(root / f"Rafd090_{s}_Moroccan_male_sad_left.jpg")


def test_parse_rafd_name():
    d = parse_rafd_name("x/Rafd090_01_Caucasian_female_angry_frontal.jpg")
    assert d == {"camera": 90, "subject": "01", "ethnicity": "Caucasian", "gender": "female",
                 "expression": "angry", "label": 0, "gaze": "frontal"}
    with pytest.raises(ValueError, match="Rafd090_01_Caucasian_female_bored_frontal.jpg.*valid expressions"):
        parse_rafd_name("Rafd090_01_Caucasian_female_bored_frontal.jpg")
    with pytest.raises(ValueError, match="holiday.jpg: not a RaFD file name"):
        parse_rafd_name("holiday.jpg")


def test_rafd_folder(tmp_path):
    _rafd(tmp_path)
    tr, te = RaFDFolder(tmp_path, "train", size=SIZE), RaFDFolder(tmp_path, "test", size=SIZE)
    assert len(tr) + len(te) == 10 * 4 and len(te) == 4                # 90 degree camera only
    assert not {i["identity"] for i in (te[k] for k in range(len(te)))} & {d["subject"] for _, d in tr.items}
    item = tr[0]
    _check_item(item, SIZE)
    assert torch.isnan(item["landmarks"]).all() and "Rafd090_" in item["path"]
    assert sorted(set(tr.labels.tolist())) == sorted(facs.expression_index(e) for e in ("angry", "happy", "contemptuous", "sad"))
    assert len(RaFDFolder(tmp_path, "all", cameras=(45, 90, 135))) == 10 * 10
    by_image = RaFDFolder(tmp_path, "test", split_by="image")
    assert len(by_image) == 4 and len({d["subject"] for _, d in by_image.items}) >= 1
    batch = next(iter(torch.utils.data.DataLoader(tr, batch_size=3)))
    assert batch["image"].shape == (3, 3, SIZE, SIZE)


def test_rafd_bad_input(tmp_path):
    _save(tmp_path / "Rafd090_01_Caucasian_female_bored_frontal.jpg")
    with pytest.raises(ValueError, match="bored"):
        RaFDFolder(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="empty: no images"):
        RaFDFolder(empty)
    only_side = tmp_path / "side"
    _save(only_side / "Rafd045_01_Caucasian_female_angry_frontal.jpg")
    with pytest.raises(FileNotFoundError, match="camera"):
        RaFDFolder(only_side)


@pytest.mark.parametrize("kind", ["corrupt", "gray", "rgba", "gray16"])
def test_bad_images_raise_naming_the_file(tmp_path, kind):
    root = tmp_path / "happy"
    _save(root / "ok.png")
    bad = root / "bad.png"
    if kind == "corrupt":
        bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    elif kind == "gray":
        _save(bad, "L")
    elif kind == "rgba":
        _save(bad, "RGBA", value=(1, 2, 3, 100))
    else:
        Image.fromarray(np.full((20, 20), 40000, np.uint16)).save(bad)
    ds = ExpressionFolder(tmp_path, size=SIZE)
    assert len(ds) == 2                                                  # never skipped
    k = [p.name for p, _ in ds.items].index("bad.png")
    with pytest.raises(ImageError, match="bad.png"):
        ds[k]
    if kind != "corrupt":                                                # the documented conversion
        _check_item(ExpressionFolder(tmp_path, size=SIZE, convert=True)[k], SIZE)


def test_expression_folder(tmp_path):
    for name, n in (("happy", 2), ("sadness", 3), ("neutral", 1)):
        for i in range(n):
            _save(tmp_path / name / f"p{i}.png", size=(50, 40))
    ds = ExpressionFolder(tmp_path, size=SIZE)
    assert sorted(ds.labels.tolist()) == sorted([4, 4, 6, 6, 6, 5])
    _check_item(ds[0], SIZE)
    assert ExpressionFolder(tmp_path, size=None)[0]["image"].shape == (3, 40, 50)
    (tmp_path / "bored").mkdir()
    _save(tmp_path / "bored" / "x.png")
    with pytest.raises(ValueError, match="bored.*valid expressions"):
        ExpressionFolder(tmp_path)
    (tmp_path / "bored" / "x.png").unlink()
    (tmp_path / "bored").rename(tmp_path / "angry")
    with pytest.raises(FileNotFoundError, match="angry: no images"):
        ExpressionFolder(tmp_path)
    with pytest.raises(FileNotFoundError, match="no expression sub-folders"):
        ExpressionFolder(tmp_path / "neutral")
