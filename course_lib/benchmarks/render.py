"""``python -m course_lib bench render``: faces per second of the procedural renderer."""
NAME = "render"
HELP = "faces/s of the synthetic face renderer (render_batch) at a given size"


def add_arguments(p):
    p.add_argument("--size", type=int, default=128, help="image size (default: 128)")
    p.add_argument("--faces", type=int, default=400, help="faces to render (default: 400)")
    p.add_argument("--workers", type=int, default=1, help="processes (default: 1)")
    p.add_argument("--supersample", type=int, default=3, help="supersampling factor (default: 3)")
    p.add_argument("--per-identity", type=int, default=8,
                   help="consecutive faces of one identity, cycling through the 8 expressions (default: 8, "
                        "as `data build` renders; 1 = every face a new identity, nothing cached)")


def _chunk(args):
    import time

    import numpy as np

    from course_lib import facs, render

    start, n, size, ss, per = args
    rng = np.random.default_rng(start)
    ids = [i for i in (render.sample_identity(rng) for _ in range(-(-n // per))) for _ in range(per)][:n]
    A = np.stack([render.expression_aus(facs.EXPRESSIONS[i % 8], 1.0, rng) for i in range(n)])
    t0 = time.process_time()
    render.render_batch(ids, A, size, ss)
    return n, time.process_time() - t0


def run(args) -> int:
    import time
    from concurrent.futures import ProcessPoolExecutor

    from course_lib.benchmarks import machine_line

    per = max(1, args.per_identity)
    _chunk((10 ** 6, 16, args.size, args.supersample, per))      # warm-up (imports); other identities
    w = max(1, args.workers)
    parts = [(k, args.faces // w + (k < args.faces % w), args.size, args.supersample, per) for k in range(w)]
    t0 = time.perf_counter()
    if w == 1:
        n, cpu = _chunk(parts[0])
    else:
        with ProcessPoolExecutor(w) as ex:
            n, cpu = map(sum, zip(*ex.map(_chunk, parts)))
    dt = time.perf_counter() - t0
    print(f"render: {n} faces at {args.size}x{args.size} (supersample {args.supersample}, {per} per identity, "
          f"{w} worker(s)) in {dt:.2f} s = {n / dt:.0f} faces/s ({n / cpu:.0f} faces per CPU-second)")
    print(machine_line())
    return 0
