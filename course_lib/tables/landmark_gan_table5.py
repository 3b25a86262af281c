"""``python -m course_lib reproduce landmark-table5``: the landmark-guided GAN's Table 5 (PSNR, SSIM, FID).

Li, Qi and Sun 2021, Table 5 (CK+): PSNR, SSIM and FID of the translations against the real
target images.  Ours: the ``landmark-gan`` model (trained once, shared with Tables 4, 6 and 7)
translates every synthetic test face to each of the 7 other expressions; PSNR and SSIM against
the true image of the same identity with that expression, each also as a *gain over copy*
(the same metric of the unchanged input, subtracted: the course's evaluation,
:func:`course_lib.evaluate.paired_metrics`), and the FID of the translations against the real
test images with the course's in-domain features (the shipped judge's penultimate layer;
Inception weights are not shipped - the kind is in the table).  Two rows of ours: G given the
ground-truth target landmarks (the paper's protocol) and G given only the target label (the
method's mean-shape fallback, what ``python -m course_lib evaluate`` uses), plus the copy
reference.
"""
from __future__ import annotations

NAME = "landmark-table5"
HELP = ("Landmark-guided GAN (Li et al. 2021) Table 5: PSNR, SSIM (and their gain over copy), in-domain FID of "
        "translations to the 7 other expressions on the synthetic test set")

PAPER = [("GAFP-GAN [33]", 20.123, 0.653, 73.65), ("GC-GAN [34]", 27.665, 0.769, 68.36),
         ("CDAAE [35]", 26.973, 0.765, 81.48), ("our method (the paper)", 23.004, 0.775, 67.69)]


def add_arguments(parser) -> None:
    from course_lib import landmark_gan_runs as common

    common.add_common_arguments(parser)


def run(args) -> int:
    import time

    from course_lib import evaluate, landmark_gan as lg
    from course_lib import landmark_gan_runs as common
    from course_lib.tables import write_table

    t0 = time.perf_counter()
    model = common.from_args(args, "full")
    tr = model["translator"]
    train, test = common.splits(tr)
    judge, info = common.judge(train, test)
    gen, _ = common.changed_with_truth(tr, test, model["run"] / common.CACHE)
    fb = common.changed_with_fallback(tr, test)
    copy = evaluate.Generated(test.images[gen.source], gen.source, gen.target)
    rows = [[name, psnr, None, ssim, None, fid, "Inception FID (CK+)"] for name, psnr, ssim, fid in PAPER]
    for label, g in (("landmark-gan, ground-truth target landmarks (ours)", gen),
                     ("landmark-gan, target landmarks from the label (ours)", fb),
                     ("copy: the input unchanged (ours)", copy)):
        m = evaluate.paired_metrics(test, g)
        rows.append([label, m["psnr"], m["psnr_gain"], m["ssim"], m["ssim_gain"], common.fid(g, test, judge),
                     "in-domain FID (judge features)"])
    G = tr.method.generator()
    k = lg.source_expression_from_landmarks(test.landmarks, G.expression_shapes * G.image_size)
    read = float((k == test.labels).float().mean())
    secs = time.perf_counter() - t0
    notes = [common.DATA_NOTE,
             f"Model: {common.where(model['run'])} ({model['steps']} iterations, {common.fmt_s(model['train_s'])} of training); "
             f"perceptual loss (Eq. 6) on conv1_2 of {model['feature_label']}.",
             f"{len(gen.target)} translations: {len(test)} test faces x 7 other expressions; PSNR / SSIM against the "
             "same identity's true image; gain = minus the copy's value on the same pairs.",
             f"FID: in-domain (features of {info['judge_name']}), translations vs the {len(test)} real test images; "
             "not comparable with the paper's Inception FID. The copy row's FID is near 0 by construction: its "
             "images are the real test faces themselves, the FID's reference set.",
             f"The label-only row places the target landmarks by the mean displacement between expressions; it reads "
             f"the source's expression from its landmarks right for {100 * read:.1f} % of the test faces.",
             common.timing_note(secs),
             ]
    header = ["method", "PSNR (dB)", "PSNR gain over copy", "SSIM", "SSIM gain over copy", "FID", "FID kind"]
    md, cs = write_table(args.out, NAME, header, rows, title="Landmark-guided GAN, Table 5: PSNR, SSIM, FID",
                         notes=notes, force=args.force)
    print(md.read_text())
    print(f"wrote {md} and {cs}")
    return 0
