"""``python -m course_lib compare runs/A runs/B ...``: the evaluated runs in one table (Markdown on
stdout; ``--out DIR`` also writes compare.md / compare.csv) — our LGP-GAN Table IV / Cascade EF-GAN Tables 1-2.
The runs' copy and oracle reference rows come first and last, once when the runs share them."""
from pathlib import Path


def register(sub):
    p = sub.add_parser("compare", help="put several evaluated runs in one table",
                       description="Read RUN/eval/metrics.json of each run (written by `evaluate`) and print one "
                                   "Markdown table; with --out also write compare.md and compare.csv there.")
    p.add_argument("runs", nargs="+", type=Path, help="run folders evaluated with `python -m course_lib evaluate`")
    p.add_argument("--out", type=Path, default=None, help="folder for compare.md / compare.csv")
    p.add_argument("--force", action="store_true", help="overwrite existing compare.md / .csv / .json in --out")
    p.set_defaults(func=run)


def run(args) -> int:
    from course_lib.evaluate import compare_rows, load_rows, markdown_table, notes, per_target_table, write_table

    try:
        rows = compare_rows(load_rows(args.runs))
    except (FileNotFoundError, ValueError) as err:
        print(f"compare: {err}")
        return 2
    per_target = per_target_table(rows)
    print(markdown_table(rows) + ("\nG accuracy per target expression:\n\n" + per_target if per_target else "")
          + "\n" + notes(rows), end="")
    if args.out is not None:
        existing = [p for p in (args.out / f"compare.{ext}" for ext in ("md", "csv", "json")) if p.exists()]
        if existing and not args.force:
            print(f"compare: {existing[0]} exists; pass --force to overwrite it")
            return 2
        md, cs = write_table(rows, args.out, stem="compare", title="Comparison of " + ", ".join(map(str, args.runs)))
        print(f"wrote {md} and {cs}")
    return 0
