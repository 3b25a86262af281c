"""``python -m course_lib badges [--check]``: point every notebook's Colab badge and setup cell at ``course_lib.REPO``."""
from __future__ import annotations

import re
from pathlib import Path

BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s\"]+?/notebooks/([\w.-]+\.ipynb)")
CLONE = re.compile(r'REPO_GIT = "[^"]*"')


def expected_text(text: str) -> str:
    """``text`` with the badge URLs and the clone URL rewritten from course_lib.REPO."""
    import course_lib

    text = BADGE.sub(lambda m: course_lib.colab_url(m.group(1)), text)
    return CLONE.sub(f'REPO_GIT = "{course_lib.repo_git_url()}"', text)


def stale_files(folder: Path) -> list[Path]:
    """Notebook files (both halves of each pair) whose badge or clone URL is not course_lib.REPO's,
    or that have no badge for themselves."""
    stale = []
    for path in sorted(folder.glob("*.ipynb")) + sorted(folder.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        own = f"/notebooks/{path.stem}.ipynb"
        if expected_text(text) != text or own not in text:
            stale.append(path)
    return stale


def register(sub):
    p = sub.add_parser("badges", help="rewrite the notebooks' Open-in-Colab badges from course_lib.REPO",
                       description="Rewrite (or with --check: verify) every notebook's Colab badge and setup-cell "
                                   "clone URL from course_lib.REPO, the single constant naming the repository.")
    p.add_argument("--check", action="store_true", help="only report stale files; exit 1 if any")
    p.add_argument("--notebooks", type=Path, default=None, help="folder of notebooks (default: the course's)")
    p.set_defaults(func=run)


def run(args) -> int:
    from course_lib.lesson import repo_root

    folder = args.notebooks or repo_root() / "notebooks"
    if not folder.is_dir():
        print(f"--notebooks {folder}: no such folder")
        return 2
    stale = stale_files(folder)
    if args.check:
        for p in stale:
            print(f"stale or missing Colab badge: {p}")
        print(f"{len(stale)} stale file(s)")
        return 1 if stale else 0
    for p in stale:
        p.write_text(expected_text(p.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"rewrote {p}")
    return 0
