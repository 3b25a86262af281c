"""``python -m course_lib bench train``: training throughput (images/s) per model and preset.

Times full iterations of :class:`course_lib.trainer.Trainer` (each a D update, every
``n_critic``-th also a G update, so whole cycles of ``n_critic`` iterations are timed) on
rendered faces held in memory; images/s = iterations x batch / seconds.  The first cycle
is a warm-up and is not timed.  ``--runs K`` repeats every measurement K times and prints
the median.

**StarGAN against the official solver.**  When ``stargan`` is among ``--models`` (unless
``--no-official``), each preset's StarGAN row is followed by the official yunjey/stargan
``Solver.train()`` (vendored under ``tests/official_stargan/``, run through its own
``main.py``: :mod:`course_lib.benchmarks._official_stargan`) in the same process: same device,
torch thread count, config (image size, network sizes, loss weights, learning rates, betas,
batch, ``n_critic``) and images (the same rendered faces, written as an ImageFolder tree that
the official ``get_loader`` reads with its own transforms: flip, crop, resize, normalise;
``num_workers`` = 1, the default of the official ``main.py``: one loader process beside the
training process, as the solver ships).  Both time one warm-up cycle, then ``--cycles``
timed cycles; the faces are enough for one epoch of the official loader (a new epoch would
start a new loader process inside the timing).  Ours and the official run alternately, K
times each; the table gives the medians and their ratio.

``--levers`` also measures, for StarGAN, each speed lever of
:class:`course_lib.methods.stargan.StarGAN` switched on its own (off when it is on by
default, on for ``channels_last``), all others as the defaults.  The measured effects are
in the docstring of :mod:`course_lib.methods.stargan`.

The closing figures (3 runs, median, at both sizes) come from::

    python -m course_lib bench train --models stargan --presets cpu paper --cycles 8 1 --runs 3 --threads 1 --device cpu
"""
from __future__ import annotations

NAME = "train"
HELP = ("training images/s per model and preset (full D + G cycles); StarGAN also side by side with the "
        "official yunjey/stargan solver")

#: StarGAN's speed levers (attributes of the method) and the value that switches each from its default.
LEVERS = {"no_generator_graph": False, "batch_critic": False, "reuse_fake": False, "freeze_critic": False,
          "fused_adam": False, "split_label_conv": False, "channels_last": True}


def add_arguments(p):
    from course_lib import methods

    p.add_argument("--models", nargs="+", default=list(methods.names()), choices=methods.names(),
                   help="methods (default: every registered one)")
    p.add_argument("--presets", nargs="+", default=["cpu"], choices=["cpu", "colab-t4", "paper"],
                   help="training presets (default: cpu; paper/colab-t4 at 128x128 are slow on a CPU)")
    p.add_argument("--cycles", type=int, nargs="+", default=[2],
                   help="timed cycles of n_critic iterations: one number for every preset, or one per --presets "
                        "entry in order (default 2)")
    p.add_argument("--runs", type=int, default=1,
                   help="repeat each measurement K times and print the median (default 1)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    p.add_argument("--no-official", dest="official", action="store_false",
                   help="skip the official StarGAN solver (by default it runs beside ours whenever stargan is "
                        "among --models)")
    p.add_argument("--levers", action="store_true",
                   help="StarGAN: also measure each speed lever switched on its own (see the module docstring)")


