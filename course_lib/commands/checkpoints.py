"""``python -m course_lib checkpoints build|list``: the trained checkpoints shipped in ``data/checkpoints``
(:mod:`course_lib.shipped`)."""
from pathlib import Path


def register(sub):
    from course_lib import methods

    p = sub.add_parser("checkpoints", help="build or list the shipped checkpoints (data/checkpoints)",
                       description="Shipped checkpoints: one per method, trained on the embedded data with its cpu "
                                   "preset (seed 0), with a record of command, config, commit, time and evaluation.")
    s = p.add_subparsers(dest="action", metavar="<action>", required=True)
    b = s.add_parser("build", help="train (unless finished), evaluate and export each method's checkpoint")
    b.add_argument("--methods", nargs="+", default=list(methods.names()), choices=methods.names(),
                   help="methods (default: every registered one)")
    b.add_argument("--runs", type=Path, default=Path("runs") / "checkpoints",
                   help="folder of the training runs (default runs/checkpoints; a finished run is reused)")
    b.add_argument("--from-run", type=Path, default=None,
                   help="export this finished, evaluated run instead of training (one method)")
    b.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    b.add_argument("--force", action="store_true", help="replace existing files in data/checkpoints")
    b.set_defaults(func=run_build)
    ls = s.add_parser("list", help="the shipped checkpoints, their size and recorded G")
    ls.set_defaults(func=run_list)


def run_build(args) -> int:
    import torch

    from course_lib import shipped

    torch.set_num_threads(args.threads)
    try:
        if args.from_run is not None:
            cmd = f"python -m course_lib checkpoints build --from-run {args.from_run}"
            pt, js = shipped.export(args.from_run, command=cmd, force=args.force)
            print(f"wrote {pt} and {js}")
        else:
            shipped.build(args.methods, runs=args.runs, threads=args.threads, force=args.force)
    except (FileExistsError, FileNotFoundError, ValueError) as err:
        print(f"checkpoints build: {err}")
        return 2
    return run_list(args)


def run_list(args) -> int:
    from course_lib import shipped

    names = shipped.available()
    if not names:
        print(f"no shipped checkpoints in {shipped.SHIPPED_DIR}")
        return 0
    total = 0
    print(f"{'method':<16} {'size MB':>8} {'train s':>8} {'G %':>6} {'subset G %':>10}  commit")
    for n in names:
        r = shipped.info(n)
        total += r["size_bytes"]
        print(f"{n:<16} {r['size_bytes'] / 1e6:>8.2f} {r['wall_time_s']:>8.0f} {100 * r['evaluation']['acc_g']:>6.1f} "
              f"{100 * r['subset_g']['acc_g']:>10.1f}  {r['commit'][:12]}")
    print(f"{len(names)} checkpoints, {total / 1e6:.1f} MB in {shipped.SHIPPED_DIR}")
    return 0
