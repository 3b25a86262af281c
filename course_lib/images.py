"""Reading and writing images with clear errors (one loader for every dataset and command).

Policy (documented conversions, never a silent skip):

* 8-bit RGB: returned as is.
* grayscale (L, LA, 1, I;16, I, F): an error by default; with ``convert=True`` the gray
  channel is replicated to RGB (16-bit/32-bit values are rescaled to 0..255).  The
  ``preprocess`` command converts by default (CK+ and Oulu-CASIA are grayscale / NIR) and
  reports it; ``--no-convert`` refuses.
* RGBA / LA / P with transparency: an error by default; with ``convert=True`` the alpha is
  composited onto white.
* CMYK / YCbCr / palette: an error by default; ``convert=True`` converts with Pillow.
* 16-bit RGB (PNG, TIFF): an error by default; ``convert=True`` keeps the top 8 bits.
* a missing path, a folder, a file Pillow cannot decode (corrupt, truncated, not an
  image): always an :class:`ImageError` naming the file.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")


class ImageError(ValueError):
    """An image file that cannot be used, with the file's path in the message."""


class ImageModeError(ImageError):
    """An image that was read but is not 8-bit RGB, refused because ``convert=False``
    (``mode`` is Pillow's mode of the file, e.g. ``'L'``, ``'I;16'``, ``'RGBA'``)."""

    def __init__(self, message: str, mode: str):
        super().__init__(message)
        self.mode = mode


def load_rgb(path: str | os.PathLike, convert: bool = False) -> np.ndarray:
    """Read ``path`` as an 8-bit RGB array of shape (H, W, 3).

    ``convert=False`` (default) raises :class:`ImageModeError` (an :class:`ImageError`) for
    anything that is not 8-bit RGB, naming the file and the mode found; ``convert=True``
    applies the conversions in the module docstring.
    """
    return read_rgb(path, convert)[0]


def read_rgb(path: str | os.PathLike, convert: bool = False) -> tuple[np.ndarray, str]:
    """:func:`load_rgb` that also returns the file's Pillow mode (``'RGB'`` when nothing was
    converted), so callers can report a conversion (see :func:`conversion_note`)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, expected an image file")
    try:
        with Image.open(path) as img:
            img.load()
            mode = img.mode
            array16 = np.asarray(img) if mode in ("I;16", "I;16B", "I;16L", "I", "F") else None
            if mode == "RGB":
                return np.asarray(img, dtype=np.uint8).copy(), mode
            if not convert:
                raise ImageModeError(
                    f"{path}: image mode {mode!r} ({_describe(mode)}); expected 8-bit RGB. "
                    "Convert it, or pass convert=True to use the documented conversion.", mode)
            if array16 is not None:
                a = array16.astype(np.float64)
                scale = 65535.0 if mode.startswith("I;16") else max(float(a.max()), 1.0)
                gray = np.clip(a / scale * 255.0, 0, 255).astype(np.uint8)
                return np.repeat(gray[..., None], 3, axis=2), mode
            if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
                rgba = img.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"), dtype=np.uint8).copy(), mode
            return np.asarray(img.convert("RGB"), dtype=np.uint8).copy(), mode
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageError(f"{path}: cannot read image ({type(err).__name__}: {err}); "
                         "the file is corrupt, truncated or not an image") from err


def conversion_note(mode: str) -> str:
    """What :func:`read_rgb` with ``convert=True`` did to an image of Pillow ``mode``."""
    how = {"L": "gray replicated to R, G, B", "1": "black and white replicated to R, G, B",
           "I;16": "gray scaled from 0..65535 to 0..255 and replicated",
           "I;16B": "gray scaled from 0..65535 to 0..255 and replicated",
           "I;16L": "gray scaled from 0..65535 to 0..255 and replicated",
           "I": "gray scaled from 0..max to 0..255 and replicated",
           "F": "gray scaled from 0..max to 0..255 and replicated",
           "RGBA": "alpha composited onto white", "LA": "alpha composited onto white, gray replicated",
           "PA": "alpha composited onto white", "CMYK": "converted by Pillow", "YCbCr": "converted by Pillow",
           "P": "palette expanded"}.get(mode, "converted by Pillow")
    return f"{_describe(mode)} (mode {mode!r}) converted to 8-bit RGB: {how}"


def _describe(mode: str) -> str:
    return {
        "L": "8-bit grayscale", "1": "1-bit black and white", "LA": "grayscale with alpha",
        "I;16": "16-bit grayscale", "I;16B": "16-bit grayscale", "I;16L": "16-bit grayscale", "I": "32-bit grayscale",
        "F": "32-bit float grayscale", "RGBA": "RGB with alpha", "CMYK": "CMYK",
        "P": "palette", "PA": "palette with alpha", "YCbCr": "YCbCr",
    }.get(mode, "not 8-bit RGB")


def save_rgb(array: np.ndarray, path: str | os.PathLike) -> Path:
    """Write an (H, W, 3) uint8 array atomically (temporary file + rename); return the path."""
    from PIL import Image

    path = Path(path)
    array = np.asarray(array)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"save_rgb({path}): expected an (H, W, 3) uint8 array, got {array.dtype} {array.shape}")
    from course_lib.checkpoint import atomic_write

    return atomic_write(path, lambda f: Image.fromarray(array).save(f, format=_format_of(path)))


def _format_of(path: Path) -> str:
    ext = path.suffix.lower()
    return {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".tif": "TIFF",
            ".tiff": "TIFF", ".webp": "WEBP", ".ppm": "PPM"}.get(ext, "PNG")


def to_tensor(array: np.ndarray):
    """(H, W, 3) uint8 -> float tensor (3, H, W) in [-1, 1] (the course's image convention)."""
    import torch

    return unit_from_uint8(torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1))


def to_uint8(tensor) -> np.ndarray:
    """Float tensor (3, H, W) or (B, 3, H, W) in [-1, 1] -> uint8 (H, W, 3) or (B, H, W, 3)."""
    t = uint8_from_unit(tensor.detach().cpu())
    return (t.permute(0, 2, 3, 1) if t.ndim == 4 else t.permute(1, 2, 0)).numpy()


def unit_from_uint8(tensor):
    """uint8 tensor in [0, 255] -> float tensor in [-1, 1] (the course's image range): x / 127.5 - 1."""
    return tensor.float().div(127.5).sub(1.0)


def uint8_from_unit(tensor):
    """Float tensor in [-1, 1] -> uint8 tensor (clamped, rounded): (x + 1) * 127.5."""
    import torch

    return torch.as_tensor(tensor).detach().float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Sorted image files directly in ``folder``; a clear error for a missing or image-less folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"{folder}: no images found (looked for {', '.join(IMAGE_SUFFIXES)})")
    return files
