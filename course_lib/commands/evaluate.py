"""``python -m course_lib evaluate --run runs/NAME``: FID (Inception and/or in-domain), IS, PSNR, SSIM,
expression accuracy R / G / R+G, AU error and identity of a trained model; writes
``runs/NAME/eval/metrics.md`` and ``metrics.csv`` (LGP-GAN Table IV, Cascade EF-GAN Tables 1-2)."""
from pathlib import Path


def register(sub):
    p = sub.add_parser("evaluate", help="evaluate a training run: FID/IS, PSNR/SSIM, accuracy R/G/R+G, identity",
                       description="Translate the run's test split to every expression and write a Markdown and a "
                                   "CSV table into RUN/eval/. Offline, FID is the in-domain FID (an expression "
                                   "classifier's features); Inception FID/IS need --inception-weights.")
    p.add_argument("--run", type=Path, required=True, help="run folder (runs/NAME) or a checkpoint file")
    p.add_argument("--data", default=None, help="dataset: 'synthetic' or a folder (default: the run's own)")
    p.add_argument("--inception-weights", type=Path, default=None, metavar="PATH",
                   help="torch-fidelity's Inception-v3 weights file (else the torch hub cache; else unavailable)")
    p.add_argument("--download-inception", action="store_true", help="download the Inception weights if missing")
    p.add_argument("--limit", type=int, default=None, help="at most this many test images (default: all; fast mode 16)")
    p.add_argument("--train-limit", type=int, default=None,
                   help="at most this many training images (default: all; fast mode 64)")
    p.add_argument("--classifier-epochs", type=int, default=None, help="epochs of the expression classifiers "
                                                                         "(default 100; fast mode 2)")
    p.add_argument("--no-rg", action="store_true", help="skip R+G (it trains a second classifier)")
    p.add_argument("--no-identity", action="store_true", help="skip the dlib identity metric")
    p.add_argument("--identity-inputs", type=int, default=None,
                   help="dlib scores the translations of this many test images (default 32; fast mode 4)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run)


def run(args) -> int:
    from course_lib.evaluate import JUDGE_EPOCHS, evaluate_run, markdown_table
    from course_lib.lesson import pick

    for name in ("limit", "train_limit", "classifier_epochs", "identity_inputs"):
        v = getattr(args, name)
        if v is not None and v < (1 if name == "classifier_epochs" else 0):
            print(f"--{name.replace('_', '-')} {v}: expected a non-negative integer")
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
                           seed=args.seed)
    except (FileNotFoundError, ValueError) as err:
        print(f"evaluate: {err}")
        return 2
    print(markdown_table([row]), end="")
    return 0
