"""Checkers of Lesson 5 (PatchGAN discriminator, auxiliary classifier, baselines)."""
import torch

from course_lib import regions
from course_lib.discriminators import PatchDiscriminator, receptive_field
from course_lib.exercises import exercise


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