def faces_for(cfg, images: int = 0) -> dict:
    """The rendered faces a measurement trains on (``datasets.decode`` of :class:`SyntheticFaces`):
    at least a batch's worth, at least ``images`` (whole identities of 8 expressions)."""
    from course_lib import datasets

    n = max(cfg.batch_size, images)
    faces = datasets.SyntheticFaces(identities=max(2, -(-n // 8)), size=cfg.image_size, split="all")
    return datasets.decode(faces, cfg.image_size, progress=False)


def bench_config(model: str, preset_name: str, device: str = "auto"):
    from course_lib.config import preset

    return preset(preset_name, model=model, device=device, sample_every=10**6, checkpoint_every=10**6)


def measure(model: str, preset_name: str, cycles: int = 2, device: str = "auto", tensors: dict | None = None,
            levers: dict | None = None) -> dict:
    """Seconds per iteration and images/s of ``model`` under training preset ``preset_name``
    (on ``tensors``, default :func:`faces_for`; ``levers``: method attributes to set first)."""
    import tempfile
    import time

    import torch

    from course_lib.trainer import Trainer

    cfg = bench_config(model, preset_name, device)
    tensors = faces_for(cfg) if tensors is None else tensors
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, tmp, tensors, progress=False)
        if levers:
            for k, v in levers.items():
                if not hasattr(tr.method, k):
                    raise ValueError(f"bench train: method {model!r} has no speed lever {k!r}")
                setattr(tr.method, k, v)
            if levers.get("channels_last"):
                for net in tr.method.nets.values():
                    net.to(memory_format=torch.channels_last)
            tr.optimizers = tr.method.optimizers(tr.config)  # fused_adam is read when they are made

        def cycle():
            for _ in range(cfg.n_critic):
                tr.iteration(tr.stream.next())
                tr.step += 1
            if tr.device.type == "cuda":
                torch.cuda.synchronize()

        cycle()  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(cycles):
            cycle()
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    its = cycles * cfg.n_critic
    return {"model": model, "preset": preset_name, "batch": cfg.batch_size, "image_size": cfg.image_size,
            "s_per_iteration": secs / its, "images_per_s": its * cfg.batch_size / secs,
            "images_per_cpu_s": its * cfg.batch_size / cpu if cpu > 0 else float("nan"),
            "device": str(tr.device), "steps": cfg.steps}


def _median(rows: list[dict]) -> dict:
    import statistics

    ips = statistics.median(r["images_per_s"] for r in rows)
    spi = statistics.median(r["s_per_iteration"] for r in rows)
    out = {**rows[0], "images_per_s": ips, "s_per_iteration": spi, "all": [r["images_per_s"] for r in rows]}
    if "images_per_cpu_s" in rows[0]:
        out["images_per_cpu_s"] = statistics.median(r["images_per_cpu_s"] for r in rows)
    return out


def _runs(k: int) -> str:
    return f"median of {k}" if k > 1 else "1 run"


def run(args) -> int:
    import torch

    from course_lib.benchmarks import machine_line

    if args.threads:
        torch.set_num_threads(args.threads)
    cycles = list(args.cycles) if isinstance(args.cycles, (list, tuple)) else [args.cycles]
    if len(cycles) == 1:
        cycles *= len(args.presets)
    if len(cycles) != len(args.presets):
        raise SystemExit(f"bench train: --cycles gives {len(cycles)} numbers for {len(args.presets)} presets; "
                         "give one, or one per preset")
    if args.runs < 1 or min(cycles) < 1:
        raise SystemExit("bench train: --runs and --cycles must be >= 1")
    official = args.official and "stargan" in args.models
    if official:
        from course_lib.benchmarks import _official_stargan as O

        O.official_dir()  # a clear error before anything is timed
    side, lever_rows = [], []
    print(f"{'model':<11} {'preset':<9} {'batch':>5} {'size':>5} {'s/iter':>8} {'images/s':>9} "
          f"{'preset run (est.)':>18}   ({_runs(args.runs)})")
    for preset_name, n_cycles in zip(args.presets, cycles):
        for model in args.models:
            cfg = bench_config(model, preset_name, args.device)
            vs = official and model == "stargan"
            tensors = faces_for(cfg, O.images_needed(cfg, n_cycles) if vs else 0)
            ours, theirs = [], []
            for _ in range(args.runs):  # alternately, so that a busy spell of the machine hits both
                ours.append(measure(model, preset_name, n_cycles, args.device, tensors))
                if vs:
                    theirs.append(O.time_official(cfg, tensors, n_cycles, ours[-1]["device"]))
            r = _median(ours)
            est = r["s_per_iteration"] * r["steps"] / 60
            print(f"{model:<11} {preset_name:<9} {r['batch']:>5} {r['image_size']:>5} {r['s_per_iteration']:>8.3f} "
                  f"{r['images_per_s']:>9.1f} {est:>14.1f} min", flush=True)
            if vs:
                o = _median(theirs)
                side.append((preset_name, n_cycles, r, o))
                print(f"{'  official':<11} {preset_name:<9} {r['batch']:>5} {r['image_size']:>5} "
                      f"{o['s_per_iteration']:>8.3f} {o['images_per_s']:>9.1f} {'':>18}   "
                      f"ours/official {r['images_per_s'] / o['images_per_s']:.2f}x", flush=True)
            if args.levers and model == "stargan":
                base, rows = [], {lever: [] for lever in LEVERS}
                for _ in range(args.runs):  # the default and each lever in turn, K times
                    base.append(measure(model, preset_name, n_cycles, args.device, tensors))
                    for lever, value in LEVERS.items():
                        rows[lever].append(measure(model, preset_name, n_cycles, args.device, tensors,
                                                   {lever: value}))
                lever_rows += [(preset_name, lever, LEVERS[lever], _median(base), _median(rows[lever]))
                               for lever in LEVERS]
    print("images/s = iterations x batch / time; an iteration is one D update, G every n_critic-th. "
          "'preset run' = s/iter x the preset's iterations (an extrapolation).")
    if side:
        print(f"\nStarGAN, ours vs the official yunjey/stargan solver (same device, threads, config, images; "
              f"timed cycles of n_critic after one warm-up; {_runs(args.runs)}):")
        print(f"{'preset':<9} {'size':>5} {'batch':>5} {'cycles':>6} {'ours img/s':>11} {'official img/s':>15} "
              f"{'ours/official':>14}   runs (ours | official)")
        for preset_name, n_cycles, r, o in side:
            runs = " ".join(f"{v:.1f}" for v in r["all"]) + " | " + " ".join(f"{v:.1f}" for v in o["all"])
            print(f"{preset_name:<9} {r['image_size']:>5} {r['batch']:>5} {n_cycles:>6} {r['images_per_s']:>11.1f} "
                  f"{o['images_per_s']:>15.1f} {r['images_per_s'] / o['images_per_s']:>13.2f}x   {runs}")
        print("official: tests/official_stargan (yunjey/stargan main.py + Solver.train(), num_workers=1 as its "
              "main.py default), timed from the fetch of the first timed batch to the end of train().")
    if lever_rows:
        print(f"\nStarGAN speed levers, each switched on its own ({_runs(args.runs)}; speed-up = default / "
              "lever switched, in images per wall second and per CPU second of this process, the steadier "
              "figure on a shared machine):")
        print(f"{'preset':<9} {'lever':<20} {'set to':>6} {'images/s':>9} {'default':>9} {'speed-up':>9}"
              f" {'img/cpu-s':>10} {'default':>9} {'speed-up':>9}")
        for preset_name, lever, value, r, v in lever_rows:
            print(f"{preset_name:<9} {lever:<20} {str(value):>6} {v['images_per_s']:>9.1f} {r['images_per_s']:>9.1f} "
                  f"{r['images_per_s'] / v['images_per_s']:>8.2f}x {v['images_per_cpu_s']:>10.1f} "
                  f"{r['images_per_cpu_s']:>9.1f} {r['images_per_cpu_s'] / v['images_per_cpu_s']:>8.2f}x")
    print(machine_line())
    return 0
