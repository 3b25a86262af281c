"""``python -m course_lib train``: train a method of :mod:`course_lib.methods` into a run folder.

    python -m course_lib train --model lgp-gan --preset cpu --data synthetic --out runs/NAME [--steps N] [--resume]
    python -m course_lib train --model stargan --set lambda_cls=3 --out runs/NAME

Several processes (one per GPU, or gloo on the CPU; :mod:`course_lib.distributed`):

    torchrun --standalone --nproc_per_node 2 -m course_lib train --model stargan --out runs/NAME

``--preset`` is a *training preset* (schedule); the networks' size comes with it
(``net_size``, a *network size*).  ``--set KEY=VALUE`` sets a field of the config or a hyper-parameter
of the method (``python -m course_lib methods`` lists them); the value is read as YAML.

The run folder holds config.yaml, checkpoints/last.pt, log.csv, samples/, masks/,
loss_curves.png and summary.json (see :mod:`course_lib.trainer`).  Ctrl-C saves a
checkpoint; ``--resume`` continues it exactly.
"""
from __future__ import annotations

from pathlib import Path

PRESETS = ("paper", "colab-t4", "cpu")


def register(sub):
    p = sub.add_parser("train", help="train a method (python -m course_lib methods) into runs/NAME",
                       description="Train a model (LGP-GAN Sections III.B, IV.B). Ctrl-C saves a checkpoint; "
                                   "--resume continues exactly where it stopped.")
    add_train_arguments(p, default_out=None)
    p.set_defaults(func=run)


def add_train_arguments(p, default_out):
    from course_lib import methods

    p.add_argument("--model", choices=methods.names(), default="lgp-gan",
                   help="method to train (default: lgp-gan; python -m course_lib methods lists them)")
    p.add_argument("--preset", choices=PRESETS, default="cpu",
                   help="training preset: paper (GPU, 200k iterations), colab-t4 (the paper networks, a schedule sized for a Colab T4 session: python -m course_lib gpu-time), "
                        "cpu (the default: small networks, ~20 min on 2 cores)")
    p.add_argument("--data", default="synthetic",
                   help="'synthetic' (data/synthetic, built if missing) or a dataset folder (default: synthetic)")
    p.add_argument("--out", type=Path, default=default_out, required=default_out is None,
                   help="run folder, e.g. runs/NAME" + (f" (default: {default_out})" if default_out else ""))
    p.add_argument("--steps", type=int, default=None, help="iterations (D updates) in total; overrides the preset")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from checkpoints/last.pt, with its own config (--steps may extend it)")
    p.add_argument("--config", type=Path, default=None,
                   help="a YAML file of TrainConfig fields (the method's hyper-parameters under 'hyper:') "
                        "applied over the preset")
    p.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                   help="a config field or a hyper-parameter of the method, e.g. --set lambda_cls=3 (repeatable)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the preset's, 0)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None, help="default: auto (GPU when present)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--amp", action="store_true", help="mixed precision (bfloat16) on a GPU")


def build_config(args):
    """TrainConfig from the preset, then --config, then the command-line options."""
    from course_lib.config import ConfigError, load_yaml_mapping, preset

    overrides = {"model": args.model, "data": args.data}
    if args.config is not None:
        if not args.config.is_file():
            raise ConfigError(f"--config {args.config}: no such file")
        overrides.update(load_yaml_mapping(args.config, source=f"--config {args.config}"))
    for name in ("steps", "seed", "device", "threads"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.amp:
        overrides["amp"] = True
    settings = parse_settings(getattr(args, "settings", []))
    if settings:
        from dataclasses import fields

        from course_lib.config import TrainConfig

        known = {f.name for f in fields(TrainConfig)}
        hyper = dict(overrides.get("hyper") or {})
        for k, v in settings.items():
            if k in known and k != "hyper":
                overrides[k] = v
            else:  # the method's Hyper dataclass validates it (an unknown key names the method)
                hyper[k] = v
        overrides["hyper"] = hyper
    return preset(args.preset, **overrides)


def parse_settings(items) -> dict:
    """``["lambda_cls=3", "attention_variant=l2"]`` -> ``{"lambda_cls": 3, ...}`` (values read as YAML)."""
    import yaml

    from course_lib.config import ConfigError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set lambda_cls=3")
        try:
            out[key.strip()] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise ConfigError(f"--set {item!r}: the value is not valid YAML ({err})") from None
    return out


def run(args) -> int:
    import sys

    from course_lib.checkpoint import CheckpointError
    from course_lib.config import ConfigError
    from course_lib.trainer import Trainer, TrainingDiverged

    from course_lib import distributed

    try:
        config = None if args.resume else build_config(args)
        trainer = Trainer(config, args.out, resume=args.resume, steps=args.steps if args.resume else None)
        summary = trainer.train()
    except (ConfigError, CheckpointError, FileExistsError, FileNotFoundError, ValueError) as err:
        if distributed.current().main:
            print(f"error: {err}", file=sys.stderr)
        return 2
    except TrainingDiverged as err:
        if distributed.current().main:
            print(f"error: {err}", file=sys.stderr)
        return 3
    finally:
        distributed.shutdown()  # torchrun: leave the process group (nothing to do otherwise)
    if trainer.dist.main:
        print_summary(summary, args.out)
    return 130 if summary["interrupted"] else 0


def print_summary(summary: dict, out: Path) -> None:
    state = "interrupted at" if summary["interrupted"] else "finished"
    print(f"{summary['model']}: {state} step {summary['step']}/{summary['steps']} in "
          f"{summary['wall_time_s']:.0f} s of training ({summary['images_per_s']} images/s on {summary['device']})")
    for key in ("sample_grid", "masks", "loss_curves", "checkpoint"):
        if summary.get(key):
            print(f"  {key}: {out / summary[key]}")
    print(f"  summary: {out / 'summary.json'}")
