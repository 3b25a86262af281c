"""``python -m course_lib preprocess``: aligned crops, landmarks cache, report, resume, originals untouched."""
import csv
import hashlib
import shutil

import numpy as np
import pytest
from PIL import Image

from course_lib import cli
from course_lib.images import load_rgb

from test_landmarks import PHOTOS


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    import matplotlib.cbook

    d = tmp_path_factory.mktemp("photos")
    Image.fromarray(PHOTOS["astronaut"]).save(d / "astronaut.png")
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), d / "grace.jpg")
    two = np.concatenate([PHOTOS["astronaut"][:300], PHOTOS["grace_hopper"][80:380]], axis=1)  # grace's face larger
    Image.fromarray(two).save(d / "two.png")
    Image.fromarray(np.full((200, 200, 3), 120, np.uint8)).save(d / "wall.png")
    Image.fromarray(PHOTOS["astronaut"][60:160, 160:260]).save(d / "small.png")
    Image.fromarray(PHOTOS["astronaut"][:, :, 0]).save(d / "gray.png")
    Image.fromarray(PHOTOS["astronaut"]).convert("RGBA").save(d / "rgba.png")
    Image.fromarray(PHOTOS["astronaut"]).convert("CMYK").save(d / "cmyk.jpg")
    (d / "corrupt.jpg").write_bytes((d / "grace.jpg").read_bytes()[:300])
    return d


def _state(folder):
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def _report(out):
    with open(out / "report.csv") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


def test_preprocess_folder_report_resume(photos, tmp_path, capsys):
    before = _state(photos)
    out = tmp_path / "out"
    # --no-convert: photos that are not 8-bit RGB are refused (read, so never "unreadable")
    assert cli.main(["preprocess", "--in", str(photos), "--out", str(out), "--no-convert"]) == 0
    rep = _report(out)
    expected = {"astronaut.png": "ok", "grace.jpg": "ok", "two.png": "several-faces", "wall.png": "no-face",
                "small.png": "too-small", "gray.png": "refused-mode", "rgba.png": "refused-mode",
                "cmyk.jpg": "refused-mode", "corrupt.jpg": "unreadable"}
    assert {k: v["status"] for k, v in rep.items()} == expected
    for f, word in (("gray.png", "grayscale"), ("rgba.png", "alpha"), ("cmyk.jpg", "CMYK"), ("corrupt.jpg", "corrupt"),
                    ("wall.png", "no face"), ("small.png", "smaller than the 128x128 crop")):
        assert f in rep[f]["message"] and word in rep[f]["message"]
    for f in ("gray.png", "rgba.png", "cmyk.jpg"):
        assert "--no-convert" in rep[f]["message"]
    assert rep["two.png"]["faces"] == "2"
    err = capsys.readouterr().err
    assert "two.png: 2 faces found" in err and "wall.png: no face" in err
    cache = np.load(out / "landmarks.npz")
    assert cache["names"].tolist() == ["astronaut", "grace", "two"] and cache["landmarks"].shape == (3, 68, 2)
    for i, name in enumerate(cache["names"]):
        img = load_rgb(out / "aligned" / f"{name}.png")
        lm = cache["landmarks"][i]
        assert img.shape == (128, 128, 3)
        assert abs(lm[36:42, 1].mean() - lm[42:48, 1].mean()) < 1e-3      # eyes level
    # several faces: the largest (grace, on the right half) was used
    src = cache["source_landmarks"][2]
    assert src[:, 0].min() > 512 and np.ptp(src[:, 0]) > 150      # grace, not the 90 px astronaut face
    # the stored matrix maps the photo's landmarks onto the aligned ones
    h = np.c_[cache["source_landmarks"], np.ones((3, 68, 1))] @ cache["matrix"].transpose(0, 2, 1)
    np.testing.assert_allclose(h[..., :2], cache["landmarks"], atol=1e-3)
    assert _state(photos) == before                                   # originals untouched
    done = {p.name: p.stat().st_mtime_ns for p in (out / "aligned").iterdir()}
    assert cli.main(["preprocess", "--in", str(photos), "--out", str(out), "--no-convert"]) == 0
    rep2 = _report(out)
    assert {k for k, v in rep2.items() if v["status"] == "skipped"} == {"astronaut.png", "grace.jpg", "two.png"}
    assert {p.name: p.stat().st_mtime_ns for p in (out / "aligned").iterdir()} == done   # nothing rewritten
    assert _state(photos) == before


def test_preprocess_converts_by_default(photos, tmp_path, capsys):
    """Grayscale (CK+, Oulu-CASIA NIR), 16-bit and RGBA photos are converted without a flag
    and reported as ``converted``; only a file that cannot be read is ``unreadable``."""
    src = tmp_path / "in"
    src.mkdir()
    for f in ("gray.png", "rgba.png", "corrupt.jpg"):
        shutil.copy(photos / f, src / f)
    gray = PHOTOS["astronaut"][:, :, 0]
    Image.fromarray(gray.astype(np.uint16) * 257).save(src / "gray16.png")      # same picture, 16-bit
    with Image.open(src / "gray16.png") as im16, Image.open(src / "gray.png") as im8, \
            Image.open(src / "rgba.png") as ima:
        assert (im16.mode, im8.mode, ima.mode) == ("I;16", "L", "RGBA")
    before = _state(src)
    out = tmp_path / "out"
    assert cli.main(["preprocess", "--in", str(src), "--out", str(out), "--size", "64"]) == 0
    rep = _report(out)
    assert {k: v["status"] for k, v in rep.items()} == {
        "gray.png": "converted", "gray16.png": "converted", "rgba.png": "converted", "corrupt.jpg": "unreadable"}
    for f, words in (("gray.png", ("8-bit grayscale", "mode 'L'")), ("gray16.png", ("16-bit grayscale", "mode 'I;16'")),
                     ("rgba.png", ("alpha", "mode 'RGBA'", "onto white"))):
        assert f in rep[f]["message"] and "converted to 8-bit RGB" in rep[f]["message"]
        assert all(w in rep[f]["message"] for w in words), rep[f]["message"]
        assert rep[f]["faces"] == "1"
    assert "gray16.png: 16-bit grayscale" in capsys.readouterr().err
    g8, g16 = (load_rgb(out / "aligned" / f"{n}.png") for n in ("gray", "gray16"))
    assert g8.shape == (64, 64, 3) and (g8 == g8[..., :1]).all()         # gray replicated
    assert np.array_equal(g8, g16)                                      # 16-bit scaled back exactly
    assert np.load(out / "landmarks.npz")["names"].tolist() == ["gray", "gray16", "rgba"]
    assert _state(src) == before                                        # originals untouched
    # --convert (the default) is still accepted; with --force the files are converted again
    assert cli.main(["preprocess", "--in", str(src), "--out", str(out), "--size", "64", "--convert", "--force"]) == 0
    assert [v["status"] for v in _report(out).values()].count("converted") == 3


def test_preprocess_refuses_bad_folders(photos, tmp_path):
    for out in (photos, photos / "sub"):
        with pytest.raises(SystemExit, match="must not be --in"):
            cli.main(["preprocess", "--in", str(photos), "--out", str(out)])
    with pytest.raises(SystemExit, match="nowhere: no such folder"):
        cli.main(["preprocess", "--in", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no images found"):
        cli.main(["preprocess", "--in", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert not (photos / "sub").exists()
