"""``python -m course_lib reproduce landmark-table7``: the landmark-guided GAN's Table 7 (ablation).

Li, Qi and Sun 2021, Table 7: FID without the feature initialise networks, without the
expression label maps ("expression label smooth") and with both.  Ours: three ``landmark-gan``
models trained alike (same preset, seed and data) with ``feature_init=False``
(:class:`course_lib.landmark_gan.PlainInit`: the blocks get each 4x4 pixel patch through one
1x1 convolution instead of E_ini), ``label_maps=False`` (no label maps before the decoder) and
the full model (shared with Tables 4-6); each translates every synthetic test face to the 7
other expressions with the ground-truth target landmarks.  FID with the course's in-domain
features (the kind is in the table); PSNR and SSIM against the true images beside it.
"""
from __future__ import annotations

NAME = "landmark-table7"
HELP = ("Landmark-guided GAN (Li et al. 2021) Table 7: ablation without the feature initialise networks and without "
        "the label maps (in-domain FID, PSNR, SSIM); trains the two ablated models")

PAPER = {"no-init": 76.85, "no-labels": 69.48, "full": 67.69}


def add_arguments(parser) -> None:
    from course_lib import landmark_gan_runs as common

    common.add_common_arguments(parser)


def run(args) -> int:
    import time

    from course_lib import evaluate
    from course_lib import landmark_gan_runs as common
    from course_lib.tables import write_table

    t0 = time.perf_counter()
    rows, runs, judge, info, label = [], [], None, None, None
    for variant, (_, name) in common.VARIANTS.items():
        model = common.from_args(args, variant)
        tr = model["translator"]
        if judge is None:
            train, test = common.splits(tr)
            judge, info = common.judge(train, test)
        gen, _ = common.changed_with_truth(tr, test, model["run"] / common.CACHE)
        m = evaluate.paired_metrics(test, gen)
        rows.append([name, PAPER[variant], common.fid(gen, test, judge), m["psnr"], m["ssim"],
                     model["steps"], round(model["train_s"])])
        runs.append(f"{name}: {common.where(model['run'])}")
        label = model["feature_label"]
    order = ["no-init", "no-labels", "full"]                   # the paper's row order
    rows = [rows[list(common.VARIANTS).index(v)] for v in order]
    secs = time.perf_counter() - t0
    notes = [common.DATA_NOTE,
             f"FID: in-domain (features of {info['judge_name']}), {len(test)} test faces x 7 other expressions vs "
             f"the real test images; the paper's is Inception FID on CK+.",
             "w/o feature initialize network: our reading - the blocks work on the input itself, each 4x4 pixel patch "
             "stacked into channels and mapped by one 1x1 convolution (no spatial context, no non-linearity).",
             f"Perceptual loss on conv1_2 of {label}.",
             "Runs: " + "; ".join(runs) + ".",
             common.timing_note(secs)]
    header = ["settings", "FID (paper, CK+)", "FID (ours, in-domain)", "PSNR (dB, ours)", "SSIM (ours)",
              "iterations", "training s"]
    md, cs = write_table(args.out, NAME, header, rows, title="Landmark-guided GAN, Table 7: module ablation",
                         notes=notes, force=args.force)
    print(md.read_text())
    print(f"wrote {md} and {cs}")
    return 0
