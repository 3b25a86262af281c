"""The attention generator of LGP-GAN (Table II, Eq. 1): colour image + attention mask.

The network is StarGAN's generator (:mod:`course_lib.blocks`) with its output layer split
into two heads (LGP-GAN Section III.A.2, after GANimation [49]): a colour image
``C = tanh(conv7x7(h))`` and an attention mask ``M = sigmoid(conv7x7(h))``, combined
with the input by LGP-GAN Eq. 1 ::

    I_out = (1 - M) * C + M * I_in          (mask_convention="lgp", also GANimation's)

Cascade EF-GAN Eq. 1 writes the same thing the other way round ::

    I_init = M_A * M_C + (1 - M_A) * I_in   (mask_convention="efgan")

Both are one model: ``sigmoid(-z) = 1 - sigmoid(z)``, so negating the mask head's weights
turns an "lgp" generator into an "efgan" one with identical outputs
(:func:`flip_mask_convention`).  In "lgp" a mask value of 1 *keeps* the input pixel; in
"efgan" it *replaces* it by the colour image.

Conditioning: a target label is tiled over the image and concatenated to it, giving the
``3 + n`` input channels of Table II (StarGAN's ``c.view(B, n, 1, 1).repeat(...)``).  It
may be a one-hot / continuous vector ``(B, cond_dim)`` (expression one-hot, or
GANimation's AU intensities) or, for ``cond="label"``, integer class indices ``(B,)``.
"""
from __future__ import annotations

import copy
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn

from course_lib import blocks

MASK_CONVENTIONS = ("lgp", "efgan")


class GeneratorOutput(NamedTuple):
    """What every generator of the course returns: ``out`` and, for attention models, ``color`` and ``mask``."""
    out: torch.Tensor
    color: Optional[torch.Tensor] = None
    mask: Optional[torch.Tensor] = None


def check_images(x: torch.Tensor, channels: int = 3, multiple: int = 1, name: str = "x") -> None:
    """Raise ``ValueError`` unless ``x`` is (B, channels, H, W) with H, W divisible by ``multiple``."""
    if not torch.is_tensor(x) or x.dim() != 4 or x.shape[1] != channels:
        shape = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
        raise ValueError(f"{name}: expected an image batch of shape (B, {channels}, H, W), got {shape}")
    h, w = x.shape[-2:]
    if h % multiple or w % multiple:
        raise ValueError(f"{name}: height and width must be divisible by {multiple} "
                         f"(2 ** number of strided layers), got {h}x{w}")


def condition_vector(c, cond_dim: int, batch: int, *, allow_indices: bool = True,
                     device=None, dtype=torch.float32) -> torch.Tensor:
    """Target condition as a float (B, cond_dim) tensor.

    ``c`` is a (B, cond_dim) vector (one-hot label or AU intensities) or, when
    ``allow_indices``, a (B,) integer tensor of class indices (turned one-hot).
    """
    c = torch.as_tensor(c, device=device)
    if c.dim() == 1 and allow_indices and not c.is_floating_point():
        if c.numel() and (int(c.min()) < 0 or int(c.max()) >= cond_dim):
            raise ValueError(f"c: class indices must lie in [0, {cond_dim - 1}], got {c.tolist()}")
        c = F.one_hot(c.long(), cond_dim)
    if c.dim() != 2 or c.shape != (batch, cond_dim):
        want = f"(B={batch}, {cond_dim})" + (f" or integer class indices (B={batch},)" if allow_indices else "")
        raise ValueError(f"c: expected a condition of shape {want}, got {tuple(c.shape)}")
    return c.to(dtype)


