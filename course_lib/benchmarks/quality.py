"""``python -m course_lib bench quality``: the main job's quality targets (issue 15), over seeds.

For each method and seed it trains a run with the ``cpu`` training preset (the method's own
``cpu`` preset, e.g. StarGAN's) into ``<out>/<model>-seed<k>`` and evaluates it with the
course's evaluation (changed targets only, the shipped judge, copy and oracle rows), exactly
as ``python -m course_lib main`` does; a run already finished in ``<out>`` is evaluated (or,
when evaluated, read) instead of trained again, so an interrupted benchmark continues.
Then it prints

* per method: the mean, sample standard deviation and range over its seeds of PSNR / SSIM
  gain over copy, high-frequency ratio, G accuracy (and its worst target), changes outside
  the expression, and training + evaluation wall time;
* for the main method (the first of ``--models``): each target of :data:`TARGETS`, met or
  not, on the mean and on every seed;
* one ``compare`` table of the first seed of every method, between the copy and oracle rows
  (also written to ``<out>/compare.md`` / ``.csv``).

It is a benchmark, not a test: minutes per run (the README gives the figures it printed).
"""
from __future__ import annotations

import statistics
from pathlib import Path

NAME = "quality"
HELP = "the main job's quality targets over seeds (PSNR/SSIM gain over copy, HF ratio, G), baselines beside"

#: (label, metrics.json key or derived key, comparison, threshold) — issue 15's targets on 2 CPU cores.
TARGETS = (
    ("PSNR gain over copy >= +1.0 dB", "psnr_gain", ">=", 1.0),
    ("SSIM gain over copy > 0", "ssim_gain", ">", 0.0),
    ("HF ratio within 1.00 +/- 0.05 (>= 0.95)", "hf_ratio", ">=", 0.95),
    ("HF ratio within 1.00 +/- 0.05 (<= 1.05)", "hf_ratio", "<=", 1.05),
    ("G accuracy >= 90 %", "acc_g", ">=", 0.90),
    ("every target's G >= 75 %", "acc_g_min", ">=", 0.75),
    ("training + evaluation <= 20 min", "job_min", "<=", 20.0),
)

#: columns of the per-method summary: (header, key, scale, format)
COLUMNS = (
    ("PSNR gain dB", "psnr_gain", 1.0, "+.2f"),
    ("SSIM gain", "ssim_gain", 1.0, "+.4f"),
    ("HF ratio", "hf_ratio", 1.0, ".3f"),
    ("G %", "acc_g", 100.0, ".1f"),
    ("worst target G %", "acc_g_min", 100.0, ".1f"),
    ("outside change %", "outside_change", 100.0, ".1f"),
    ("train+eval min", "job_min", 1.0, ".1f"),
)


def add_arguments(p):
    from course_lib import methods

    p.add_argument("--models", nargs="+", default=["lgp-gan", "stargan", "ganimation"], choices=methods.names(),
                   help="methods (default: lgp-gan, stargan, ganimation); the targets are checked on the first")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2],
                   help="seeds of the first method (default 0 1 2)")
    p.add_argument("--baseline-seeds", nargs="+", type=int, default=[0],
                   help="seeds of the other methods (default 0)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2: the targets' machine)")
    p.add_argument("--steps", type=int, default=None, help="iterations (default: each method's cpu preset)")
    p.add_argument("--out", type=Path, default=Path("runs") / "bench-quality", help="folder of the runs")
    p.add_argument("--data", default="synthetic", help="dataset (default: the embedded synthetic set)")
    p.add_argument("--publish", action="store_true",
                   help="also copy bench_quality.md to data/results/ for the book's Results page")


def derived(row: dict, summary: dict, eval_s: float | None) -> dict:
    """``row`` (a metrics.json model row) with ``acc_g_min`` (the worst target's G) and ``job_min``
    (training wall time of ``summary`` + evaluation seconds, in minutes; None when unknown)."""
    per = [v for k, v in row.items() if k.startswith("acc_g_") and isinstance(v, (int, float))]
    out = dict(row, acc_g_min=min(per) if per else None)
    train_s = summary.get("wall_time_s")
    out["job_min"] = (train_s + eval_s) / 60 if train_s is not None and eval_s is not None else None
    return out


