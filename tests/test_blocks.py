"""Shared blocks (course_lib.blocks): shapes, residual identity, StarGAN indices."""
import pytest
import torch
from torch import nn

from course_lib import blocks


def test_conv_norm_relu_layout_and_shape():
    layers = blocks.conv_norm_relu(3, 5, 7, 1, 3)
    assert [type(m) for m in layers] == [nn.Conv2d, nn.InstanceNorm2d, nn.ReLU]
    assert layers[0].bias is None and layers[1].affine and not layers[1].track_running_stats
    assert nn.Sequential(*layers)(torch.randn(2, 3, 8, 12)).shape == (2, 5, 8, 12)


def test_down_halves_and_up_doubles():
    x = torch.randn(1, 4, 12, 20)
    assert nn.Sequential(*blocks.down(4, 8))(x).shape == (1, 8, 6, 10)
    assert nn.Sequential(*blocks.up(4, 2))(x).shape == (1, 2, 24, 40)
    assert isinstance(blocks.up(4, 2)[0], nn.ConvTranspose2d)


def test_residual_block_is_identity_plus_branch():
    block = blocks.ResidualBlock(4, track_running_stats=True)
    assert [type(m) for m in block.main] == [nn.Conv2d, nn.InstanceNorm2d, nn.ReLU, nn.Conv2d, nn.InstanceNorm2d]
    with torch.no_grad():
        block.main[4].weight.zero_()   # IN gain 0, bias 0: the branch outputs zero
        block.main[4].bias.zero_()
    x = torch.randn(2, 4, 6, 6)
    assert torch.equal(block(x), x)


def test_trunk_restores_resolution_and_channels():
    layers = blocks.trunk(3 + 8, conv_dim=4, repeat_num=2)
    assert sum(isinstance(m, blocks.ResidualBlock) for m in layers) == 2
    assert nn.Sequential(*layers)(torch.randn(1, 11, 16, 24)).shape == (1, 4, 16, 24)


def test_trace_shapes_and_describe():
    layers = blocks.trunk(3, conv_dim=4, repeat_num=1)
    rows = blocks.trace_shapes(layers, torch.randn(1, 3, 8, 12))
    assert [r[1] for r in rows] == ["Conv 3->4 K7 S1 P3", "Conv 4->8 K4 S2 P1", "Conv 8->16 K4 S2 P1",
                                    "ResidualBlock 16 K3", "DeConv 16->8 K4 S2 P1", "DeConv 8->4 K4 S2 P1"]
    assert [r[2] for r in rows] == [(1, 4, 8, 12), (1, 8, 4, 6), (1, 16, 2, 3), (1, 16, 2, 3),
                                    (1, 8, 4, 6), (1, 4, 8, 12)]
    assert blocks.describe(nn.Conv2d(2, 3, (3, 6), bias=False)) == "Conv 2->3 K3x6 S1 P0"


# ----------------------------------------------------------------------------- issue 15, item 5
def test_resize_up_doubles_and_is_upsample_then_3x3_conv():
    x = torch.randn(1, 4, 12, 20)
    layers = blocks.up(4, 2, "resize")
    assert [type(m) for m in layers] == [nn.Upsample, nn.Conv2d, nn.InstanceNorm2d, nn.ReLU]
    assert layers[0].scale_factor == 2 and layers[0].mode == "nearest"
    assert layers[1].kernel_size == (3, 3) and layers[1].stride == (1, 1) and layers[1].padding == (1, 1)
    assert nn.Sequential(*layers)(x).shape == (1, 2, 24, 40)
    assert blocks.describe(layers[0]) == "Upsample x2 nearest" and blocks.describe(layers[1]) == "Conv 4->2 K3 S1 P1"
    trunk = blocks.trunk(5, 4, 1, upsample="resize")
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in trunk)
    assert sum(isinstance(m, nn.Upsample) for m in trunk) == 2
    assert nn.Sequential(*trunk)(torch.randn(2, 5, 16, 16)).shape == (2, 4, 16, 16)
    with pytest.raises(ValueError, match="upsample mode='bilinear'.*deconv, resize"):
        blocks.up(4, 2, "bilinear")


def test_constant_input_resize_conv_is_flat_while_transposed_conv_is_a_checkerboard():
    """Odena et al. 2016: on a constant input a stride-2 transposed conv (random weights, no
    norm) gives a period-2 pattern; nearest x2 + 3x3 conv gives a constant interior."""
    torch.manual_seed(0)
    x = torch.ones(1, 4, 8, 8)
    deconv = nn.ConvTranspose2d(4, 3, 4, 2, 1, bias=False)
    resize = nn.Sequential(*blocks.up(4, 3, "resize")[:2])   # Upsample + Conv, no IN / ReLU
    with torch.no_grad():
        d = deconv(x)[..., 1:-1, 1:-1]                       # interior (the border sees zero padding)
        r = resize(x)[..., 1:-1, 1:-1]
    assert d.shape == r.shape == (1, 3, 14, 14)
    # resize-conv: every interior pixel sees the same taps
    assert torch.allclose(r, r[..., :1, :1].expand_as(r), atol=1e-6)
    # transposed conv: the value depends on the parity of row and column only, and the 4 parities differ
    for dy in range(2):
        for dx in range(2):
            phase = d[..., dy::2, dx::2]
            assert torch.allclose(phase, phase[..., :1, :1].expand_as(phase), atol=1e-6)
    corners = d[..., :2, :2].reshape(3, 4)
    assert (corners.max(1).values - corners.min(1).values).min() > 1e-3


def test_stargan_official_layout_keeps_transposed_convs():
    from course_lib import presets, stargan

    for size in presets.PRESETS:
        G = presets.build_models("stargan", size)["G"]
        assert isinstance(G, stargan.Generator)
        assert sum(isinstance(m, nn.ConvTranspose2d) for m in G.modules()) == 2, size
        assert not any(isinstance(m, nn.Upsample) for m in G.modules()), size
