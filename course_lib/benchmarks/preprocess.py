"""``python -m course_lib bench preprocess``: photos/s of detect + align + crop (the preprocess pipeline).

The photos are the two real ones that ship offline (``skimage.data.astronaut()``, 512x512,
and matplotlib's ``grace_hopper.jpg``, 512x600), decoded once and held in memory, so the
figure is the compute: dlib detection + 68-point landmarks, similarity alignment to
``--size`` and the LGP (eye, mouth) and EF-GAN (eyes, nose, mouth) region crops.  dlib's
HOG detector runs on one thread; the median of ``--repeats`` passes is reported.
"""
from __future__ import annotations

import statistics
import time

NAME = "preprocess"
HELP = "photos/s for dlib detect + align + region crops on the two offline real photos"


def add_arguments(parser):
    parser.add_argument("--repeats", type=int, default=5, help="timed passes over the photos (median; default 5)")
    parser.add_argument("--size", type=int, default=128, help="aligned crop size (default 128)")
    parser.add_argument("--cnn", action="store_true", help="dlib's CNN (MMOD) detector instead of HOG")


def _photos():
    import matplotlib.cbook
    import numpy as np
    from PIL import Image
    from skimage import data

    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        grace = np.asarray(im.convert("RGB"))
    return {"astronaut": data.astronaut(), "grace_hopper": grace}


def run(args) -> int:
    from course_lib import align, landmarks, regions
    from course_lib.benchmarks import machine_line

    photos = _photos()
    landmarks.largest_face(photos["astronaut"], cnn=args.cnn)        # warm-up: loads the dlib models
    stages = {"detect": [], "align": [], "crop": []}
    for _ in range(max(1, args.repeats)):
        t = dict.fromkeys(stages, 0.0)
        for im in photos.values():
            t0 = time.perf_counter()
            face, _ = landmarks.largest_face(im, cnn=args.cnn)
            t1 = time.perf_counter()
            a = align.align(im, face.landmarks, args.size)
            t2 = time.perf_counter()
            for method in ("lgp", "efgan"):
                for box in regions.region_boxes(a.landmarks, method, args.size).values():
                    regions.crop(a.image, box)
            t["detect"] += t1 - t0
            t["align"] += t2 - t1
            t["crop"] += time.perf_counter() - t2
        for k in stages:
            stages[k].append(t[k])
    n = len(photos)
    med = {k: statistics.median(v) for k, v in stages.items()}
    total = sum(med.values())
    print(f"preprocess ({'CNN/MMOD' if args.cnn else 'HOG'} detector, {args.size}x{args.size}, "
          f"{n} photos x {args.repeats} passes, median):")
    for k, v in med.items():
        print(f"  {k:7s} {1000 * v / n:8.1f} ms/photo")
    print(f"  total   {1000 * total / n:8.1f} ms/photo = {n / total:.2f} photos/s")
    print(machine_line())
    return 0
