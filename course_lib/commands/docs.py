"""``python -m course_lib docs [--check]``: write the methods table (:mod:`course_lib.catalog`) into README.md and intro.md."""
from __future__ import annotations

from pathlib import Path

FILES = ("README.md", "intro.md")


def register(sub):
    p = sub.add_parser("docs", help="rewrite the methods table in README.md and intro.md from course_lib.catalog",
                       description="Rewrite (or with --check: verify) the table of implemented and planned "
                                   "methods in README.md and intro.md from course_lib.catalog.METHODS.")
    p.add_argument("--check", action="store_true", help="only report files out of step; exit 1 if any")
    p.add_argument("--root", type=Path, default=None, help="folder holding README.md and intro.md (default: the course's)")
    p.set_defaults(func=run)


def stale_files(root: Path) -> list[Path]:
    from course_lib.catalog import with_methods_block

    out = []
    for name in FILES:
        path = root / name
        text = path.read_text(encoding="utf-8")
        if with_methods_block(text, str(path)) != text:
            out.append(path)
    return out


def run(args) -> int:
    from course_lib.catalog import with_methods_block
    from course_lib.lesson import repo_root

    root = args.root or repo_root()
    for name in FILES:
        if not (root / name).is_file():
            print(f"--root {root}: no {name} there")
            return 2
    try:
        stale = stale_files(root)
    except ValueError as err:
        print(err)
        return 2
    if args.check:
        for p in stale:
            print(f"methods table out of step with course_lib.catalog: {p} (run: python -m course_lib docs)")
        print(f"{len(stale)} stale file(s)")
        return 1 if stale else 0
    for p in stale:
        p.write_text(with_methods_block(p.read_text(encoding="utf-8"), str(p)), encoding="utf-8")
        print(f"rewrote {p}")
    return 0