def tile(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Concatenate the (B, n) condition, tiled over H x W, to the images: (B, 3 + n, H, W)."""
    return torch.cat([x, c[:, :, None, None].expand(-1, -1, *x.shape[-2:])], dim=1)


def blend(x: torch.Tensor, color: torch.Tensor, mask: torch.Tensor, convention: str = "lgp") -> torch.Tensor:
    """LGP-GAN Eq. 1 (``"lgp"``: ``(1-M)C + M x``) or Cascade EF-GAN Eq. 1 (``"efgan"``: ``M C + (1-M) x``)."""
    if convention == "lgp":
        return (1 - mask) * color + mask * x
    if convention == "efgan":
        return mask * color + (1 - mask) * x
    raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}, got {convention!r}")


class AttentionGenerator(nn.Module):
    """LGP-GAN Table II generator with colour and attention heads, output by Eq. 1.

    ``repeat_num`` residual blocks: 6 for G_global, 3 for G_eye / G_mouth.
    ``cond="label"`` accepts one-hot (B, cond_dim) or indices (B,); ``cond="au"`` a
    continuous (B, cond_dim) AU-intensity vector (GANimation).
    ``upsample``: "deconv" (Table II's transposed convs, the default) or "resize"
    (nearest x2 + 3x3 conv, our departure; :func:`course_lib.blocks.up`).
    Returns :class:`GeneratorOutput` ``(out, color, mask)``.
    """

    def __init__(self, cond_dim: int = 8, conv_dim: int = 64, repeat_num: int = 6, *,
                 mask_convention: str = "lgp", cond: str = "label", in_channels: int = 3,
                 n_sampling: int = 2, track_running_stats: bool = False, upsample: str = "deconv"):
        super().__init__()
        if mask_convention not in MASK_CONVENTIONS:
            raise ValueError(f"mask_convention must be one of {MASK_CONVENTIONS}, got {mask_convention!r}")
        if cond not in ("label", "au"):
            raise ValueError(f"cond must be 'label' or 'au', got {cond!r}")
        self.cond_dim, self.cond, self.in_channels = cond_dim, cond, in_channels
        self.mask_convention, self.n_sampling, self.upsample = mask_convention, n_sampling, upsample
        self.main = nn.Sequential(*blocks.trunk(in_channels + cond_dim, conv_dim, repeat_num, n_sampling,
                                                upsample=upsample, track_running_stats=track_running_stats))
        self.color_head = blocks.output_conv(conv_dim, 3, nn.Tanh())
        self.mask_head = blocks.output_conv(conv_dim, 1, nn.Sigmoid())

    def forward(self, x: torch.Tensor, c) -> GeneratorOutput:
        check_images(x, self.in_channels, 2 ** self.n_sampling)
        c = condition_vector(c, self.cond_dim, x.shape[0], allow_indices=self.cond == "label",
                             device=x.device, dtype=x.dtype)
        h = self.main(tile(x, c))
        color, mask = self.color_head(h), self.mask_head(h)
        return GeneratorOutput(blend(x[:, :3], color, mask, self.mask_convention), color, mask)


def flip_mask_convention(generator: AttentionGenerator) -> AttentionGenerator:
    """A copy of ``generator`` in the other mask convention, with identical outputs.

    ``sigmoid(-z) = 1 - sigmoid(z)``: negating the mask head's weights maps M to 1 - M,
    which is exactly the difference between LGP-GAN Eq. 1 and Cascade EF-GAN Eq. 1.
    """
    flipped = copy.deepcopy(generator)
    with torch.no_grad():
        for p in flipped.mask_head.parameters():
            p.neg_()
    flipped.mask_convention = "efgan" if generator.mask_convention == "lgp" else "lgp"
    return flipped


def to_image(t: torch.Tensor):
    """(3, H, W) in [-1, 1] or (1, H, W) in [0, 1] -> numpy (H, W, 3) / (H, W) for ``imshow``."""
    t = t.detach().float().cpu()
    return ((t.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy() if t.shape[0] == 3 else t[0].clamp(0, 1).numpy()


def show_row(axes, panels: dict) -> None:
    """Draw ``{title: (3|1, H, W) tensor}`` into ``axes``: images in colour, masks in grey (0 black, 1 white)."""
    for ax, (title, t) in zip(axes, panels.items()):
        ax.imshow(to_image(t), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.axis("off")


def plot_attention(x: torch.Tensor, output: GeneratorOutput, labels=None, convention: str = "lgp"):
    """One row per image: input, colour image C, attention mask M, output (Eq. 1).

    The mask title says what white means in ``convention``: "keep input" for LGP-GAN Eq. 1,
    "use C" for Cascade EF-GAN Eq. 1.
    """
    import matplotlib.pyplot as plt

    n = x.shape[0]
    fig, axes = plt.subplots(n, 4, figsize=(8, 2.1 * n), squeeze=False)
    white = "keep input" if convention == "lgp" else "use C"
    for i in range(n):
        tag = f" ({labels[i]})" if labels is not None else ""
        show_row(axes[i], {"input I_in": x[i], "colour C": output.color[i],
                           f"mask M (white = {white})": output.mask[i], f"output{tag}": output.out[i]})
    fig.tight_layout()
    return fig
