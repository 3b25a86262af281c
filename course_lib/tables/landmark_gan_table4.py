"""``python -m course_lib reproduce landmark-table4``: the landmark-guided GAN's Table 4 (augmentation).

Li, Qi and Sun 2021, Table 4 (Oulu-CASIA): accuracy of one expression classifier when its
training set is enlarged 0, 1, 5, 10 and 100 times by generated faces (67.3 % -> 76.2 %).

Ours, on the synthetic set: the classifier's real training set is small on purpose - the
8 expressions of the first ``--identities`` training identities (10 by default: 80 faces; with
the whole training split the course's classifier is already near 98 %, nothing to enlarge).
"x k" adds k generated faces per real one: the ``landmark-gan`` model (trained once on the
whole training split, shared with Tables 5-7) translates each real face to a random other
expression, with the landmarks of a random real face of that expression from the same small
set (mostly another person's: landmark transfer, Fig. 8).  The classifier is the course's
judge recipe (:data:`course_lib.judge.RECIPE`, without the AU head: generated faces have no AU
labels) and every setting gets as many updates as "x 0" (the course's R+G rule,
:func:`course_lib.evaluate.expression_protocol`); it is tested on the real test faces, the
mean and spread over ``--seeds`` seeds.  "x 100" is left out by default (``--times`` adds it).
Note that the generator itself saw all training identities, not only the small set.
"""
from __future__ import annotations

NAME = "landmark-table4"
HELP = ("Landmark-guided GAN (Li et al. 2021) Table 4: expression classifier accuracy with its (small) training "
        "set enlarged x0, x1, x5, x10 by generated faces")

PAPER = {0: 67.3, 1: 68.6, 5: 71.4, 10: 76.2, 100: 76.2}


def add_arguments(parser) -> None:
    from course_lib import landmark_gan_runs as common

    common.add_common_arguments(parser)
    parser.add_argument("--identities", type=int, default=10,
                        help="training identities whose real faces the classifier gets (default 10: 80 faces)")
    parser.add_argument("--times", default="0,1,5,10", help="enlargement factors, comma-separated (default 0,1,5,10)")
    parser.add_argument("--seeds", type=int, default=3, help="classifier seeds per setting (default 3)")


def generated_set(translator, real, times: int, seed: int = 0):
    """``times`` generated faces per face of ``real`` (an ``evaluate.Split``): each to a random other
    expression with the landmarks of a random face of ``real`` showing it.  (images uint8, labels)."""
    import torch

    from course_lib import landmark_gan_runs as common

    if times == 0:
        return real.images[:0], real.labels[:0]
    g = torch.Generator().manual_seed(seed)
    n = len(real)
    src = torch.arange(n).repeat(times)
    tgt = (real.labels[src] + torch.randint(1, 8, (len(src),), generator=g)) % 8
    donors = []
    for t in tgt.tolist():
        pool = torch.nonzero(real.labels == t).flatten()
        if len(pool) == 0:
            raise ValueError(f"the small real set has no face with expression {t}: use more --identities")
        donors.append(int(pool[torch.randint(len(pool), (1,), generator=g)]))
    donors = torch.tensor(donors)
    gen = common.translate(translator, real, src, tgt, real.landmarks[donors])
    return gen.images, tgt


def run(args) -> int:
    import time

    import numpy as np
    import torch

    from course_lib import classifier as clf_lib
    from course_lib import evaluate
    from course_lib.judge import RECIPE
    from course_lib import landmark_gan_runs as common
    from course_lib.tables import write_table

    try:
        times = [int(t) for t in str(args.times).split(",") if t.strip()]
    except ValueError:
        raise SystemExit(f"--times {args.times!r}: expected comma-separated integers such as 0,1,5,10") from None
    if not times or min(times) < 0:
        raise SystemExit(f"--times {args.times!r}: expected integers >= 0")
    if args.identities < 1 or args.seeds < 1:
        raise SystemExit("--identities and --seeds: expected integers >= 1")
    t0 = time.perf_counter()
    model = common.from_args(args, "full")
    tr = model["translator"]
    train, test = common.splits(tr)
    keep_ids = sorted(set(train.identities))[:args.identities]
    idx = torch.tensor([i for i, name in enumerate(train.identities) if name in set(keep_ids)])
    real = evaluate.Split(train.images[idx], train.labels[idx], train.landmarks[idx], None,
                          [train.identities[int(i)] for i in idx], train.dataset)
    updates_epochs = RECIPE.epochs
    rows = []
    for k in times:
        accs = []
        for seed in range(args.seeds):
            imgs, labels = generated_set(tr, real, k, seed)
            both = evaluate.Split(torch.cat([real.images, imgs]), torch.cat([real.labels, labels]), real.landmarks,
                                  None, [])
            epochs = max(1, round(updates_epochs * len(real) / len(both.labels)))
            clf = evaluate.train_judge(both, epochs, seed, progress=False, desc=f"classifier x{k}")
            accs.append(100 * clf_lib.accuracy(clf, test.images, test.labels))
        rows.append([f"x {k}", PAPER.get(k), float(np.mean(accs)), float(np.std(accs)),
                     len(real) + k * len(real), ", ".join(f"{a:.1f}" for a in accs)])
    secs = time.perf_counter() - t0
    notes = [common.DATA_NOTE,
             f"Real training faces: the 8 expressions of {len(keep_ids)} training identities ({len(real)} faces); "
             f"test: the {len(test)} real test faces (identities the classifier and the generator never saw).",
             f"Classifier: the course's judge recipe without AU head ({RECIPE.conv_dim} channels, shifts <= "
             f"{RECIPE.shift} px), {RECIPE.epochs} epochs for x 0 and as many updates for every other setting; "
             f"mean and standard deviation over {args.seeds} seeds (the seed also draws the generated set).",
             "Generated faces: each real face to a random other expression, with the landmarks of a random real face "
             "of that expression from the same small set (Fig. 8's landmark transfer when it is another person).",
             f"Generator: {common.where(model['run'])} ({model['steps']} iterations on the whole training split); perceptual loss "
             f"on conv1_2 of {model['feature_label']}.",
             "x 100 is not run by default (it would take 100 generated faces per real one); --times 0,1,5,10,100 adds it.",
             common.timing_note(secs)]
    header = ["training set", "accuracy % (paper, Oulu-CASIA)", "accuracy % (ours, mean)", "std", "images",
              "per seed"]
    md, cs = write_table(args.out, NAME, header, rows,
                         title="Landmark-guided GAN, Table 4: augmenting a classifier's training set", notes=notes,
                         force=args.force)
    print(md.read_text())
    print(f"wrote {md} and {cs}")
    return 0
