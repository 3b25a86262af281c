"""``python -m course_lib methods``: every training method of :mod:`course_lib.methods`.

For each: its CLI name (``train --model NAME``), paper, the Eq./Tables it implements, its
conditioning (label / AUs / landmarks+label), whether it needs landmarks, what a training
batch carries, the parameters of its networks at each network size, and its
hyper-parameters with their defaults (``train --set KEY=VALUE`` changes one).
"""
from __future__ import annotations


def register(sub):
    p = sub.add_parser("methods", help="list the training methods: paper, Eq./Tables, conditioning, parameters",
                       description="List every method of course_lib.methods (one module each).")
    p.add_argument("--no-params", action="store_true", help="skip the parameter counts (they build the networks)")
    p.set_defaults(func=run)


def describe(name: str, params: bool = True) -> list[str]:
    import dataclasses

    from course_lib import methods, presets

    cls = methods.get(name)
    lines = [f"{cls.name}", f"  paper:        {cls.paper}", f"  implements:   {cls.equations}",
             f"  conditioning: {cls.conditioning}", f"  landmarks:    {'needed' if cls.needs_landmarks else 'not needed'}",
             f"  batch:        {', '.join(cls.batch_keys)}", f"  networks:     {', '.join(cls.network_names)} (one optimiser each)"]
    if params:
        for size in presets.PRESETS:
            counts = cls.parameter_counts(size)
            lines.append(f"  parameters at network size {size!r}: "
                         + ", ".join(f"{n} {c:,}" for n, c in counts.items()))
    hyper = ", ".join(f"{f.name}={f.default!r}" for f in dataclasses.fields(cls.Hyper))
    lines.append(f"  hyper-parameters (paper defaults): {hyper}")
    return lines


def run(args) -> int:
    from course_lib import methods

    for name in methods.names():
        print("\n".join(describe(name, params=not args.no_params)))
    return 0
