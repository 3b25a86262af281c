"""``python -m course_lib bench render``: faces per second of the procedural renderer."""
NAME = "render"
HELP = "faces/s of the synthetic face renderer (render_batch) at a given size"


def add_arguments(p):
    p.add_argument("--size", type=int, default=128, help="image size (default: 128)")
    p.add_argument("--faces", type=int, default=400, help="faces to render (default: 400)")
    p.add_argument("--workers", type=int, default=1, help="processes (default: 1)")
    p.add_argument("--supersample", type=int, default=3, help="supersampling factor (default: 3)")


def _chunk(args):
    import numpy as np

    from course_lib import facs, render

    start, n, size, ss = args
    rng = np.random.default_rng(start)
    ids = [render.sample_identity(rng) for _ in range(n // 8 + 1) for _ in range(8)][:n]
    A = np.stack([render.expression_aus(facs.EXPRESSIONS[i % 8], 1.0, rng) for i in range(n)])
    render.render_batch(ids, A, size, ss)
    return n


def run(args) -> int:
    import time
    from concurrent.futures import ProcessPoolExecutor

    from course_lib.benchmarks import machine_line

    _chunk((0, 16, args.size, args.supersample))            # warm-up (imports, caches)
    w = max(1, args.workers)
    parts = [(k, args.faces // w + (k < args.faces % w), args.size, args.supersample) for k in range(w)]
    t0 = time.perf_counter()
    if w == 1:
        n = _chunk(parts[0])
    else:
        with ProcessPoolExecutor(w) as ex:
            n = sum(ex.map(_chunk, parts))
    dt = time.perf_counter() - t0
    print(f"render: {n} faces at {args.size}x{args.size} (supersample {args.supersample}, {w} worker(s)) "
          f"in {dt:.2f} s = {n / dt:.0f} faces/s")
    print(machine_line())
    return 0
