"""Checkers of Lesson 4 (the attention generator and the LGP-GAN cascade)."""
import torch

from course_lib import blocks
from course_lib.exercises import case, check_function, exercise
from course_lib.generators import AttentionGenerator, blend


def eq1_inputs(seed: int = 4):
    """The (x, colour, mask) tensors of exercise 04.eq1: (1, 3, 2, 2) images in [-1, 1], a (1, 1, 2, 2) mask."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(1, 3, 2, 2, generator=g) * 2 - 1
    color = torch.rand(1, 3, 2, 2, generator=g) * 2 - 1
    mask = torch.rand(1, 1, 2, 2, generator=g)
    return x, color, mask


def _tensor(answer, shape, what):
    a = torch.as_tensor(answer, dtype=torch.float32)
    assert tuple(a.shape) == tuple(shape), f"{what} should have shape {tuple(shape)}, got {tuple(a.shape)}"
    return a


@exercise("04.local_params")
def _local_params(answer):
    with torch.device("meta"):
        expected = sum(p.numel() for p in AttentionGenerator(8, 64, 3).parameters())
    assert int(answer) == answer, "a parameter count is a whole number"
    assert int(answer) != expected - 2 * (64 + 128 + 256 + 6 * 256 + 128 + 64), (
        "close: you forgot the InstanceNorm affine parameters (2 per channel of every normalised layer)")
    assert int(answer) == expected, ("not yet: sum k*k*c_in*c_out over every conv of Table II (no biases), "
                                     "2*c_out per InstanceNorm, and both output heads; the input has 3 + 8 channels")


@exercise("04.bottleneck_shape")
def _bottleneck_shape(answer):
    trunk = torch.nn.Sequential(*blocks.trunk(3 + 8, 64, 3)[:9])   # Conv7x7 + two strided convs
    with torch.device("meta"):
        expected = tuple(trunk.to("meta")(torch.empty(1, 11, 48, 96, device="meta")).shape[1:])
    got = tuple(int(v) for v in answer)
    assert len(got) == 3, "answer with (channels, height, width)"
    assert got[0] == expected[0], "the channel count is off: each strided conv doubles 64 channels"
    assert got[1:] == expected[1:], "height/width off: each 4x4 stride-2 conv with padding 1 halves them"


@exercise("04.eq1")
def _eq1(answer):
    x, color, mask = eq1_inputs()
    a = _tensor(answer, x.shape, "I_out")
    if torch.allclose(a, blend(x, color, mask, "efgan"), atol=1e-5):
        raise AssertionError("that is Cascade EF-GAN's convention; LGP-GAN Eq. 1 weights the *input* by M")
    assert torch.allclose(a, blend(x, color, mask, "lgp"), atol=1e-5), "not Eq. 1: (1 - M) * C + M * I_in"


@exercise("04.efgan_mask")
def _efgan_mask(answer):
    x, color, mask = eq1_inputs()
    a = _tensor(answer, mask.shape, "M_A")
    assert torch.allclose(blend(x, color, a, "efgan"), blend(x, color, mask, "lgp"), atol=1e-5), (
        "with your M_A, Cascade EF-GAN's Eq. 1 does not give the LGP output; which pixels should take C?")


def blend_cases():
    """Inputs of exercise 04.blend_function: ``(x, color, mask)``, images (B, 3, H, W) in [-1, 1],
    masks (B, 1, H, W) in [0, 1]."""
    g = torch.Generator().manual_seed(44)
    img = lambda *s: torch.rand(*s, generator=g) * 2 - 1  # noqa: E731
    out = []
    for i, (b, h, w) in enumerate([(1, 2, 2), (2, 4, 3), (3, 8, 8)]):
        out.append(case(f"random {i + 1}", img(b, 3, h, w), img(b, 3, h, w), torch.rand(b, 1, h, w, generator=g)))
    x, c = img(2, 3, 4, 4), img(2, 3, 4, 4)
    out.append(case("edge: mask of ones (keep the input)", x, c, torch.ones(2, 1, 4, 4)))
    out.append(case("edge: mask of zeros (take the colour image)", x, c, torch.zeros(2, 1, 4, 4)))
    return out


@exercise("04.blend_function", kind="function")
def _blend_function(fn):
    check_function(fn, lambda x, color, mask: blend(x, color, mask, "lgp"), blend_cases())
