"""``python -m course_lib main``: the course's main job.

Until training lands this executes every lesson notebook for real (no fast mode) into
``runs/<name>/notebooks/`` with their outputs, and reports the wall time per lesson.
"""
from __future__ import annotations

import time
from pathlib import Path


def register(sub):
    p = sub.add_parser("main", help="run the main job (executes every lesson notebook in full mode)")
    p.add_argument("--out", type=Path, default=Path("runs/main"), help="output folder (default: runs/main)")
    p.set_defaults(func=run)


def run(args) -> int:
    import os

    import nbformat
    from nbclient import NotebookClient

    from course_lib.lesson import FAST_ENV, repo_root

    os.environ.pop(FAST_ENV, None)
    out = args.out / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((repo_root() / "notebooks").glob("*.ipynb")):
        t0 = time.perf_counter()
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=3600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        nbformat.write(nb, out / path.name)
        print(f"{path.name}: executed in {time.perf_counter() - t0:.1f} s -> {out / path.name}", flush=True)
    return 0
