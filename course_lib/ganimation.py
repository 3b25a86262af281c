"""GANimation (Pumarola et al. 2018) baseline: AU-conditioned attention generator and critic.

GANimation's generator is StarGAN's with two output heads - colour (Conv7x7 + Tanh) and
attention (Conv7x7 + Sigmoid) - conditioned on a continuous vector of AU intensities
(``c_dim`` = 17 OpenFace AUs in the paper, scaled to [0, 1]) and combined as
``(1 - A) * C + A * I`` - exactly LGP-GAN Eq. 1, which borrowed it.  So the generator
*is* :class:`course_lib.generators.AttentionGenerator` with ``cond="au"``; the critic is
:class:`course_lib.discriminators.PatchDiscriminator` whose second head regresses the
AU intensities instead of classifying (train it with an L2 loss).

Official layout (albertpumarola/GANimation ``networks/generator_wasserstein_gan.py``):
InstanceNorm with affine parameters, no running statistics - our defaults.  Its heads are
named ``img_reg`` and ``attetion_reg`` (sic); :func:`convert_official_state_dict` renames
them to ``color_head`` / ``mask_head``.
"""
from __future__ import annotations

from course_lib.discriminators import PatchDiscriminator
from course_lib.generators import AttentionGenerator

#: Number of AUs GANimation conditions on (OpenFace intensities).
PAPER_AUS = 17


class Generator(AttentionGenerator):
    """GANimation generator: ``forward(x, au (B, c_dim))`` -> ``(out, color, mask)``."""

    def __init__(self, conv_dim: int = 64, c_dim: int = PAPER_AUS, repeat_num: int = 6):
        super().__init__(cond_dim=c_dim, conv_dim=conv_dim, repeat_num=repeat_num, cond="au",
                         mask_convention="lgp")


class Discriminator(PatchDiscriminator):
    """GANimation critic: real/fake patch map and AU-intensity regression ``(B, c_dim)``."""

    def __init__(self, image_size=128, conv_dim: int = 64, c_dim: int = PAPER_AUS, repeat_num: int = 6):
        super().__init__(image_size, n_classes=c_dim, conv_dim=conv_dim, n_layers=repeat_num)


def init_weights(module):
    """The official initialisation (``networks/networks.py``, ``NetworkBase.init_weights``, applied to
    G and D before training): every convolution's weight from N(0, 0.02), its bias (if any) 0.
    Normalisation layers keep PyTorch's defaults (the code's ``BatchNorm2d`` branch never matches an
    ``InstanceNorm2d``).  Returns ``module``."""
    import torch
    from torch import nn

    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                m.weight.normal_(0.0, 0.02)
                if m.bias is not None:
                    m.bias.zero_()
    return module


def convert_official_state_dict(state_dict: dict) -> dict:
    """Rename the official generator's heads (``img_reg`` -> ``color_head``, ``attetion_reg`` -> ``mask_head``)."""
    rename = {"module.": "", "img_reg.": "color_head.", "attetion_reg.": "mask_head."}
    out = {}
    for key, value in state_dict.items():
        for old, new in rename.items():
            if key.startswith(old):
                key = new + key[len(old):]
        out[key] = value
    return out
