"""``python -m course_lib docs [--check]``: write the methods table (:mod:`course_lib.catalog`) into README.md and
intro.md, and the Results page (:mod:`course_lib.results`) into results.md."""
from __future__ import annotations

from pathlib import Path

FILES = ("README.md", "intro.md")
RESULTS = "results.md"


def register(sub):
    p = sub.add_parser("docs", help="rewrite the methods table (README.md, intro.md) and the Results page (results.md)",
                       description="Rewrite (or with --check: verify) the table of implemented and planned "
                                   "methods in README.md and intro.md from course_lib.catalog.METHODS, and the "
                                   "Results page results.md from data/checkpoints/*.json and data/results/*.md.")
    p.add_argument("--check", action="store_true", help="only report files out of step; exit 1 if any")
    p.add_argument("--root", type=Path, default=None, help="folder holding README.md and intro.md (default: the course's)")
    p.set_defaults(func=run)


def rewritten(root: Path) -> dict:
    """``{path: its text as docs writes it}`` for README.md, intro.md and (when present) results.md."""
    from course_lib.catalog import with_methods_block
    from course_lib.results import with_results_block

    out = {}
    for name in FILES:
        path = root / name
        out[path] = with_methods_block(path.read_text(encoding="utf-8"), str(path))
    if (root / RESULTS).is_file():
        path = root / RESULTS
        out[path] = with_results_block(path.read_text(encoding="utf-8"), root, str(path))
    return out


def stale_files(root: Path) -> list[Path]:
    return [p for p, text in rewritten(root).items() if p.read_text(encoding="utf-8") != text]


def run(args) -> int:
    from course_lib.lesson import repo_root

    root = args.root or repo_root()
    for name in FILES:
        if not (root / name).is_file():
            print(f"--root {root}: no {name} there")
            return 2
    try:
        new = rewritten(root)
        stale = [p for p, text in new.items() if p.read_text(encoding="utf-8") != text]
    except ValueError as err:
        print(err)
        return 2
    if args.check:
        for p in stale:
            print(f"out of step with course_lib.catalog / the published results: {p} (run: python -m course_lib docs)")
        print(f"{len(stale)} stale file(s)")
        return 1 if stale else 0
    for p in stale:
        p.write_text(new[p], encoding="utf-8")
        print(f"rewrote {p}")
    return 0
