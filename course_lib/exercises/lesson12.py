"""Checkers of Lesson 12 (the explorer: conditions, interpolation paths, every method side by side).

The references are the library's: ``condition_vector`` and ``interpolate_condition`` of the
course's two baselines (:class:`course_lib.methods.Method`): StarGAN for a label method,
GANimation for an AU method, so they follow the library if it changes."""
import torch

from course_lib import facs, methods
from course_lib.exercises import case, check_function, exercise


#: The method whose condition each exercise reproduces, by conditioning.
REFERENCE = {"label": "stargan", "AUs": "ganimation"}


def method_with(conditioning: str):
    """An instance (no networks built) of the reference method of ``conditioning``."""
    return methods.get(REFERENCE[conditioning])(build=False)


def label_mix_reference(source, target, t):
    m = method_with("label")
    return m.interpolate_condition(m.condition_vector(m.label_condition(torch.as_tensor(source))),
                                   m.condition_vector(m.label_condition(torch.as_tensor(target))), t)


def label_mix_cases():
    """Inputs of 12.label_mix: ``(source (B,) long, target (B,) long, t float)``."""
    g = torch.Generator().manual_seed(12)
    n = len(facs.EXPRESSIONS)
    out = []
    for i, (b, t) in enumerate([(1, 0.3), (4, 0.5), (6, 0.85)]):
        out.append(case(f"random {i + 1}", torch.randint(0, n, (b,), generator=g),
                        torch.randint(0, n, (b,), generator=g), t))
    src, trg = torch.tensor([0, 5, 7]), torch.tensor([4, 1, 2])
    out.append(case("edge: t = 0 (the source's own label)", src, trg, 0.0))
    out.append(case("edge: t = 1 (the target's label)", src, trg, 1.0))
    out.append(case("edge: source = target", torch.tensor([3, 6]), torch.tensor([3, 6]), 0.4))
    return out


@exercise("12.label_mix", kind="function")
def _label_mix(fn):
    check_function(fn, label_mix_reference, label_mix_cases())


def au_path_reference(aus_src, aus_trg, steps):
    m = method_with("AUs")
    return torch.stack([m.interpolate_condition(aus_src, aus_trg, k / steps) for k in range(steps + 1)])


def au_path_cases():
    """Inputs of 12.au_path: ``(aus_src (K,), aus_trg (K,), steps int)``, K = len(facs.AU_NUMBERS)."""
    from course_lib.datasets import prototype_aus

    g = torch.Generator().manual_seed(120)
    k = len(facs.AU_NUMBERS)
    proto = prototype_aus(torch.arange(len(facs.EXPRESSIONS)))
    i = facs.expression_index
    out = [case("random 1", torch.rand(k, generator=g), torch.rand(k, generator=g), 4),
           case("random 2", torch.rand(k, generator=g), torch.rand(k, generator=g), 7),
           case("neutral -> happy prototypes", proto[i("neutral")], proto[i("happy")], 5),
           case("surprised -> sad prototypes", proto[i("surprised")], proto[i("sad")], 3),
           case("edge: steps = 1 (the two ends only)", proto[i("angry")], proto[i("fearful")], 1),
           case("edge: the same AUs at both ends", proto[i("disgusted")], proto[i("disgusted")], 2)]
    return out


@exercise("12.au_path", kind="function")
def _au_path(fn):
    check_function(fn, au_path_reference, au_path_cases())


@exercise("12.au_methods")
def _au_methods(answer):
    expected = sorted(n for n in methods.names() if methods.get(n).conditioning == "AUs")
    assert not isinstance(answer, str), "answer with a list of method names, e.g. ['a', 'b']"
    got = sorted(str(a) for a in answer)
    unknown = sorted(set(got) - set(methods.names()))
    assert not unknown, f"not registered methods: {unknown} (python -m course_lib methods lists them)"
    wrong = sorted(set(got) - set(expected))
    assert not wrong, f"{wrong}: conditioned on something else (read each class's `conditioning`)"
    assert got == expected, f"{len(expected) - len(got)} AU-conditioned method(s) missing"
