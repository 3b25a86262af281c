"""Checkers of Lesson 9 (Cascade EF-GAN: local focuses, the Refiner's stitching, the AU Interpolator)."""
import torch

from course_lib import ef_gan
from course_lib.exercises import case, check_function, compare_values, exercise

#: The three patch boxes (top, left, h, w) of a 64x64 face in the exercises (the nose box overlaps both others).
BOXES_64 = {"eyes": (21, 9, 20, 46), "nose": (28, 20, 20, 24), "mouth": (38, 17, 20, 30)}


def _patches(boxes, batch=1, channels=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {k: torch.rand(batch, channels, h, w, generator=g) * 2 - 1 for k, (t, l, h, w) in boxes.items()}


def stitch_cases():
    """Inputs of 09.stitch_function: overlapping boxes, a batch, a lone patch, disjoint boxes, image corners."""
    corner = {"eyes": (0, 0, 4, 6), "mouth": (12, 10, 4, 6)}
    disjoint = {"eyes": (2, 2, 4, 8), "nose": (8, 5, 2, 4), "mouth": (11, 3, 4, 10)}
    return [case("the three 64x64 boxes (overlapping)", _patches(BOXES_64), BOXES_64, (64, 64)),
            case("a batch of 2, one channel", _patches(BOXES_64, 2, 1, seed=1), BOXES_64, (64, 64)),
            case("edge: one patch only", _patches({"nose": (3, 4, 5, 7)}, seed=2), {"nose": (3, 4, 5, 7)}, (16, 16)),
            case("boxes that do not overlap", _patches(disjoint, seed=3), disjoint, (16, 16)),
            case("edge: boxes in the image corners", _patches(corner, seed=4), corner, (16, 16)),
            case("edge: two identical boxes", {"a": torch.ones(1, 1, 2, 2), "b": -torch.ones(1, 1, 2, 2)},
                 {"a": (1, 1, 2, 2), "b": (1, 1, 2, 2)}, (4, 4))]


@exercise("09.stitch_function", kind="function")
def _stitch_function(fn):
    check_function(fn, lambda patches, boxes, size: ef_gan.stitch(patches, boxes, size)[0], stitch_cases())


def interpolation_cases():
    """Inputs of 09.interpolation_loss_function."""
    g = torch.Generator().manual_seed(9)
    y = lambda *s: torch.rand(*s, generator=g)  # noqa: E731
    return [case("batch of 4, 20 AUs", y(4, 20), y(4, 20), torch.randn(4, 1, generator=g), 0.1),
            case("edge: y_hat equals the pseudo target", torch.full((2, 3), 0.5), torch.full((2, 3), 0.5),
                 torch.tensor([[1.0], [3.0]]), 0.1),
            case("lambda_int = 0 (the regression term alone)", y(3, 5), y(3, 5), torch.randn(3, 1, generator=g), 0.0),
            case("a 3-4-5 triangle, critic scores 2 and -2", torch.tensor([[0.3, 0.4]]), torch.zeros(1, 2),
                 torch.tensor([[2.0]]), 0.5),
            case("batch of 1, lambda_int = 1", y(1, 20), y(1, 20), torch.tensor([[-4.0]]), 1.0)]


@exercise("09.interpolation_loss_function", kind="function")
def _interpolation_loss_function(fn):
    check_function(fn, ef_gan.interpolation_loss, interpolation_cases())


def exercise_aus():
    """``(source, target)`` AU vectors of exercise 09.pseudo_target: the renderer's angry and happy prototypes."""
    from course_lib.datasets import prototype_aus

    return prototype_aus(torch.tensor([0]))[0], prototype_aus(torch.tensor([4]))[0]


@exercise("09.pseudo_target")
def _pseudo_target(answer):
    src, trg = exercise_aus()
    got = torch.as_tensor(answer, dtype=torch.float32).flatten()
    assert got.shape == src.shape, f"expected one AU vector of {len(src)} values, got shape {tuple(got.shape)}"
    want = ef_gan.pseudo_targets(src[None], trg[None], 3)[1][0]
    if compare_values(trg, got) is None:
        assert False, "that is the final target: stage 2 of 3 is two thirds of the way there"
    if compare_values(src + (trg - src) / 3, got) is None:
        assert False, "that is stage 1's pseudo target (one third of the way): stage 2 goes two thirds"
    why = compare_values(want, got)
    assert why is None, f"not yet ({why}): y_p = y_x + (k / K) (y_target - y_x) with k = 2, K = 3"
