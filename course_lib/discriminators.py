"""PatchGAN discriminator with an auxiliary classifier (LGP-GAN Table III, StarGAN layout).

``n_layers`` strided 4x4 convs (stride 2, padding 1, with bias, LeakyReLU 0.01, no
normalisation) double the channels from ``conv_dim``; Table III uses 6 layers for
D_global (64 ... 2048 channels) and 4 for D_eye / D_mouth (64 ... 512).  Two heads read
the last feature map of size (h / 2^L, w / 2^L):

* ``conv1`` "real or fake": Conv3x3, stride 1, padding 1 -> a 1-channel *map* of patch
  scores (one per h/2^L x w/2^L cell; each sees :func:`receptive_field` pixels);
* ``conv2`` "classifier": a conv whose kernel is the whole feature map
  (h/2^L x w/2^L), so it returns one logit per class.  Non-square crops (48x96 eyes,
  48x64 mouth) get a non-square kernel.

The head names and the flat ``main`` Sequential are those of the official StarGAN
``model.py``, so :class:`course_lib.stargan.Discriminator` is this class.  The heads are
bias-free as there (Table III is silent: our choice to follow StarGAN).
"""
from __future__ import annotations

from torch import nn

from course_lib.generators import check_images


def _pair(size) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    return int(h), int(w)


def receptive_field(n_layers: int, kernel: int = 4, stride: int = 2, head_kernel: int = 3) -> int:
    """Side (pixels) of the input patch one score of the real/fake map depends on.

    Walk back from the head: ``r <- (r - 1) * stride + kernel`` per strided conv,
    starting from the 3x3 head (``r = head_kernel``).  Padding does not change it.
    """
    r = head_kernel
    for _ in range(n_layers):
        r = (r - 1) * stride + kernel
    return r


class PatchDiscriminator(nn.Module):
    """Table III discriminator for ``image_size`` = int or (h, w); ``forward(x) -> (src_map, cls_logits (B, n))``."""

    def __init__(self, image_size=128, n_classes: int = 8, conv_dim: int = 64, n_layers: int = 6,
                 in_channels: int = 3):
        super().__init__()
        self.image_size, self.n_layers, self.in_channels = _pair(image_size), n_layers, in_channels
        h, w = self.image_size
        if n_layers < 1 or h % 2 ** n_layers or w % 2 ** n_layers:
            raise ValueError(f"image_size {h}x{w} must be divisible by 2**n_layers = {2 ** n_layers} "
                             f"(n_layers={n_layers}): pick fewer layers or another size")
        layers, dim = [], in_channels
        for i in range(n_layers):
            out = conv_dim * 2 ** i
            layers += [nn.Conv2d(dim, out, 4, 2, 1), nn.LeakyReLU(0.01)]
            dim = out
        self.main = nn.Sequential(*layers)
        self.conv1 = nn.Conv2d(dim, 1, 3, 1, 1, bias=False)
        self.conv2 = nn.Conv2d(dim, n_classes, kernel_size=(h // 2 ** n_layers, w // 2 ** n_layers), bias=False)

    @property
    def receptive_field(self) -> int:
        """Receptive field (pixels) of one real/fake score."""
        return receptive_field(self.n_layers)

    def forward(self, x):
        check_images(x, self.in_channels, 2 ** self.n_layers)
        if tuple(x.shape[-2:]) != self.image_size:
            raise ValueError(f"x: this discriminator was built for {self.image_size[0]}x{self.image_size[1]} "
                             f"inputs (its classifier kernel spans the whole feature map), got "
                             f"{x.shape[-2]}x{x.shape[-1]}")
        h = self.main(x)
        out_cls = self.conv2(h)
        return self.conv1(h), out_cls.view(out_cls.size(0), out_cls.size(1))


def plot_patch_scores(x, discriminator: PatchDiscriminator, index: int = 0, cell=None):
    """Left: the image with the receptive field of one real/fake score (red square, clipped to
    the image) and the stride-2^L grid of cells; right: the real/fake map of that image."""
    import matplotlib.pyplot as plt
    import torch
    from matplotlib.patches import Rectangle

    from course_lib.generators import to_image

    with torch.no_grad():
        src, _ = discriminator(x[index:index + 1])
    src = src[0, 0].cpu()
    gh, gw = src.shape
    r, stride = discriminator.receptive_field, 2 ** discriminator.n_layers
    i, j = cell or (gh // 2, gw // 2)
    # centre of cell (i, j) in input pixels; its field spans r pixels around it
    cy, cx = (i + 0.5) * stride, (j + 0.5) * stride
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3.6))
    a.imshow(to_image(x[index]))
    for k in range(1, gh):
        a.axhline(k * stride - 0.5, color="w", lw=0.5, alpha=0.6)
    for k in range(1, gw):
        a.axvline(k * stride - 0.5, color="w", lw=0.5, alpha=0.6)
    a.add_patch(Rectangle((cx - r / 2 - 0.5, cy - r / 2 - 0.5), r, r, fill=False, ec="red", lw=2, clip_on=True))
    a.add_patch(Rectangle((j * stride - 0.5, i * stride - 0.5), stride, stride, color="yellow", alpha=0.5))
    a.set_title(f"cell ({i}, {j}) (yellow) sees {r}x{r} px (red)", fontsize=9)
    a.axis("off")
    im = b.imshow(src.numpy(), cmap="coolwarm")
    b.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="k", lw=2))
    b.set_title(f"real/fake map {gh}x{gw} (one score per cell)", fontsize=9)
    fig.colorbar(im, ax=b, fraction=0.046)
    fig.tight_layout()
    return fig
