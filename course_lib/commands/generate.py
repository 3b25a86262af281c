"""``python -m course_lib generate``: apply a trained model to a photo.

    python -m course_lib generate --checkpoint runs/main --image photo.jpg --target happy --out happy.png
    python -m course_lib generate --checkpoint 200000-G.ckpt --image photo.jpg --target all --out grid.png

``--checkpoint``: a run folder, one of its checkpoints, or a StarGAN generator checkpoint in
the official format (yunjey/stargan's solver trained on RaFD, c_dim=8; the published CelebA
generators have c_dim=5 attributes and are refused).  The face is detected and aligned with dlib
first (:func:`course_lib.align.align_face`, at the model's image size), unless ``--aligned``
says the image already is a square aligned crop (it is then resized to the model's size;
LGP-GAN still runs dlib on it for its eye and mouth landmarks).  ``--target all`` writes
one row: the aligned input, then the 8 expressions in ``facs.EXPRESSIONS`` order.
"""
from __future__ import annotations

from pathlib import Path


def register(sub):
    p = sub.add_parser("generate", help="translate a photo to a target expression with a trained model")
    p.add_argument("--checkpoint", type=Path, required=True,
                   help="run folder, checkpoint .pt, or official StarGAN *-G.ckpt")
    p.add_argument("--image", type=Path, required=True, help="a photo (RGB)")
    p.add_argument("--target", required=True, help="an expression name (e.g. happy) or 'all' for a grid of the 8")
    p.add_argument("--aligned", action="store_true", help="the image is already a square aligned face crop")
    p.add_argument("--out", type=Path, required=True, help="output PNG")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.set_defaults(func=run)


def prepare_photo(image, size: int, aligned: bool, needs_landmarks: bool, name: str = "image"):
    """(H,W,3) uint8 -> (aligned uint8 (size,size,3), landmarks (68,2) float32 or None)."""
    import numpy as np
    from PIL import Image

    from course_lib import align, landmarks

    image = np.asarray(image)
    if not aligned:
        a = align.align_face(image, size=size, name=name)
        return a.image, a.landmarks
    h, w = image.shape[:2]
    if h != w:
        raise ValueError(f"{name}: --aligned expects a square aligned face crop, got {w}x{h} px; "
                         "drop --aligned to detect and align the face")
    lm = landmarks.landmarks(image, name=name) * (size / h) if needs_landmarks else None  # before resizing
    if h != size:
        image = np.array(Image.fromarray(image).resize((size, size), Image.LANCZOS))
    return image, lm


def translate_photo(translator, image, target: str, aligned: bool = False, name: str = "image"):
    """Translate a photo: a uint8 (S, S, 3) image for one target, or a (S, 9S, 3) row for 'all'."""
    import numpy as np
    import torch

    from course_lib import facs
    from course_lib.images import to_tensor, to_uint8

    targets = list(range(len(facs.EXPRESSIONS))) if target == "all" else [facs.expression_index(target)]
    face, lm = prepare_photo(image, translator.image_size, aligned, translator.needs_landmarks, name)
    x = to_tensor(face)[None].expand(len(targets), -1, -1, -1)
    lms = None if lm is None else torch.as_tensor(lm)[None].expand(len(targets), -1, -1)
    out = to_uint8(translator(x, torch.tensor(targets), lms))
    return np.concatenate([face, *out], axis=1) if target == "all" else out[0]


def run(args) -> int:
    import sys

    from course_lib.images import ImageError, load_rgb, save_rgb
    from course_lib.trainer import load_translator

    if args.out.exists() and not args.force:
        print(f"error: {args.out} exists; choose another --out or pass --force", file=sys.stderr)
        return 2
    try:
        translator = load_translator(args.checkpoint, device=args.device)
        result = translate_photo(translator, load_rgb(args.image), args.target, args.aligned, str(args.image))
    except (ImageError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    save_rgb(result, args.out)
    print(f"{args.out}: {args.target} by {translator.model_name} ({result.shape[1]}x{result.shape[0]} px)")
    return 0
