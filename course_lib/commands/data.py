"""``python -m course_lib data ...``: build the embedded synthetic dataset, draw its expression grid."""
from __future__ import annotations

from pathlib import Path


def register(sub):
    p = sub.add_parser("data", help="build the embedded synthetic dataset; draw its expression grid",
                       description="Dataset tools (Lesson 2).")
    s = p.add_subparsers(dest="data_command", metavar="<data command>", required=True)
    b = s.add_parser("build-synthetic", help="render the synthetic FACS faces to a folder (RaFD-style names + metadata.json)",
                     description="Render N identities x 8 expressions with ground-truth AUs and landmarks; "
                                 "90/10 train/test split by identity. Idempotent.")
    b.add_argument("--out", type=Path, default=Path("data/synthetic"), help="output folder (default: data/synthetic)")
    b.add_argument("--identities", type=int, default=200, help="number of identities (default: 200)")
    b.add_argument("--size", type=int, default=128, help="image size in pixels (default: 128)")
    b.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    b.add_argument("--force", action="store_true", help="write into a non-empty folder this command did not create")
    b.add_argument("--workers", type=int, default=1, help="render in this many processes (default: 1)")
    b.set_defaults(func=run_build)
    g = s.add_parser("grid", help="save the 8 expressions x N identities grid as a PNG",
                     description="One row per identity, one column per expression (canonical label order).")
    g.add_argument("--out", type=Path, default=Path("docs/img/synthetic_grid.png"), help="PNG path (default: docs/img/synthetic_grid.png)")
    g.add_argument("--identities", type=int, default=6, help="rows (default: 6)")
    g.add_argument("--size", type=int, default=128, help="face size in pixels (default: 128)")
    g.add_argument("--seed", type=int, default=None, help="random seed of the identities (default: render.GRID_SEED)")
    g.add_argument("--force", action="store_true", help="overwrite an existing file")
    g.set_defaults(func=run_grid)


def _positive(name, value, minimum=1):
    if value < minimum:
        raise SystemExit(f"error: --{name} must be >= {minimum}, got {value}")


def run_build(args) -> int:
    import time

    from course_lib.datasets import build_synthetic

    _positive("identities", args.identities)
    _positive("size", args.size, 16)
    t0 = time.perf_counter()
    try:
        out = build_synthetic(args.out, args.identities, args.size, args.seed, force=args.force,
                              workers=args.workers)
    except (FileExistsError, NotADirectoryError) as err:
        print(f"error: {err}")
        return 2
    print(f"{out}: {args.identities} identities x 8 expressions at {args.size}x{args.size} "
          f"({time.perf_counter() - t0:.1f} s)")
    return 0


def run_grid(args) -> int:
    from course_lib.images import save_rgb
    from course_lib.render import GRID_SEED, expression_grid

    _positive("identities", args.identities)
    _positive("size", args.size, 16)
    if args.out.exists() and not args.force:
        print(f"error: {args.out} exists; pass --force to overwrite it")
        return 2
    save_rgb(expression_grid(args.identities, args.size, GRID_SEED if args.seed is None else args.seed), args.out)
    print(f"{args.out}: {args.identities} identities x 8 expressions (columns: angry, contemptuous, disgusted, "
          "fearful, happy, neutral, sad, surprised)")
    return 0
