"""LGP-GAN (Xia et al. 2021, Section III.A, Fig. 1): the two-stage local/global cascade.

Stage I: the eye and mouth regions I_eye, I_mouth are cropped from I_x (boxes from
:func:`course_lib.regions.region_boxes`), concatenated with the tiled target label f_y and
translated by the local generators G_eye, G_mouth (Table II, 3 residual blocks), each
output by Eq. 1.  Stage II: the generated regions are blended into the background
(:func:`course_lib.regions.paste`), f_y is concatenated again and the global generator
G_global (Table II, 6 residual blocks) produces I_y, again by Eq. 1.  D_eye, D_mouth
(Table III, 4 layers) judge the Stage I outputs, D_global (6 layers) the final image.

The paper says Stage II "blend[s] generated local facial regions I_local and background
region I_bg outside of the crucial regions to an aggregated result" without the blend.
Our choice: paste each generated region into I_x with ``regions.paste`` (feathered border
of ``feather`` pixels).  Outside the boxes this *is* I_bg; inside them it is the
generated region, and across the feathered seam a ramp from I_x to the generated region
(blending into the zero-filled I_bg instead would darken the seam).  ``feather=0`` is a
hard paste, identical to pasting into I_bg.
"""
from __future__ import annotations

import torch
from torch import nn

from course_lib import regions
from course_lib.discriminators import PatchDiscriminator
from course_lib.generators import AttentionGenerator, check_images, condition_vector

LOCAL_REGIONS = ("eye", "mouth")


class LGPGenerator(nn.Module):
    """G = {G_eye, G_mouth, G_global}; ``forward(x, c, boxes)`` returns every intermediate (a dict).

    ``x`` (B, 3, H, W) in [-1, 1]; ``c`` one-hot (B, n) or indices (B,); ``boxes``
    ``{"eye": (B, 4), "mouth": (B, 4)}`` (top, left, h, w) from :func:`regions.region_boxes`.
    Returned keys: ``eye_in``, ``eye_color``, ``eye_mask``, ``eye_out`` (and ``mouth_*``)
    for Stage I; ``background`` (I_bg), ``region_mask``, ``aggregated`` (the Stage II
    image, before the label is concatenated); ``color``, ``mask``, ``out`` (= I_y) for
    Stage II.  ``upsample``: "deconv" (Table II, the default) or "resize" (nearest x2 + 3x3
    conv in all three generators; our departure, :func:`course_lib.blocks.up`).
    """

    def __init__(self, n_classes: int = 8, conv_dim: int = 64, repeat_global: int = 6, repeat_local: int = 3,
                 mask_convention: str = "lgp", feather: int = 4, upsample: str = "deconv"):
        super().__init__()
        self.n_classes, self.feather = n_classes, feather
        make = lambda repeat: AttentionGenerator(n_classes, conv_dim, repeat, mask_convention=mask_convention,
                                                 upsample=upsample)
        self.g_eye, self.g_mouth, self.g_global = make(repeat_local), make(repeat_local), make(repeat_global)

    def local(self, name: str) -> AttentionGenerator:
        """G_eye or G_mouth."""
        return {"eye": self.g_eye, "mouth": self.g_mouth}[name]

    def forward(self, x: torch.Tensor, c, boxes: dict) -> dict:
        check_images(x, 3, 4)
        missing = [k for k in LOCAL_REGIONS if k not in boxes]
        if missing:
            raise ValueError(f"boxes: missing region(s) {missing}; expected keys {list(LOCAL_REGIONS)} "
                             "(regions.region_boxes(landmarks, 'lgp', image_size))")
        c = condition_vector(c, self.n_classes, x.shape[0], device=x.device, dtype=x.dtype)
        res, aggregated = {}, x
        for name in LOCAL_REGIONS:                                   # Stage I
            crop = regions.crop(x, boxes[name])
            out, color, mask = self.local(name)(crop, c)
            res.update({f"{name}_in": crop, f"{name}_color": color, f"{name}_mask": mask, f"{name}_out": out})
            aggregated = regions.paste(aggregated, out, boxes[name], feather=self.feather)
        res["background"], res["region_mask"] = regions.background(x, {k: boxes[k] for k in LOCAL_REGIONS})
        res["aggregated"] = aggregated                               # Stage II
        out, color, mask = self.g_global(aggregated, c)
        res.update(color=color, mask=mask, out=out)
        return res


class LGPDiscriminator(nn.Module):
    """D = {D_eye, D_mouth, D_global} (Table III); ``forward({"eye": ..., "mouth": ..., "global": ...})``.

    Returns ``{name: (src_map, cls_logits)}`` for the names given.  ``region_sizes`` are
    (h, w) per local region (Table III's h and w: 48x96 and 48x64 at 128x128).
    """

    def __init__(self, image_size: int = 128, region_sizes: dict | None = None, n_classes: int = 8,
                 conv_dim: int = 64, layers_global: int = 6, layers_local: int = 4):
        super().__init__()
        sizes = region_sizes or regions.region_sizes("lgp", image_size)
        self.nets = nn.ModuleDict({name: PatchDiscriminator(sizes[name], n_classes, conv_dim, layers_local)
                                   for name in LOCAL_REGIONS})
        self.nets["global"] = PatchDiscriminator(image_size, n_classes, conv_dim, layers_global)

    def __getitem__(self, name: str) -> PatchDiscriminator:
        return self.nets[name]

    def forward(self, images: dict) -> dict:
        unknown = set(images) - set(self.nets)
        if unknown:
            raise ValueError(f"images: unknown discriminator(s) {sorted(unknown)}; have {list(self.nets)}")
        return {name: self.nets[name](x) for name, x in images.items()}


def plot_cascade(result: dict, index: int = 0, title: str | None = None):
    """LGP-GAN Fig. 1 for one image of a batch: Stage I rows (eye, mouth), then Stage II.

    Each row: input, colour image, attention mask, output of one generator (Eq. 1); the
    Stage II input is the aggregated image (generated regions pasted into the background).
    """
    import matplotlib.pyplot as plt

    from course_lib.generators import show_row

    i = index
    fig, axes = plt.subplots(3, 4, figsize=(9, 6.6),
                             gridspec_kw={"height_ratios": [1, 1, 2]})
    for row, name in zip(axes[:2], LOCAL_REGIONS):
        show_row(row, {f"I_{name}": result[f"{name}_in"][i], f"C_{name}": result[f"{name}_color"][i],
                       f"M_{name}": result[f"{name}_mask"][i], f"G_{name} output": result[f"{name}_out"][i]})
    show_row(axes[2], {"Stage II input (aggregated)": result["aggregated"][i], "C_global": result["color"][i],
                       "M_global": result["mask"][i], "I_y (final)": result["out"][i]})
    fig.suptitle(title or "LGP-GAN: Stage I (local generators, rows 1-2), Stage II (global generator); masks: white = keep input", fontsize=10)
    fig.tight_layout()
    return fig
