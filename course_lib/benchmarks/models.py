"""``python -m course_lib bench models``: parameter count and forward+backward time per model and preset.

For each model (LGP-GAN, StarGAN, GANimation) and preset (``paper``, ``cpu``) it prints
the parameters of G and D and the median wall time of

* a **G step**: G forward on a batch, D on the generated images (for LGP-GAN: D_eye,
  D_mouth, D_global on the Stage I and Stage II outputs), backward of a scalar into G;
* a **D step**: D forward on real and (detached) generated images, backward into D;

at ``--batch`` images, and the floating-point operations of one G step (counted by
``torch.utils.flop_counter``, machine-independent: seconds = GFLOP / achieved GFLOP/s).
The ``paper`` preset takes minutes per model on a CPU; ``--presets cpu`` for a quick run.  A full training iteration adds the gradient penalty, the cycle
(second G pass) and ``n_critic`` D steps; these two figures are its building blocks.
"""
from __future__ import annotations

import statistics
import time

NAME = "models"
HELP = "parameter count and forward+backward time of every network, per preset"


def add_arguments(parser):
    parser.add_argument("--models", nargs="+", default=["lgp-gan", "stargan", "ganimation"],
                        help="models to measure (default: all three)")
    parser.add_argument("--presets", nargs="+", default=["cpu", "paper"], help="presets (default: cpu paper)")
    parser.add_argument("--batch", type=int, default=16, help="batch size (default 16, the paper's)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions after one warm-up (median)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--seed", type=int, default=0)


def _inputs(name, preset, batch, G, device):
    import torch

    from course_lib import regions

    s = preset.image_size
    x = torch.rand(batch, 3, s, s, device=device) * 2 - 1
    if name == "ganimation":
        return x, (x, torch.rand(batch, G.cond_dim, device=device))
    c = torch.randint(0, G.n_classes if name == "lgp-gan" else G.c_dim, (batch,), device=device)
    if name != "lgp-gan":
        return x, (x, c)
    # a plausible face layout: landmarks of a mean-shaped face, jittered (boxes only need the positions)
    lm = torch.rand(batch, 68, 2, device=device) * (0.3 * s) + 0.35 * s
    return x, (x, c, regions.region_boxes(lm, "lgp", s))


def _d_inputs(name, result, x):
    if name == "lgp-gan":
        return {"eye": result["eye_out"], "mouth": result["mouth_out"], "global": result["out"]}
    return result.out


def _score(name, d_out):
    outs = d_out.values() if name == "lgp-gan" else [d_out]
    return sum(src.mean() + cls.float().pow(2).mean() for src, cls in outs)


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
    """``{"g_params", "d_params", "g_step_s", "d_step_s"}`` of ``name`` at ``preset``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from course_lib.presets import build_models, get_preset

    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(seed)
    p = get_preset(preset)
    m = build_models(name, p)
    G, D = m["G"].to(device), m["D"].to(device)
    x, g_args = _inputs(name, p, batch, G, device)

    def g_step():
        G.zero_grad(set_to_none=True)
        _score(name, D(_d_inputs(name, G(*g_args), x))).backward()

    with torch.no_grad():
        fake = _d_inputs(name, G(*g_args), x)
    real = {k: v.detach().clone() for k, v in fake.items()} if name == "lgp-gan" else x

    def d_step():
        D.zero_grad(set_to_none=True)
        (_score(name, D(real)) - _score(name, D(fake))).backward()

    count = lambda mod: sum(q.numel() for q in mod.parameters())
    with FlopCounterMode(display=False) as flops:
        g_step()
    return {"g_params": count(G), "d_params": count(D), "g_step_gflop": flops.get_total_flops() / 1e9,
            "g_step_s": _time(g_step, repeats, device), "d_step_s": _time(d_step, repeats, device)}


def run(args) -> int:
    from course_lib import benchmarks
    from course_lib.lesson import fast_mode
    from course_lib.presets import get_preset

    batch, repeats = (2, 1) if fast_mode() else (args.batch, args.repeats)
    print(f"forward+backward per step, batch {batch}, median of {repeats} after 1 warm-up")
    print(f"{'model':<11} {'preset':<6} {'size':>5} {'G params':>11} {'D params':>11} {'G GFLOP':>8} "
          f"{'G step s':>9} {'D step s':>9}")
    for preset in args.presets:
        p = get_preset(preset)
        for name in args.models:
            r = measure(name, p, batch, repeats, args.device, args.seed)
            print(f"{name:<11} {p.name:<6} {p.image_size:>5} {r['g_params']:>11,} {r['d_params']:>11,} "
                  f"{r['g_step_gflop']:>8.1f} {r['g_step_s']:>9.3f} {r['d_step_s']:>9.3f}", flush=True)
    print(benchmarks.machine_line())
    return 0
