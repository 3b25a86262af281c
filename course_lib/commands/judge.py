"""``python -m course_lib judge train|info``: the shipped, versioned expression judge of the evaluation.

``judge train --size 64`` trains the course's judge (:data:`course_lib.judge.RECIPE`) on the
training split of the embedded synthetic set, measures it on the test split and writes
``data/judges/expression-judge-64px-v1.pt`` (and its description, ``.json``) atomically;
``judge info`` prints what a judge file records and checks its weights' sha256.
"""
from __future__ import annotations

from pathlib import Path


def register(sub):
    p = sub.add_parser("judge", help="train or inspect the shipped expression judge (R/G, in-domain FID)",
                       description="The evaluation's judge: one expression classifier, trained once on the "
                                   "embedded synthetic set's training split and shipped in data/judges/.")
    s = p.add_subparsers(dest="judge_command", metavar="<judge command>", required=True)
    from course_lib.judge import RECIPE

    t = s.add_parser("train", help="train a judge on the embedded synthetic set and write it",
                     description="Train the judge by the course's recipe on the training split of a synthetic "
                                 "build (default data/synthetic, built if missing), measure it on the test split, "
                                 "and write it (float16 weights + sha256, recipe, data record, metrics, command).")
    t.add_argument("--size", type=int, required=True, help="image size of the judge (a power of two, e.g. 64)")
    t.add_argument("--data", type=Path, default=None,
                   help="a synthetic build (default: data/synthetic, 200 identities at 128x128, built if missing)")
    t.add_argument("--out", type=Path, default=None,
                   help="judge file (default: data/judges/expression-judge-<size>px-v<version>.pt)")
    t.add_argument("--version", type=int, default=1, help="version number recorded in the file (default: 1)")
    t.add_argument("--epochs", type=int, default=RECIPE.epochs, help=f"default {RECIPE.epochs}")
    t.add_argument("--conv-dim", type=int, default=RECIPE.conv_dim, help=f"base channels (default {RECIPE.conv_dim})")
    t.add_argument("--shift", type=int, default=RECIPE.shift, help=f"random shifts in pixels (default {RECIPE.shift})")
    t.add_argument("--seed", type=int, default=RECIPE.seed, help=f"default {RECIPE.seed}")
    t.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    t.add_argument("--force", action="store_true", help="overwrite an existing judge file")
    t.set_defaults(func=run_train)
    i = s.add_parser("info", help="print what a judge file records (and check its sha256)",
                     description="Print name, version, recipe, data, metrics, torch version and command of judge "
                                 "files (default: every shipped judge); fails on a corrupted or foreign file.")
    i.add_argument("paths", nargs="*", type=Path, help="judge files (default: data/judges/*.pt)")
    i.set_defaults(func=run_info)


def _command(args, out: Path, data: Path | None) -> str:
    parts = ["python -m course_lib judge train", f"--size {args.size}"]
    if data is not None:
        parts.append(f"--data {data}")
    for name in ("epochs", "conv_dim", "shift", "seed"):
        parts.append(f"--{name.replace('_', '-')} {getattr(args, name)}")
    parts += [f"--version {args.version}", f"--out {out}"]
    return " ".join(parts)


def _relative(path: Path) -> Path:
    from course_lib.lesson import repo_root

    try:
        return path.resolve().relative_to(repo_root())
    except ValueError:
        return path


def run_train(args) -> int:
    import torch

    from course_lib import datasets
    from course_lib import judge as J
    from course_lib.evaluate import collect
    from course_lib.lesson import repo_root

    size = args.size
    if size < 8 or size & (size - 1):
        print(f"--size {size}: expected a power of two >= 8 (e.g. 64)")
        return 2
    for name in ("epochs", "conv_dim", "version"):
        if getattr(args, name) < 1:
            print(f"--{name.replace('_', '-')} {getattr(args, name)}: expected a positive integer")
            return 2
    if args.shift < 0:
        print(f"--shift {args.shift}: expected a non-negative integer")
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    root = args.data or repo_root() / datasets.DEFAULT_SYNTHETIC
    if args.data is None and not (root / datasets.METADATA).is_file():
        print(f"building the embedded synthetic dataset in {root} ...", flush=True)
        datasets.build_synthetic(root, identities=200, size=128, seed=0)
    if not (root / datasets.METADATA).is_file():
        print(f"--data {root}: not a synthetic build (no {datasets.METADATA}; "
              f"python -m course_lib data build-synthetic --out {root})")
        return 2
    out = args.out or J.judge_path(size, args.version)
    if out.exists() and not args.force:
        print(f"{out}: exists; pass --force to overwrite it")
        return 2
    train = collect(datasets.SyntheticFolder(root, "train"), size, desc="loading training images")
    test = collect(datasets.SyntheticFolder(root, "test"), size, desc="loading test images")
    recipe = J.RECIPE.replace(epochs=args.epochs, conv_dim=args.conv_dim, shift=args.shift, seed=args.seed)
    print(f"training {J.judge_name(size)} v{args.version} ({recipe.label()}) on {len(train)} training images "
          f"of {root} at {size}x{size}, {torch.get_num_threads()} thread(s)", flush=True)
    try:
        model = J.build(train, test, recipe, name=J.judge_name(size), version=args.version, out=out,
                        command=_command(args, _relative(out), None if args.data is None else _relative(args.data)))
    except ValueError as err:
        print(f"judge train: {err}")
        return 2
    _print_info(model, out)
    return 0


def _print_info(model, path: Path) -> None:
    from course_lib import facs

    m = model.meta
    fig = m["metrics"]
    d = m["data"]
    print(f"{path}: {m['name']} v{m['version']} ({path.stat().st_size / 1e6:.2f} MB, weights sha256 "
          f"{m['weights_sha256']})")
    print(f"  recipe: {', '.join(f'{k}={v}' for k, v in m['recipe'].items())}")
    print(f"  data: {d['kind']} ({d['identities']} identities rendered at {d['render_size']} px, seed {d['seed']}), "
          f"judged at {d['image_size']}x{d['image_size']}: {d['n_train']} training / {d['n_test']} test images; "
          f"split sha256 {d['split_sha256'][:16]}")
    print(f"  R (test split): {fig['acc_r']:.1%}; training images: {fig['acc_train']:.1%}"
          + (f"; AU error (test): {fig['au_error']:.3f}" if "au_error" in fig else ""))
    print("  per class: " + ", ".join(f"{e} {fig['per_class'][e]:.1%}" for e in facs.EXPRESSIONS
                                      if fig["per_class"].get(e) is not None))
    print(f"  trained in {fig['train_seconds']:.0f} s on {fig['threads']} thread(s), torch {m['torch']}")
    print(f"  command: {m['command']}")


def run_info(args) -> int:
    from course_lib import classifier
    from course_lib import judge as J

    paths = args.paths or J.shipped()
    if not paths:
        print(f"no judge files in {J.JUDGES_DIR}")
        return 2
    for path in paths:
        try:
            model = classifier.load_judge(path)
        except (FileNotFoundError, ValueError) as err:
            print(f"judge info: {err}")
            return 2
        _print_info(model, path)
    return 0