def met(value, op: str, threshold: float) -> bool | None:
    if value is None:
        return None
    return {">=": value >= threshold, ">": value > threshold, "<=": value <= threshold}[op]


def spread(values: list[float]) -> tuple[float, float, float, float]:
    """(mean, sample standard deviation (0 for one value), min, max)."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), sd, min(values), max(values)


def summary_table(results: dict, references: list[dict] = ()) -> str:
    """Markdown: one line per method, each column ``mean ± sd [min, max] (n)``, between the copy and
    oracle ``references`` (rows of the same evaluation: same test pairs, same judge)."""
    lines = ["| method | seeds | " + " | ".join(h for h, *_ in COLUMNS) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]

    def ref_line(r):
        cells = []
        for _, key, scale, fmt in COLUMNS:
            v = r.get(key)
            cells.append("n/a" if v is None else ("∞" if v == float("inf") else f"{v * scale:{fmt}}"))
        return f"| {r['method']} | | " + " | ".join(cells) + " |"

    lines += [ref_line(r) for r in references if r["method"].startswith("copy")]
    for model, rows in results.items():
        cells = []
        for _, key, scale, fmt in COLUMNS:
            vals = [r[key] * scale for r in rows if r.get(key) is not None]
            if not vals:
                cells.append("n/a")
                continue
            m, sd, lo, hi = spread(vals)
            cells.append(f"{m:{fmt}}" if len(vals) == 1 else f"{m:{fmt}} ± {sd:.2f} [{lo:{fmt}}, {hi:{fmt}}]")
        seeds = ", ".join(str(r["seed"]) for r in rows)
        lines.append(f"| {model} | {seeds} | " + " | ".join(cells) + " |")
    lines += [ref_line(r) for r in references if r["method"].startswith("oracle")]
    return "\n".join(lines)


def targets_table(model: str, rows: list[dict]) -> str:
    """Markdown: each of :data:`TARGETS` on the mean over ``rows`` and on every seed."""
    head = "| target | mean | " + " | ".join(f"seed {r['seed']}" for r in rows) + " |"
    lines = [f"Targets (issue 15) for {model}:", "", head, "|---|---|" + "---|" * len(rows)]
    for label, key, op, thr in TARGETS:
        vals = [r.get(key) for r in rows]
        known = [v for v in vals if v is not None]
        mean = statistics.fmean(known) if known else None

        def cell(v):
            ok = met(v, op, thr)
            return "n/a" if ok is None else f"{v:.3f} {'met' if ok else 'NOT met'}"
        lines.append(f"| {label} | {cell(mean)} | " + " | ".join(cell(v) for v in vals) + " |")
    return "\n".join(lines)


def train_and_evaluate(model: str, seed: int, out: Path, threads: int, steps: int | None, data: str, log=print) -> dict:
    """Train (unless finished) and evaluate (unless evaluated) one run; its derived result row."""
    import json
    import time

    from course_lib import checkpoint
    from course_lib.config import TrainConfig, load_yaml_mapping, preset
    from course_lib.evaluate import evaluate_run
    from course_lib.trainer import Trainer

    run = out / f"{model}-seed{seed}"
    summary_path, metrics_path, timing_path = run / "summary.json", run / "eval" / "metrics.json", run / "bench.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else None
    config = preset("cpu", model=model, seed=seed, threads=threads, data=data, **({"steps": steps} if steps else {}))
    if (run / "config.yaml").is_file():     # a run found in --out must be this very recipe (thread count aside)
        theirs = TrainConfig.from_dict(load_yaml_mapping(run / "config.yaml"), source=str(run / "config.yaml"))
        a, b = config.to_dict(), theirs.to_dict()
        differ = sorted(k for k in set(a) | set(b) if k != "threads" and a.get(k) != b.get(k))
        if differ:
            raise ValueError(f"{run}: trained with another config ({', '.join(differ)} differ from the cpu preset "
                             f"of {model} with seed {seed}); move it away or choose another --out")
    reused = True
    if summary is None or summary.get("interrupted") or summary.get("step") != summary.get("steps"):
        reused = False
        resume = (run / "checkpoints" / "last.pt").is_file()
        log(f"{model} seed {seed}: training {config.steps} iterations into {run}"
            + (" (continuing)" if resume else ""))
        trainer = Trainer(config, run, resume=resume, progress=False)
        summary = trainer.train()
        if summary["interrupted"]:
            raise KeyboardInterrupt
        checkpoint.atomic_write_bytes(summary_path, json.dumps(summary, indent=2).encode())
    timing = json.loads(timing_path.read_text()) if timing_path.is_file() else {}
    if not metrics_path.is_file() or "eval_s" not in timing:
        log(f"{model} seed {seed}: evaluating")
        t0 = time.perf_counter()
        evaluate_run(run, rg=False, progress=False, log=lambda *_: None)
        timing = {"eval_s": round(time.perf_counter() - t0, 1)}
        checkpoint.atomic_write_bytes(timing_path, json.dumps(timing).encode())
    rows = json.loads(metrics_path.read_text())
    row = next(r for r in rows if not r["method"].startswith(("copy", "oracle")))
    res = derived(row, summary, timing.get("eval_s"))
    res.update(seed=seed, run=str(run), train_s=summary.get("wall_time_s"), eval_s=timing.get("eval_s"),
               threads=summary.get("torch_threads"), reused=reused,
               references=[derived(r, {}, None) for r in rows if r["method"].startswith(("copy", "oracle"))])
    log(f"{model} seed {seed}: G {res['acc_g']:.1%}, PSNR gain {res['psnr_gain']:+.2f} dB, "
        f"HF ratio {res['hf_ratio']:.2f}, {res['job_min'] or float('nan'):.1f} min")
    return res


def run(args) -> int:
    import torch

    from course_lib.benchmarks import machine_line
    from course_lib.evaluate import compare_rows, load_rows, markdown_table, write_table

    if args.threads:
        torch.set_num_threads(args.threads)
    results: dict[str, list[dict]] = {}
    for i, model in enumerate(args.models):
        for seed in (args.seeds if i == 0 else args.baseline_seeds):
            try:
                res = train_and_evaluate(model, seed, args.out, args.threads, args.steps, args.data)
            except (ValueError, FileNotFoundError) as err:
                print(f"bench quality: {err}")
                return 2
            results.setdefault(model, []).append(res)
    text = ["Quality over seeds (changed targets; mean ± sample sd [min, max]; the shipped judge):", "",
            summary_table(results, next(iter(results.values()))[0]["references"]), "", targets_table(args.models[0], results[args.models[0]]), ""]
    text += ["Runs (training wall time as recorded by the run; a run found finished in --out is reused, "
             "not trained again):", ""]
    for model, rows in results.items():
        for r in rows:
            text.append(f"- {r['run']}: trained in {r['train_s']:.0f} s with {r['threads']} thread(s)"
                        f"{' (reused)' if r['reused'] else ''}, evaluated in {r['eval_s']:.0f} s")
    text.append("")
    first_runs = [Path(rows[0]["run"]) for rows in results.values()]
    rows = compare_rows(load_rows(first_runs))
    text += ["Compare (first seed of each method, copy and oracle on the same translations):", "",
             markdown_table(rows), ""]
    print("\n".join(text))
    write_table(rows, args.out, stem="compare", title="bench quality: first seed of each method")
    (args.out / "bench_quality.md").write_text("\n".join(text) + "\n" + machine_line() + "\n")
    print(f"wrote {args.out / 'bench_quality.md'} and {args.out / 'compare.md'}")
    if args.publish:
        from course_lib.commands.reproduce import publish

        publish(args.out, "bench_quality")
    print(machine_line())
    return 0
