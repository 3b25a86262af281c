"""``python -m course_lib evaluate --run runs/NAME``: FID (Inception and/or in-domain), IS, PSNR, SSIM
and their gains over copy, LPIPS (when its weights are present), changes outside the expression,
high-frequency ratio, expression accuracy R / G / R+G (G also per target), AU error and identity of a
trained model, beside the copy and oracle reference rows; writes ``runs/NAME/eval/metrics.md``,
``metrics.csv`` and ``confusion_g.png`` (LGP-GAN Table IV, Cascade EF-GAN Tables 1-2).

The judge (R, G, AU error, in-domain FID) is the shipped one of ``data/judges/`` when the run's
data is the embedded synthetic set at the judge's size (``python -m course_lib judge info``),
else one trained for the run (``--judge``)."""
from pathlib import Path


def register(sub):
    p = sub.add_parser("evaluate", help="evaluate a training run: FID/IS, PSNR/SSIM, accuracy R/G/R+G, identity",
                       description="Translate the run's test split to every other expression and write a Markdown "
                                   "and a CSV table into RUN/eval/, with two reference rows on the same pairs: copy "
                                   "(input unchanged) and oracle (ground truth), and the judge's confusion matrix "
                                   "(confusion_g.png). Offline, FID is the in-domain FID (an expression "
                                   "classifier's features); Inception FID/IS need --inception-weights; LPIPS needs "
                                   "the lpips package and its AlexNet weights (--download-lpips).")
    p.add_argument("--run", type=Path, required=True, help="run folder (runs/NAME) or a checkpoint file")
    p.add_argument("--data", default=None, help="dataset: 'synthetic' or a folder (default: the run's own)")
    p.add_argument("--inception-weights", type=Path, default=None, metavar="PATH",
                   help="torch-fidelity's Inception-v3 weights file (else the torch hub cache; else unavailable)")
    p.add_argument("--download-inception", action="store_true", help="download the Inception weights if missing")
    p.add_argument("--download-lpips", action="store_true",
                   help="let LPIPS download its AlexNet weights if missing (needs the lpips package)")
    p.add_argument("--judge", default="auto", metavar="auto|shipped|train|PATH",
                   help="the expression judge: auto (default) = the shipped data/judges/ judge when the data is the "
                        "embedded synthetic set at its size, else one trained for this run (cached in RUN/eval/); "
                        "shipped = that judge or an error; train = always train one; PATH = a judge file")
    p.add_argument("--no-references", action="store_true", help="leave out the copy and oracle reference rows")
    p.add_argument("--limit", type=int, default=None, help="at most this many test images (default: all; fast mode 16)")
    p.add_argument("--train-limit", type=int, default=None,
                   help="at most this many training images (default: all; fast mode 64)")
    p.add_argument("--classifier-epochs", type=int, default=None,
                   help="epochs of a judge trained for this run (default 100; fast mode 2); a shipped judge "
                        "and its R+G classifier keep the shipped recipe")
    p.add_argument("--no-rg", action="store_true", help="skip R+G (it trains a second classifier)")
    p.add_argument("--no-identity", action="store_true", help="skip the dlib identity metric")
    p.add_argument("--identity-inputs", type=int, default=None,
                   help="dlib scores the translations of this many test images (default 32; fast mode 4)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    import json

    from course_lib.evaluate import JUDGE_EPOCHS, eval_dir, evaluate_run, markdown_table, per_target_table
    from course_lib.lesson import pick

    for name in ("limit", "train_limit", "classifier_epochs", "identity_inputs"):
        v = getattr(args, name)
        if v is not None and v < (1 if name == "classifier_epochs" else 0):
            print(f"--{name.replace('_', '-')} {v}: expected a non-negative integer")
            return 2
    if args.judge not in ("auto", "shipped", "train") and not Path(args.judge).is_file():
        print(f"--judge {args.judge}: expected auto, shipped, train or an existing judge file")
        return 2
    if not args.run.exists():
        print(f"--run {args.run}: no such run folder or checkpoint")
        return 2
    try:
        row = evaluate_run(args.run, data=args.data, inception_weights=args.inception_weights,
                           download_inception=args.download_inception,
                           limit=args.limit if args.limit is not None else pick(0, 16),
                           train_limit=args.train_limit if args.train_limit is not None else pick(0, 64),
                           classifier_epochs=args.classifier_epochs or pick(JUDGE_EPOCHS, 2), rg=not args.no_rg,
                           identity=not args.no_identity, identity_inputs=args.identity_inputs or pick(32, 4),
                           seed=args.seed, references=not args.no_references,
                           download_lpips=args.download_lpips, judge=args.judge)
    except (FileNotFoundError, ValueError) as err:
        print(f"evaluate: {err}")
        return 2
    rows = json.loads((eval_dir(args.run) / "metrics.json").read_text(encoding="utf-8"))
    print(markdown_table(rows) + "\n" + per_target_table(rows), end="")
    return 0
