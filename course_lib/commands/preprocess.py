"""``python -m course_lib preprocess --in PHOTOS --out DIR``: aligned face crops + a landmarks cache.

For every image directly in PHOTOS (LGP-GAN IV.B preprocessing: dlib landmarks, aligned
and cropped to 128x128): detect the face (dlib HOG, ``--cnn`` for MMOD), take the largest
when there are several (with a warning), align it (:func:`course_lib.align.align`) and write

* ``DIR/aligned/<stem>.png``: the aligned crop (PNG, lossless);
* ``DIR/aligned/<stem>.npz``: ``landmarks`` (68, 2) float32 in the aligned frame,
  ``source_landmarks`` (68, 2) in the photo, ``matrix`` (3, 3) the photo -> aligned
  similarity (written last and atomically: its presence marks the image as done, so a
  second run skips it; ``--force`` redoes everything);
* ``DIR/landmarks.npz``: the cache of all done images, rebuilt at the end of every run:
  ``names`` (N,), ``landmarks`` (N, 68, 2), ``source_landmarks`` (N, 68, 2) and
  ``matrix`` (N, 3, 3), sorted by name;
* ``DIR/report.csv``: one row per input file: ``file, status, faces, message`` with
  status ``ok``, ``converted`` (not 8-bit RGB, converted and aligned; the message says
  from what and how), ``skipped`` (done before), ``several-faces`` (largest used),
  ``no-face``, ``too-small``, ``refused-mode`` (not 8-bit RGB and ``--no-convert``) or
  ``unreadable`` (missing, corrupt or not an image: only files that could not be read);
  the message of any other status also says when the photo was converted.

Grayscale (8- or 16-bit), RGBA, palette and CMYK photos are converted to 8-bit RGB by
default (CK+ and Oulu-CASIA, the landmark-guided GAN's datasets, are grayscale / NIR), with
the conversions of :mod:`course_lib.images`; ``--no-convert`` refuses them instead
(``refused-mode``).  ``--convert`` is the default and is kept for compatibility.

Originals are only read (never written, moved or touched); DIR may not be PHOTOS, lie
inside it or contain it.  Two inputs with the same stem (``a.jpg``, ``a.png``) get
``a_jpg`` / ``a_png`` as output stems.
"""
from __future__ import annotations

import csv
import sys
import warnings
from collections import Counter
from pathlib import Path

STATUSES = ("ok", "converted", "skipped", "several-faces", "no-face", "too-small", "refused-mode", "unreadable")
#: statuses of the files whose aligned crop is in DIR/aligned after the run
DONE = ("ok", "converted", "skipped", "several-faces")


def register(sub):
    import argparse

    p = sub.add_parser("preprocess", help="detect, align and crop faces in a folder of photos (dlib)",
                       description=__doc__.split("\n\n", 1)[1], formatter_class=_raw())
    p.add_argument("--in", dest="input", type=Path, required=True, help="folder of photos (read only)")
    p.add_argument("--out", type=Path, required=True, help="output folder (not inside --in)")
    p.add_argument("--size", type=int, default=128, help="aligned crop size in pixels (default 128, the papers')")
    p.add_argument("--cnn", action="store_true", help="use dlib's CNN (MMOD) face detector instead of HOG (slower)")
    p.add_argument("--upsample", type=int, default=None,
                   help="dlib upsampling (default: 0, retried at 1 when no face is found)")
    p.add_argument("--convert", action=argparse.BooleanOptionalAction, default=True,
                   help="convert grayscale / 16-bit / RGBA / CMYK images to 8-bit RGB (the default; "
                        "reported as 'converted'); --no-convert refuses them (reported as 'refused-mode')")
    p.add_argument("--force", action="store_true", help="redo images that are already done")
    p.set_defaults(func=run)


def _raw():
    import argparse
    return argparse.RawDescriptionHelpFormatter


def _check_folders(inp: Path, out: Path) -> None:
    if not inp.is_dir():
        raise SystemExit(f"preprocess: --in {inp}: no such folder")
    a, b = inp.resolve(), out.resolve()
    if a == b or a in b.parents or b in a.parents:
        raise SystemExit(f"preprocess: --out {out} must not be --in {inp}, lie inside it or contain it "
                         "(originals are never written to)")
    if out.exists() and not out.is_dir():
        raise SystemExit(f"preprocess: --out {out}: exists and is not a folder")


def output_stems(files: list[Path]) -> dict[Path, str]:
    """Output stem of each input: its stem, or ``stem_ext`` when two inputs share a stem."""
    count = Counter(f.stem for f in files)
    return {f: f.stem if count[f.stem] == 1 else f"{f.stem}_{f.suffix.lstrip('.').lower()}" for f in files}


_FIELDS = ("landmarks", "source_landmarks", "matrix")


