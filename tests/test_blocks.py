"""Shared blocks (course_lib.blocks): shapes, residual identity, StarGAN indices."""
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
