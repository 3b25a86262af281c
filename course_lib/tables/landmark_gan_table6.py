"""``python -m course_lib reproduce landmark-table6``: the landmark-guided GAN's Table 6 (identity preservation).

Li, Qi and Sun 2021, Table 6: face verification with gallery = untransformed images and probe
= transformed results; Rank-1 identification rate and the true accept rate at 1 % and 0.1 %
false accept rate, with two recognisers (VGG-Face, Light CNN).  Ours, with **one recogniser**
instead of two: dlib's face-recognition ResNet descriptors (:class:`course_lib.metrics.FaceDescriptors`,
shipped with ``face_recognition_models``; VGG-Face and Light CNN weights are not available
offline).  Gallery: the neutral face of each synthetic test identity.  Probes: those neutral
faces translated by ``landmark-gan`` to the 7 other expressions (target landmarks: the
ground truth of the same identity, and, second row, from the label only); the "original" row
uses the real images of those expressions as probes, as the paper's "original" row does.
Measures: :func:`course_lib.landmark_gan.verification_scores`.
"""
from __future__ import annotations

NAME = "landmark-table6"
HELP = ("Landmark-guided GAN (Li et al. 2021) Table 6: identity preservation as face verification with dlib's "
        "descriptor (Rank-1, TAR at FAR 1 and 0.1 per cent), gallery = untransformed test faces")

PAPER = [("original (the paper)", 100, 75.54, 48.30, 100, 79.86, 59.57),
         ("C-GAN (the paper)", 71.33, 52.50, 19.97, 75.21, 48.45, 36.91),
         ("ExprGAN (the paper)", 62.31, 44.69, 13.27, 67.49, 49.31, 26.40),
         ("our method (the paper)", 82.13, 58.45, 21.64, 84.62, 63.86, 44.17)]


def add_arguments(parser) -> None:
    from course_lib import landmark_gan_runs as common

    common.add_common_arguments(parser)


def run(args) -> int:
    import time

    import torch

    from course_lib import evaluate, facs, landmark_gan as lg, metrics
    from course_lib import landmark_gan_runs as common
    from course_lib.tables import write_table

    t0 = time.perf_counter()
    model = common.from_args(args, "full")
    tr = model["translator"]
    _, test = common.splits(tr)
    neutral = facs.expression_index("neutral")
    gallery_idx = torch.nonzero(test.labels == neutral).flatten()
    src = gallery_idx.repeat_interleave(len(facs.EXPRESSIONS) - 1)
    tgt = torch.tensor([t for _ in gallery_idx for t in range(len(facs.EXPRESSIONS)) if t != neutral])
    gt = common.truth_index(test, src, tgt)
    gen = common.translate(tr, test, src, tgt, test.landmarks[gt])
    fb = evaluate.translate(tr, evaluate.Split(test.images[src], test.labels[src], test.landmarks[src], None, []),
                            tgt, desc="translating (target landmarks from the label)")
    hwc = lambda t: t.permute(0, 2, 3, 1).numpy()
    describe = metrics.FaceDescriptors()
    ids = lambda idx: [test.identities[int(i)] for i in idx]
    gallery = describe(hwc(test.images[gallery_idx]))
    probe_ids = ids(src)
    rows = [[name, *vals] for name, *vals in PAPER]
    measured = {}
    for label, images in (("original: the real target images (ours)", test.images[gt]),
                          ("landmark-gan, ground-truth target landmarks (ours)", gen.images),
                          ("landmark-gan, target landmarks from the label (ours)", fb.images)):
        s = lg.verification_scores(gallery, ids(gallery_idx), describe(hwc(images)), probe_ids)
        measured[label] = s
        rows.append([label, 100 * s["rank1"], 100 * s["tar@0.01"], 100 * s["tar@0.001"], None, None, None])
    secs = time.perf_counter() - t0
    any_s = next(iter(measured.values()))
    notes = [common.DATA_NOTE,
             "One recogniser instead of the paper's two: dlib's face-recognition ResNet (128-D descriptors, Euclidean "
             "distance; faces enlarged to 128 px for its detector), in the VGG-Face columns' place; the Light CNN "
             "columns stay empty for our rows.",
             f"Gallery: the neutral face of each of the {len(gallery_idx)} test identities; probes: "
             f"{any_s['n_probes']} per row (each gallery face to the 7 other expressions); "
             f"{any_s['n_impostor']} impostor pairs, so TAR at FAR 0.1 % accepts at most "
             f"{int(0.001 * any_s['n_impostor'])} of them.",
             "Probes where dlib finds no face count as misses: "
             + "; ".join(f"{k.split(' (')[0]}: {v['no_face']}" for k, v in measured.items()) + ".",
             f"Model: {common.where(model['run'])} ({model['steps']} iterations); perceptual loss on conv1_2 of "
             f"{model['feature_label']}.",
             common.timing_note(secs)]
    header = ["method", "Rank-1 (%) [dlib / VGG-Face]", "TAR@FAR1% [dlib / VGG-Face]",
              "TAR@FAR0.1% [dlib / VGG-Face]", "Rank-1 [Light CNN]", "TAR@FAR1% [Light CNN]",
              "TAR@FAR0.1% [Light CNN]"]
    md, cs = write_table(args.out, NAME, header, rows, title="Landmark-guided GAN, Table 6: identity preservation",
                         notes=notes, force=args.force)
    print(md.read_text())
    print(f"wrote {md} and {cs}")
    return 0