def _save_npz(path: Path, **arrays) -> None:
    import numpy as np

    from course_lib.checkpoint import atomic_write

    atomic_write(path, lambda f: np.savez(f, **arrays))


def process_one(path: Path, dest: Path, size: int, cnn: bool, upsample, convert: bool = True
                ) -> tuple[str, int, str]:
    """Align one photo into ``dest``.png / .npz; returns (status, faces, message)."""
    import numpy as np

    from course_lib import align, landmarks
    from course_lib.images import ImageError, ImageModeError, conversion_note, read_rgb, save_rgb

    try:
        image, mode = read_rgb(path, convert=convert)
    except ImageModeError as err:
        return "refused-mode", 0, f"{err} Refused because of --no-convert (without it, it is converted)."
    except ImageError as err:
        return "unreadable", 0, str(err)
    note = f"{path}: {conversion_note(mode)}" if mode != "RGB" else ""
    and_note = f"; {note}" if note else ""
    if min(image.shape[:2]) < size:
        return "too-small", 0, (f"{path}: image is {image.shape[1]}x{image.shape[0]} px, smaller than the "
                                f"{size}x{size} crop{and_note}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            face, n = landmarks.largest_face(image, cnn=cnn, upsample=upsample, name=str(path))
    except landmarks.FaceNotFoundError as err:
        return "no-face", 0, f"{err}{and_note}"
    out = align.align(image, face.landmarks, size)
    save_rgb(out.image, dest.with_suffix(".png"))
    _save_npz(dest.with_suffix(".npz"), landmarks=out.landmarks, source_landmarks=face.landmarks,
              matrix=out.transform.params.astype(np.float64))
    if n > 1:
        return "several-faces", n, f"{path}: {n} faces found; used the largest{and_note}"
    return ("converted", 1, note) if note else ("ok", 1, "")


def write_cache(aligned_dir: Path, cache: Path) -> int:
    """Rebuild ``landmarks.npz`` from every ``<stem>.npz`` with its ``.png``; returns the count."""
    import numpy as np

    names = sorted(p.stem for p in aligned_dir.glob("*.npz") if p.with_suffix(".png").exists())
    per = [np.load(aligned_dir / f"{n}.npz") for n in names]
    empty = {"landmarks": (0, 68, 2), "source_landmarks": (0, 68, 2), "matrix": (0, 3, 3)}
    arrays = {k: np.stack([p[k] for p in per]) if per else np.zeros(empty[k]) for k in _FIELDS}
    _save_npz(cache, names=np.array(names, dtype=str), **arrays)
    return len(names)


def preprocess_folder(inp: Path, out: Path, size: int = 128, cnn: bool = False, upsample=None,
                      convert: bool = True, force: bool = False, progress: bool = True) -> list[dict]:
    """Run the whole command on a folder; returns the report rows (also written to ``report.csv``)."""
    from tqdm.auto import tqdm

    from course_lib.images import list_images

    inp, out = Path(inp), Path(out)
    _check_folders(inp, out)
    if int(size) != size or size < 32:
        raise SystemExit(f"preprocess: --size {size}: expected an integer >= 32")
    try:
        files = list_images(inp)
    except FileNotFoundError as err:
        raise SystemExit(f"preprocess: --in {err}") from None
    stems = output_stems(files)
    aligned = out / "aligned"
    aligned.mkdir(parents=True, exist_ok=True)
    rows = []
    bar = tqdm(files, desc="preprocess", unit="photo", disable=not progress)
    for f in bar:
        dest = aligned / stems[f]
        if not force and dest.with_suffix(".npz").exists() and dest.with_suffix(".png").exists():
            status, n, msg = "skipped", 1, "done in an earlier run"
        else:
            status, n, msg = process_one(f, dest, size, cnn, upsample, convert)
        if status == "converted":
            bar.write(f"note: {msg}", file=sys.stderr)
        elif status not in ("ok", "skipped"):
            bar.write(f"warning: {msg}", file=sys.stderr)
        rows.append({"file": f.name, "status": status, "faces": n, "message": msg})
    with open(out / "report.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["file", "status", "faces", "message"])
        w.writeheader()
        w.writerows(rows)
    write_cache(aligned, out / "landmarks.npz")
    return rows


def run(args) -> int:
    rows = preprocess_folder(args.input, args.out, args.size, args.cnn, args.upsample, args.convert, args.force)
    counts = Counter(r["status"] for r in rows)
    print(", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) + f" (of {len(rows)} files)")
    print(f"aligned crops: {args.out / 'aligned'}; landmarks cache: {args.out / 'landmarks.npz'}; "
          f"report: {args.out / 'report.csv'}")
    done = sum(counts[s] for s in DONE)
    return 0 if done else 1
