"""Building the book: an execution cache that never serves a stale mode, and a check of the built site.

The book executes its notebooks through jupyter-cache (``execute_notebooks: cache`` in
``_config.yml``): a page whose code did not change is not executed again. The cache keys on
the code only, so :func:`prepare_cache` empties it when what the code reads changed: the mode
(``COURSE_FAST``), the shipped checkpoints (``data/checkpoints/*.json``) or the published
results (``data/results/*``). :func:`site_errors` reads the built HTML and reports a lesson
that shows a model trained in fast mode where a shipped checkpoint of that method exists
(:func:`course_lib.shipped.fast_figures_with_checkpoint`).
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

CACHE = Path("_build") / ".jupyter_cache"
STAMP = Path("_build") / ".course_book_stamp"


def stamp(root: Path) -> str:
    """What the cached outputs depend on besides the code: the mode and the shipped files."""
    from course_lib.lesson import fast_mode

    h = hashlib.sha256(b"fast" if fast_mode() else b"full")
    for p in sorted([*(root / "data" / "checkpoints").glob("*.json"), *(root / "data" / "results").glob("*")]):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def prepare_cache(root=".") -> bool:
    """Empty the execution cache when :func:`stamp` changed since the last build; True if emptied."""
    root = Path(root)
    new, old = stamp(root), (root / STAMP).read_text() if (root / STAMP).is_file() else None
    emptied = False
    if new != old and (root / CACHE).exists():
        shutil.rmtree(root / CACHE)
        emptied = True
    (root / STAMP).parent.mkdir(parents=True, exist_ok=True)
    (root / STAMP).write_text(new)
    return emptied


def site_errors(root=".") -> list[str]:
    """Problems of the built site ``<root>/_build/html``: fast-mode models where a checkpoint exists."""
    from course_lib import shipped

    pages = sorted((Path(root) / "_build" / "html").rglob("*.html"))
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in pages]
    bad = shipped.fast_figures_with_checkpoint(texts)
    return [f"the built book shows {m} trained in fast mode although data/checkpoints/{m}.pt exists: "
            "load it (course_lib.shipped)" for m in bad]


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["prepare"]:
        print("book: execution cache emptied (mode or shipped files changed)" if prepare_cache() else
              "book: execution cache kept")
    elif sys.argv[1:] == ["check"]:
        errs = site_errors()
        print("\n".join(errs) or "book: no fast-mode model where a checkpoint exists")
        sys.exit(1 if errs else 0)
    else:
        sys.exit("usage: python -m course_lib.book prepare|check")
