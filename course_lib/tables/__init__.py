"""Paper tables the course reproduces (``python -m course_lib reproduce <table>``): one module each.

A module here (not starting with ``_``) defines

* ``NAME``: the table's command name, ``<paper>-table<N>`` (e.g. ``efgan-table3``);
* ``HELP``: one line (which paper, which table, what is trained and measured);
* ``add_arguments(parser)``: its options (every table takes ``--preset`` and ``--out``,
  added by the command);
* ``run(args) -> int``: trains/evaluates what the table needs with the course's own
  commands, then writes ``<out>/<NAME>.md`` and ``<out>/<NAME>.csv`` with
  :func:`write_table` — our numbers on the embedded data beside the paper's, and a line
  saying plainly that the data differ.

Discovered by :mod:`course_lib.commands.reproduce`, like the benchmarks: adding a table is
one new file here (plus its test). Heavy imports go inside ``run``.
"""
from __future__ import annotations

import csv
import importlib
import pkgutil
from pathlib import Path


def modules():
    """The table modules, sorted by name."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{__name__}.{info.name}")


def write_table(out: Path, name: str, header: list[str], rows: list[list], *, title: str,
                notes: list[str] = (), force: bool = False) -> tuple[Path, Path]:
    """Write ``<out>/<name>.md`` (title, table, notes) and ``<out>/<name>.csv``.

    Refuses to overwrite existing files unless ``force`` (nothing the user owns is lost).
    """
    out = Path(out)
    md, cs = out / f"{name}.md", out / f"{name}.csv"
    existing = [p for p in (md, cs) if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{existing[0]} exists; pass --force to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    fmt = lambda v: f"{v:.2f}" if isinstance(v, float) else ("" if v is None else str(v))  # noqa: E731
    lines = [f"# {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    lines += [""] + [f"- {n}" for n in notes]
    md.write_text("\n".join(lines) + "\n")
    with cs.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([[fmt(v) for v in row] for row in rows])
    return md, cs
