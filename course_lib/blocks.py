"""Shared building blocks of every generator in the course (LGP-GAN Table II, StarGAN layout).

LGP-GAN (Section III.A.2) takes its generator "from [42]" (StarGAN): a 7x7 conv, two
strided 4x4 convs, residual blocks, two 4x4 transposed convs, each followed by
InstanceNorm (with affine parameters) and ReLU.  The helpers below return *lists* of
layers, so that a model can splice them into one flat ``nn.Sequential`` named ``main``
exactly as the official StarGAN ``model.py`` does (its checkpoints then load unchanged).

Three switches separate the models that share these blocks:

* ``bias``: StarGAN and GANimation use bias-free convolutions before InstanceNorm (a bias
  is cancelled by the normalisation anyway).  LGP-GAN's Table II is silent; we follow
  StarGAN (our choice), so the default is ``False``.
* ``track_running_stats``: StarGAN's InstanceNorm keeps running statistics (they are in
  its checkpoints, and ``.eval()`` then normalises with them); GANimation's does not.  Our
  own attention generators use ``False`` (our choice: train and eval mode behave alike).
* ``upsample`` (of :func:`up` and :func:`trunk`): ``"deconv"``, Table II's transposed 4x4
  convolution (StarGAN always: its checkpoints must load), or ``"resize"``, nearest-neighbour
  upsampling by 2 followed by a 3x3 convolution (a documented departure, used by LGP-GAN's
  ``cpu-wide`` network size, :mod:`course_lib.presets`).  In a stride-2 transposed
  convolution each output pixel is a sum over a different 2x2 subset of the kernel's taps,
  chosen by the parity of its row and column, so even a constant input comes out as a
  period-2 checkerboard unless the four subsets happen to sum alike; after nearest-neighbour
  resizing every interior pixel sees the same taps (Odena, Dumoulin and Olah,
  "Deconvolution and Checkerboard Artifacts", Distill 2016).
"""
from __future__ import annotations

from torch import nn


def conv_norm_relu(c_in: int, c_out: int, kernel: int, stride: int, padding: int, *,
                   transpose: bool = False, bias: bool = False,
                   track_running_stats: bool = False) -> list[nn.Module]:
    """``[Conv (or ConvTranspose), InstanceNorm(affine), ReLU]`` - one row of Table II."""
    conv = nn.ConvTranspose2d if transpose else nn.Conv2d
    return [conv(c_in, c_out, kernel, stride, padding, bias=bias),
            nn.InstanceNorm2d(c_out, affine=True, track_running_stats=track_running_stats),
            nn.ReLU(inplace=True)]


def down(c_in: int, c_out: int, **kw) -> list[nn.Module]:
    """Strided 4x4 conv halving H and W (Table II: "K4x4, S2, P1")."""
    return conv_norm_relu(c_in, c_out, 4, 2, 1, **kw)


UPSAMPLE = ("deconv", "resize")


def up(c_in: int, c_out: int, mode: str = "deconv", **kw) -> list[nn.Module]:
    """A layer doubling H and W, + IN + ReLU.

    ``mode="deconv"``: transposed 4x4 conv (Table II "DeConv, K4x4, S2, P1").
    ``mode="resize"``: ``nn.Upsample(scale_factor=2, mode="nearest")`` then Conv 3x3 S1 P1
    (resize-convolution, Odena et al. 2016; our departure, no checkerboard).
    """
    if mode == "deconv":
        return conv_norm_relu(c_in, c_out, 4, 2, 1, transpose=True, **kw)
    if mode == "resize":
        return [nn.Upsample(scale_factor=2, mode="nearest"), *conv_norm_relu(c_in, c_out, 3, 1, 1, **kw)]
    raise ValueError(f"upsample mode={mode!r}: expected one of {', '.join(UPSAMPLE)}")


class ResidualBlock(nn.Module):
    """Table II "Residual Block, K3x3, S1, P1": ``x + IN(conv(ReLU(IN(conv(x)))))``.

    The layer is ``self.main`` with the official StarGAN indices (0 conv, 1 IN, 2 ReLU,
    3 conv, 4 IN), so its state_dict keys equal StarGAN's.
    """

    def __init__(self, dim: int, *, bias: bool = False, track_running_stats: bool = False):
        super().__init__()
        first = conv_norm_relu(dim, dim, 3, 1, 1, bias=bias, track_running_stats=track_running_stats)
        second = conv_norm_relu(dim, dim, 3, 1, 1, bias=bias, track_running_stats=track_running_stats)[:2]
        self.main = nn.Sequential(*first, *second)

    def forward(self, x):
        return x + self.main(x)


def trunk(in_channels: int, conv_dim: int = 64, repeat_num: int = 6, n_sampling: int = 2,
          upsample: str = "deconv", **kw) -> list[nn.Module]:
    """Everything of Table II above the output layer, as a flat list of layers.

    Conv7x7(in -> conv_dim), ``n_sampling`` strided convs doubling the channels,
    ``repeat_num`` residual blocks (global generator 6, local 3), ``n_sampling`` up layers
    (:func:`up` with ``mode=upsample``: deconvs by default, as in Table II) halving them back
    to ``conv_dim``.  ``kw`` goes to every block (``bias``,
    ``track_running_stats``).  H and W must be divisible by ``2 ** n_sampling``.
    """
    layers = conv_norm_relu(in_channels, conv_dim, 7, 1, 3, **kw)
    dim = conv_dim
    for _ in range(n_sampling):
        layers += down(dim, dim * 2, **kw)
        dim *= 2
    layers += [ResidualBlock(dim, **kw) for _ in range(repeat_num)]
    for _ in range(n_sampling):
        layers += up(dim, dim // 2, upsample, **kw)
        dim //= 2
    return layers


def describe(layer: nn.Module) -> str:
    """One line naming a layer and its Table II / III hyper-parameters (e.g. ``Conv 11->64 K7 S1 P3``)."""
    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
        kind = "DeConv" if isinstance(layer, nn.ConvTranspose2d) else "Conv"
        k, s, p = (v[0] if v[0] == v[-1] else "x".join(map(str, v)) for v in (layer.kernel_size, layer.stride, layer.padding))
        return f"{kind} {layer.in_channels}->{layer.out_channels} K{k} S{s} P{p}"
    if isinstance(layer, nn.Upsample):
        return f"Upsample x{layer.scale_factor:g} {layer.mode}"
    if isinstance(layer, ResidualBlock):
        conv = layer.main[0]
        return f"ResidualBlock {conv.in_channels} K{conv.kernel_size[0]}"
    if isinstance(layer, nn.Sequential):
        return " + ".join(describe(m) for m in layer)
    return type(layer).__name__


def trace_shapes(layers, x):
    """Run ``x`` through ``layers`` one by one: ``[(index, describe(layer), output shape)]``,
    skipping normalisation and activation layers (they keep the shape)."""
    import torch

    rows = []
    with torch.no_grad():
        for i, layer in enumerate(layers):
            x = layer(x)
            if not isinstance(layer, (nn.InstanceNorm2d, nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid)):
                rows.append((i, describe(layer), tuple(x.shape)))
    return rows


def output_conv(c_in: int, c_out: int, activation: nn.Module) -> nn.Sequential:
    """Table II output row "Conv, K7x7, S1, P3" + Tanh (colour) or Sigmoid (mask); bias-free as in StarGAN."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 7, 1, 3, bias=False), activation)
