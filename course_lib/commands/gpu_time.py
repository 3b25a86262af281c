"""``python -m course_lib gpu-time``: each method's expected training time on a Colab T4 (:mod:`course_lib.gpu_time`).

    python -m course_lib gpu-time                      # write data/results/gpu_time.md from gpu_time.json
    python -m course_lib gpu-time --check              # exit 1 when the committed table is stale
    python -m course_lib gpu-time --count              # recount the FLOPs of every method (minutes on a CPU)
    python -m course_lib gpu-time --record bench.txt   # store iterations/s measured by bench train on a GPU

Estimates are GFLOP per iteration x iterations / an assumed sustained throughput; a recorded
measurement replaces the estimate for its GPU and is labelled ``measured``.
"""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("gpu-time", help="expected GPU time of each method's colab-t4 run (estimate or measured)",
                       description="Write data/results/gpu_time.md: each method's expected training time on a "
                                   "Colab T4, from counted FLOPs and an assumed throughput, or from a measurement.")
    p.add_argument("--count", action="store_true",
                   help="recount the GFLOP of one iteration on the CPU (minutes per method at 128x128) into gpu_time.json")
    p.add_argument("--models", nargs="+", default=None, help="methods to count (default: every registered one)")
    p.add_argument("--presets", nargs="+", default=["colab-t4"], help="training presets to count (default colab-t4)")
    p.add_argument("--record", metavar="FILE", default=None,
                   help="output of 'python -m course_lib bench train --presets colab-t4 --device cuda' to store as measured")
    p.add_argument("--gpu", default="T4", help="GPU of the table (default T4)")
    p.add_argument("--check", action="store_true", help="only check that data/results/gpu_time.md is up to date")
    p.add_argument("--data", default=None, help="the JSON cache (default data/results/gpu_time.json)")
    p.add_argument("--out", default=None, help="the table (default data/results/gpu_time.md)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads while counting (default 1)")
    p.add_argument("--count-batch", type=int, default=None,
                   help="count at this batch size and scale to the preset's (FLOPs are per image; default: the preset's)")
    p.set_defaults(func=run)


def run(args) -> int:
    import sys
    from pathlib import Path

    from course_lib import config as C
    from course_lib import gpu_time as T
    from course_lib import methods

    data_path = Path(args.data) if args.data else T.DATA_FILE
    out = Path(args.out) if args.out else T.TABLE_FILE
    if args.gpu not in T.GPUS:
        print(f"--gpu {args.gpu}: expected one of {', '.join(T.GPUS)}", file=sys.stderr)
        return 2
    bad = [p for p in args.presets if p not in C.PRESETS]
    if bad:
        print(f"--presets {' '.join(bad)}: expected some of {', '.join(C.PRESETS)}", file=sys.stderr)
        return 2
    models = args.models or list(methods.names())
    unknown = [m for m in models if m not in methods.names()]
    if unknown:
        print(f"--models {' '.join(unknown)}: expected some of {', '.join(methods.names())}", file=sys.stderr)
        return 2
    try:
        data = T.load_data(data_path)
        if args.count:
            import torch

            torch.set_num_threads(args.threads)
            for preset_name in args.presets:
                for m in models:
                    data["counts"].setdefault(preset_name, {})[m] = T.count_iteration(m, preset_name, log=print,
                                                                                 batch=args.count_batch)
                    T.save_data(data, data_path)  # after each method: a long count keeps what it has
        if args.record:
            path = Path(args.record)
            if not path.is_file():
                print(f"--record {path}: no such file (expected the output of python -m course_lib bench train)",
                      file=sys.stderr)
                return 2
            for r in T.parse_bench_train(path.read_text(encoding="utf-8", errors="replace"), str(path)):
                T.record_measured(data, r["model"], r["preset"], r["gpu"], 1.0 / r["s_per_iteration"],
                                  f"python -m course_lib bench train ({path.name})")
                print(f"recorded {r['model']} {r['preset']} on {r['gpu']}: {1.0 / r['s_per_iteration']:.2f} iterations/s")
            T.save_data(data, data_path)
        text = T.markdown(T.table("colab-t4", args.gpu, data), args.gpu)
    except T.GpuTimeError as err:
        print(f"gpu-time: {err}", file=sys.stderr)
        return 1
    if args.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out} is stale: run python -m course_lib gpu-time", file=sys.stderr)
            return 1
        print(f"{out} is up to date")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {out}")
    return 0
