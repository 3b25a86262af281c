"""Checkers of Lesson 5 (PatchGAN discriminator, auxiliary classifier, baselines)."""
import torch

from course_lib import regions
from course_lib.discriminators import PatchDiscriminator, receptive_field
from course_lib.exercises import case, check_function, exercise


@exercise("05.receptive_field")
def _receptive_field(answer):
    expected = receptive_field(4)
    assert int(answer) != receptive_field(4, head_kernel=1), "close: include the 3x3 real/fake head"
    assert int(answer) == expected, "walk back from the head: r <- (r - 1) * 2 + 4 for each of the 4 layers"


@exercise("05.cls_kernel")
def _cls_kernel(answer):
    h, w = regions.LGP_REGION_SIZES["mouth"]
    with torch.device("meta"):
        expected = tuple(PatchDiscriminator((h, w), 8, 64, 4).conv2.kernel_size)
    got = tuple(int(v) for v in answer)
    assert got != expected[::-1], "height first, then width"
    assert got == expected, f"Table III: the local classifier kernel is h/16 x w/16 for the {h}x{w} mouth crop"


@exercise("05.global_params")
def _global_params(answer):
    with torch.device("meta"):
        expected = sum(p.numel() for p in PatchDiscriminator(128, 8, 64, 6).parameters())
    assert int(answer) == expected, ("not yet: six 4x4 convs *with* bias (16*c_in*c_out + c_out), the 3x3 head "
                                     "(no bias) and the 2x2 classifier head (no bias) into 8 classes")


def receptive_field_cases():
    """Inputs of exercise 05.receptive_field_function: ``(n_layers, kernel, stride, head_kernel)``."""
    import random

    rng = random.Random(5)
    out = [case("Table III's global critic", 6, 4, 2, 3), case("a local critic", 4, 4, 2, 3),
           case("edge: no strided layer (only the head)", 0, 4, 2, 3),
           case("edge: stride 1", 3, 3, 1, 3), case("edge: a 1x1 head", 4, 4, 2, 1)]
    for i in range(4):
        out.append(case(f"random {i + 1}", rng.randint(1, 7), rng.choice([2, 3, 4, 5]), rng.choice([1, 2, 3]),
                        rng.choice([1, 3, 5])))
    return out


@exercise("05.receptive_field_function", kind="function")
def _receptive_field_function(fn):
    check_function(fn, receptive_field, receptive_field_cases())
