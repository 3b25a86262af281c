"""``python -m course_lib bench train``: training throughput (images/s) per model and preset.

Times full iterations of :class:`course_lib.trainer.Trainer` (each a D update, every
``n_critic``-th also a G update, so whole cycles of ``n_critic`` iterations are timed) on
rendered faces held in memory; images/s = iterations x batch / seconds.  The first cycle
is a warm-up and is not timed.
"""
from __future__ import annotations

NAME = "train"
HELP = "training images/s per model and preset (full D + G cycles)"


def add_arguments(p):
    from course_lib import methods

    p.add_argument("--models", nargs="+", default=list(methods.names()), choices=methods.names(),
                   help="methods (default: every registered one)")
    p.add_argument("--presets", nargs="+", default=["cpu"], choices=["cpu", "colab-t4", "paper"],
                   help="training presets (default: cpu; paper/colab-t4 at 128x128 are slow on a CPU)")
    p.add_argument("--cycles", type=int, default=2, help="timed cycles of n_critic iterations (default 2)")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")


def measure(model: str, preset_name: str, cycles: int = 2, device: str = "auto") -> dict:
    """Seconds per iteration and images/s of ``model`` under training preset ``preset_name``."""
    import tempfile
    import time

    import torch

    from course_lib import datasets
    from course_lib.config import preset
    from course_lib.datasets import decode
    from course_lib.trainer import Trainer

    cfg = preset(preset_name, model=model, device=device, sample_every=10**6, checkpoint_every=10**6)
    faces = datasets.SyntheticFaces(identities=max(2, -(-cfg.batch_size // 8)), size=cfg.image_size, split="all")
    tensors = decode(faces, cfg.image_size, progress=False)
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, tmp, tensors, progress=False)

        def cycle():
            for _ in range(cfg.n_critic):
                tr.iteration(tr.stream.next())
                tr.step += 1
            if tr.device.type == "cuda":
                torch.cuda.synchronize()

        cycle()  # warm-up
        t0 = time.perf_counter()
        for _ in range(cycles):
            cycle()
        secs = time.perf_counter() - t0
    its = cycles * cfg.n_critic
    return {"model": model, "preset": preset_name, "batch": cfg.batch_size, "image_size": cfg.image_size,
            "s_per_iteration": secs / its, "images_per_s": its * cfg.batch_size / secs,
            "device": str(tr.device), "steps": cfg.steps}


def run(args) -> int:
    import torch

    from course_lib.benchmarks import machine_line

    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{'model':<11} {'preset':<9} {'batch':>5} {'size':>5} {'s/iter':>8} {'images/s':>9} "
          f"{'preset run (est.)':>18}")
    for preset_name in args.presets:
        for model in args.models:
            r = measure(model, preset_name, args.cycles, args.device)
            est = r["s_per_iteration"] * r["steps"] / 60
            print(f"{model:<11} {preset_name:<9} {r['batch']:>5} {r['image_size']:>5} {r['s_per_iteration']:>8.3f} "
                  f"{r['images_per_s']:>9.1f} {est:>14.1f} min", flush=True)
    print("images/s = iterations x batch / time; an iteration is one D update, G every n_critic-th. "
          "'preset run' = s/iter x the preset's iterations (an extrapolation).")
    print(machine_line())
    return 0
