"""``python -m course_lib main``: the course's main job, one command on a fresh machine.

1. builds the embedded synthetic dataset in ``data/synthetic`` if it is missing;
2. trains LGP-GAN with the ``cpu`` training preset into ``runs/main`` (or ``--out``);
3. writes there the sample grid (inputs x 8 targets), the attention masks, the loss
   curves (PNG) and ``summary.json`` with the wall time, and copies the final grid and
   masks to ``runs/main/sample_grid.png`` / ``attention_masks.png``;
4. evaluates the trained model (``python -m course_lib evaluate``, offline: in-domain FID,
   PSNR/SSIM against the ground truth, accuracy R and G, identity) into ``runs/main/eval/``
   (skip with ``--no-eval``), judged by the shipped judge ``data/judges/expression-judge-64px-v*.pt``
   (the cpu preset trains at 64x64 on the embedded set, the data that judge was trained on), so
   no classifier is trained and the in-domain FID is the same feature space on every machine.
   R+G trains a second classifier (minutes on 2 cores), so the main job leaves it out unless
   ``--rg`` is given; ``python -m course_lib evaluate --run runs/main`` later adds it.

An existing run in ``--out`` is continued (``--resume`` semantics; a finished run only
rewrites its figures); ``--fresh`` refuses to touch an existing run instead.
"""
from __future__ import annotations

import time
from pathlib import Path


def register(sub):
    p = sub.add_parser("main", help="the main job: build data, train LGP-GAN (cpu preset), write grid, masks, curves")
    p.add_argument("--out", type=Path, default=Path("runs/main"), help="run folder (default: runs/main)")
    p.add_argument("--steps", type=int, default=None, help="iterations (default: the cpu preset's)")
    from course_lib import methods

    p.add_argument("--model", choices=methods.names(), default="lgp-gan",
                   help="method (default: lgp-gan, the course's method; python -m course_lib methods)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--no-eval", action="store_true", help="skip step 4 (the evaluation)")
    p.add_argument("--rg", action="store_true", help="also evaluate protocol R+G (a second classifier, ~5 min)")
    p.add_argument("--fresh", action="store_true", help="fail if --out already holds a run instead of continuing it")
    p.set_defaults(func=run)


def run(args) -> int:
    import json
    import shutil
    import sys

    from course_lib import checkpoint, datasets
    from course_lib.config import ConfigError, preset
    from course_lib.lesson import repo_root
    from course_lib.trainer import Trainer, TrainingDiverged

    t0 = time.perf_counter()
    root = repo_root() / datasets.DEFAULT_SYNTHETIC
    built = False
    if not (root / datasets.METADATA).is_file():
        print(f"[1/4] building the embedded dataset in {root}", flush=True)
        datasets.build_synthetic(root)
        built = True
    else:
        print(f"[1/4] dataset: {root} (already built)", flush=True)
    data_s = time.perf_counter() - t0
    try:
        config = preset("cpu", model=args.model, threads=args.threads,
                        **({"steps": args.steps} if args.steps else {}))
        resume = (args.out / "checkpoints" / "last.pt").is_file() and not args.fresh
        print(f"[2/4] training {config.model} ({config.steps} iterations, cpu preset) into {args.out}"
              + (" (continuing the existing run)" if resume else ""), flush=True)
        trainer = Trainer(config, args.out, resume=resume, steps=args.steps if resume else None)
        summary = trainer.train()
    except (ConfigError, FileExistsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    print("[3/4] figures", flush=True)
    if not summary["interrupted"]:
        written = trainer.write_samples()  # the final grid, also for a run that was already finished
        summary["sample_grid"] = str(Path(written["sample_grid"]).relative_to(args.out))
        if written.get("masks"):
            summary["masks"] = str(Path(written["masks"]).relative_to(args.out))
    for key, name in (("sample_grid", "sample_grid.png"), ("masks", "attention_masks.png")):
        if summary.get(key):
            shutil.copyfile(args.out / summary[key], args.out / name)
            summary[key] = name
    summary.update(job_wall_time_s=round(time.perf_counter() - t0, 1), dataset_built_s=round(data_s, 1) if built else 0.0)
    checkpoint.atomic_write_bytes(args.out / "summary.json", json.dumps(summary, indent=2).encode())
    from course_lib.commands.train import print_summary

    print_summary(summary, args.out)
    if summary["interrupted"]:
        print(f"main job: interrupted after {summary['job_wall_time_s']:.0f} s; run it again to continue")
        return 130
    if not args.no_eval:
        from course_lib.evaluate import evaluate_run

        t1 = time.perf_counter()
        print("[4/4] evaluation (python -m course_lib evaluate)", flush=True)
        try:
            evaluate_run(args.out, rg=args.rg)
        except (FileNotFoundError, ValueError) as err:    # e.g. a corrupted shipped judge: the file is named
            print(f"error: evaluation: {err}", file=sys.stderr)
            return 2
        print(f"evaluation: {time.perf_counter() - t1:.0f} s -> {args.out / 'eval' / 'metrics.md'}")
        if not args.rg:
            print(f"(R+G left out; `python -m course_lib evaluate --run {args.out}` adds it)")
    print(f"main job: {time.perf_counter() - t0:.0f} s wall time in all")
    return 0
