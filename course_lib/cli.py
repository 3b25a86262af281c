"""``python -m course_lib <command>``: one entry point for every command of the course.

Commands are discovered, not listed: every module in :mod:`course_lib.commands` that
defines ``register(subparsers)`` adds its sub-command (``add_parser(...)`` and
``set_defaults(func=...)``, where ``func(args)`` returns an exit code).  Benchmarks live
under ``bench <what>``: every module in :mod:`course_lib.benchmarks` with ``NAME``,
``HELP`` and ``add_arguments(parser)`` / ``run(args)`` becomes ``bench NAME``.
Heavy imports (torch, dlib) belong inside ``func``/``run`` so that ``--help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import course_lib
from course_lib import benchmarks, commands


def _modules(package):
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{package.__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m course_lib",
        description="GAN-based facial expression synthesis: the course's command line.",
    )
    parser.add_argument("--version", action="version", version=f"course_lib {course_lib.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for module in _modules(commands):
        module.register(sub)

    bench = sub.add_parser("bench", help="run a benchmark and print its figures",
                           description="Benchmarks: each prints the figures it measured.")
    bench_sub = bench.add_subparsers(dest="what", metavar="<what>", required=True)
    for module in _modules(benchmarks):
        p = bench_sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(func=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
