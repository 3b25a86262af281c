"""``python -m course_lib reproduce <table>``: one command per paper table we can reproduce
(modules of :mod:`course_lib.tables`); each writes Markdown + CSV beside the paper's numbers."""
from pathlib import Path


def register(sub):
    from course_lib import tables

    p = sub.add_parser("reproduce", help="reproduce a paper's table on the embedded data",
                       description="Train and evaluate what a paper table needs, then write <out>/<table>.md and "
                                   ".csv: our numbers beside the paper's (the data differ: the table says so).")
    tsub = p.add_subparsers(dest="table", metavar="<table>", required=True)
    for module in tables.modules():
        t = tsub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        t.add_argument("--preset", default="cpu", help="training preset (paper | colab-t4 | cpu; default cpu)")
        t.add_argument("--out", type=Path, default=Path("runs") / "reproduce" / module.NAME,
                       help="folder for the runs and the table (default runs/reproduce/<table>)")
        t.add_argument("--force", action="store_true", help="overwrite an existing table in --out")
        t.add_argument("--publish", action="store_true",
                       help="also copy the table to data/results/ for the book's Results page (python -m course_lib docs)")
        module.add_arguments(t)
        t.set_defaults(func=_runner(module))


def _runner(module):
    def run(args) -> int:
        rc = module.run(args)
        if rc == 0 and args.publish:
            publish(args.out, module.NAME)
        return rc
    return run


def publish(out: Path, name: str) -> list[Path]:
    """Copy ``<out>/<name>.md`` and ``.csv`` to ``data/results/`` (the course's own record)."""
    import shutil

    from course_lib.results import results_dir
    from course_lib.lesson import repo_root

    dest = results_dir(repo_root())
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in ("md", "csv"):
        src = Path(out) / f"{name}.{ext}"
        if src.is_file():
            shutil.copyfile(src, dest / src.name)
            written.append(dest / src.name)
    print("published " + ", ".join(map(str, written)) + " (then: python -m course_lib docs)")
    return written
