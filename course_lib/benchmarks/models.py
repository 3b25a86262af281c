"""``python -m course_lib bench models``: parameter count and update time per method and network size.

For each method of :mod:`course_lib.methods` (default: all) and network size (``paper``,
``cpu``) it prints the parameters of each network and, for each network, the median wall
time of one **update**: the method's ``loss(network, batch)`` forward and backward
(LGP-GAN: D = Eq. 8 over D_global, D_eye, D_mouth with the gradient penalty; G = Eq. 9
with the cycle and self-reconstruction passes), at ``--batch`` random images, and the
floating-point operations of that update (counted by ``torch.utils.flop_counter``,
machine-independent: seconds = GFLOP / achieved GFLOP/s; "nan" where the counter cannot follow
a gradient penalty's double backward).  The ``paper`` size takes
minutes per method on a CPU; ``--sizes cpu`` for a quick run.  A training iteration is
one critic update, every ``n_critic``-th also a G update.
"""
from __future__ import annotations

import statistics
import time

NAME = "models"
HELP = "parameter count and update time of every method's networks, per network size"


def add_arguments(parser):
    from course_lib import methods

    parser.add_argument("--models", nargs="+", default=list(methods.names()), choices=methods.names(),
                        help="methods to measure (default: every registered one)")
    parser.add_argument("--sizes", nargs="+", default=["cpu", "cpu-wide", "paper"],
                        help="network sizes (default: cpu cpu-wide paper)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (default 16, the paper's)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions after one warm-up (median)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--seed", type=int, default=0)


def random_batch(size: int, batch: int, device) -> dict:
    """Random images, labels and AUs, and plausible landmarks (boxes only need positions)."""
    import torch

    from course_lib import facs

    return {"image": torch.rand(batch, 3, size, size, device=device) * 2 - 1,
            "label": torch.randint(0, facs.NUM_CLASSES, (batch,), device=device),
            "landmarks": torch.rand(batch, 68, 2, device=device) * (0.3 * size) + 0.35 * size,
            "aus": torch.rand(batch, len(facs.AU_NUMBERS), device=device)}


def _time(fn, repeats, device):
    import torch

    times = []
    for i in range(repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def measure(name, preset, batch=16, repeats=3, device=None, seed=0) -> dict:
    """``{network: {"params", "gflop", "update_s"}}`` of method ``name`` at network size ``preset``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from course_lib import methods
    from course_lib.presets import get_preset

    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(seed)
    p = get_preset(preset)
    m = methods.get(name)(size=p).to(device)
    b = m.prepare(random_batch(p.image_size, batch, device))
    out = {}
    for net in m.network_names:
        def update():
            m.nets[net].zero_grad(set_to_none=True)
            m.loss(net, b)[0].backward()

        try:
            with FlopCounterMode(display=False) as flops:
                update()
            gflop = flops.get_total_flops() / 1e9
        except RuntimeError:  # the counter cannot follow the gradient penalty's double backward
            gflop = float("nan")
        out[net] = {"params": sum(q.numel() for q in m.nets[net].parameters()),
                    "gflop": gflop, "update_s": _time(update, repeats, device)}
    return out


def run(args) -> int:
    from course_lib import benchmarks
    from course_lib.lesson import fast_mode
    from course_lib.presets import get_preset

    batch, repeats = (2, 1) if fast_mode() else (args.batch, args.repeats)
    print(f"one update (loss forward + backward) per network, batch {batch}, median of {repeats} after 1 warm-up")
    print(f"{'method':<11} {'size':<6} {'px':>4} {'network':>7} {'params':>11} {'GFLOP':>8} {'update s':>9}")
    for preset in args.sizes:
        p = get_preset(preset)
        for name in args.models:
            for net, r in measure(name, p, batch, repeats, args.device, args.seed).items():
                print(f"{name:<11} {p.name:<6} {p.image_size:>4} {net:>7} {r['params']:>11,} {r['gflop']:>8.1f} "
                      f"{r['update_s']:>9.3f}", flush=True)
    print(benchmarks.machine_line())
    return 0
