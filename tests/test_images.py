"""course_lib.images: the one image loader, its errors and documented conversions."""
import numpy as np
import pytest
from PIL import Image

from course_lib import images
from course_lib.images import ImageError


@pytest.fixture
def rgb():
    return (np.arange(4 * 5 * 3).reshape(4, 5, 3) * 3 % 256).astype(np.uint8)


def test_rgb_round_trip(tmp_path, rgb):
    path = images.save_rgb(rgb, tmp_path / "a.png")
    assert np.array_equal(images.load_rgb(path), rgb)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]  # no temporary file left


@pytest.mark.parametrize("mode,what", [("L", "grayscale"), ("RGBA", "alpha"), ("CMYK", "CMYK"), ("I;16", "16-bit")])
def test_non_rgb_is_an_error_naming_the_file(tmp_path, mode, what):
    path = tmp_path / f"img_{mode.replace(';', '')}.{'jpg' if mode == 'CMYK' else 'png'}"
    Image.new(mode, (6, 4)).save(path)
    with pytest.raises(ImageError) as err:
        images.load_rgb(path)
    assert str(path) in str(err.value) and what in str(err.value)
    assert isinstance(err.value, images.ImageModeError) and err.value.mode == mode   # read, but refused


def test_read_rgb_reports_the_source_mode(tmp_path, rgb):
    images.save_rgb(rgb, tmp_path / "c.png")
    arr, mode = images.read_rgb(tmp_path / "c.png")
    assert mode == "RGB" and np.array_equal(arr, rgb)
    for m in ("L", "I;16", "RGBA"):
        Image.new(m, (6, 4)).save(tmp_path / "m.png")
        arr, mode = images.read_rgb(tmp_path / "m.png", convert=True)
        assert mode == m and arr.shape == (4, 6, 3) and arr.dtype == np.uint8
        assert f"(mode {m!r}) converted to 8-bit RGB" in images.conversion_note(mode)
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ImageError) as err:
        images.read_rgb(tmp_path / "bad.png", convert=True)
    assert not isinstance(err.value, images.ImageModeError)


def test_conversions(tmp_path):
    Image.fromarray(np.full((3, 3), 200, np.uint8)).save(tmp_path / "g.png")
    assert (images.load_rgb(tmp_path / "g.png", convert=True) == 200).all()
    a = np.zeros((2, 2, 4), np.uint8)
    a[..., 0] = 255
    a[0, 0, 3] = 255  # one opaque red pixel, the rest transparent -> white
    Image.fromarray(a, "RGBA").save(tmp_path / "a.png")
    out = images.load_rgb(tmp_path / "a.png", convert=True)
    assert out[0, 0].tolist() == [255, 0, 0] and out[1, 1].tolist() == [255, 255, 255]
    Image.fromarray(np.full((2, 2), 65535, np.uint16)).save(tmp_path / "h.png")
    assert (images.load_rgb(tmp_path / "h.png", convert=True) == 255).all()


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"])
def test_corrupt_files(tmp_path, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageError, match="bad.png"):
        images.load_rgb(path)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        images.load_rgb(tmp_path / "nope.png")
    with pytest.raises(ImageError, match="is a folder"):
        images.load_rgb(tmp_path)
    with pytest.raises(FileNotFoundError, match="no images found"):
        images.list_images(tmp_path)


def test_tensor_conversions(rgb):
    t = images.to_tensor(rgb)
    assert t.shape == (3, 4, 5) and float(t.min()) >= -1 and float(t.max()) <= 1
    assert float(t[0, 0, 0]) == pytest.approx(rgb[0, 0, 0] / 127.5 - 1)
    assert np.array_equal(images.to_uint8(t), rgb)
    assert images.to_uint8(t[None]).shape == (1, 4, 5, 3)


def test_save_rejects_wrong_arrays(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        images.save_rgb(np.zeros((2, 2, 3), np.float32), tmp_path / "x.png")
