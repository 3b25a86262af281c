"""StarGAN (Choi et al. 2018) baseline, layer for layer the official ``model.py`` (yunjey/stargan).

* :class:`Generator` - ``self.main`` is one flat Sequential: Conv7x7-IN-ReLU, two strided
  convs, ``repeat_num`` residual blocks, two deconvs, Conv7x7 + Tanh; bias-free convs,
  InstanceNorm with affine parameters *and running statistics* - the same shared
  :mod:`course_lib.blocks` as LGP-GAN's generators, wired without an attention head.
* :class:`Discriminator` - :class:`course_lib.discriminators.PatchDiscriminator`
  (``main``, heads ``conv1`` real/fake and ``conv2`` classifier) with the official
  constructor signature.

Their ``state_dict`` keys and shapes equal the official ones, so a checkpoint written by the
official solver (``*-G.ckpt`` / ``*-D.ckpt``) loads with :func:`load_official` /
:func:`from_official_checkpoint`, whatever its ``c_dim``: one trained on RaFD (``c_dim=8``,
the course's expressions; no such checkpoint was ever published, RaFD's licence forbids it)
or the published CelebA 128/256 generators (``c_dim=5`` hair/gender/age attributes, which
``python -m course_lib generate`` refuses: their labels are not our 8 expressions); the converter only strips a
``module.`` prefix (``nn.DataParallel``) and adds the ``num_batches_tracked`` counters
that checkpoints saved before PyTorch 0.4.1 lack.  Everything else must match, strictly.

Mode matters: with ``track_running_stats=True``, ``.eval()`` normalises with the stored
running averages, ``.train()`` with each image's own statistics.  Compare with the
official code in the same mode.
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from course_lib import blocks
from course_lib.discriminators import PatchDiscriminator
from course_lib.generators import GeneratorOutput, check_images, condition_vector, tile


class Generator(nn.Module):
    """Official StarGAN generator; ``forward(x, c)`` -> :class:`GeneratorOutput` with ``out`` only.

    ``c``: one-hot / multi-hot (B, c_dim) or class indices (B,).
    """

    #: Default of ``forward(split=...)``: off, so that translation equals the official forward to the
    #: last float digits (tests/test_generate.py); the training losses of
    #: :class:`course_lib.methods.stargan.StarGAN` turn it on (its ``split_label_conv`` lever).
    split_label_conv = False

    def __init__(self, conv_dim: int = 64, c_dim: int = 5, repeat_num: int = 6):
        super().__init__()
        self.c_dim = c_dim
        layers = blocks.trunk(3 + c_dim, conv_dim, repeat_num, track_running_stats=True)
        self.main = nn.Sequential(*layers, *blocks.output_conv(conv_dim, 3, nn.Tanh()))

    def forward(self, x, c, split: bool | None = None) -> GeneratorOutput:
        """``split``: compute the first convolution as :func:`label_conv` (the label planes' share once
        per batch instead of once per image; equal up to float rounding); None: ``split_label_conv``."""
        check_images(x, 3, 4)
        c = condition_vector(c, self.c_dim, x.shape[0], device=x.device, dtype=x.dtype)
        if not (self.split_label_conv if split is None else split):
            return GeneratorOutput(self.main(tile(x, c)))
        h = label_conv(x, c, self.main[0])
        for i, layer in enumerate(self.main):
            if i:
                h = layer(h)
        return GeneratorOutput(h)


def label_conv(x, c, conv: nn.Conv2d):
    """``conv(tile(x, c))`` - a stride-1 convolution of the images with their condition tiled as constant
    planes (:func:`course_lib.generators.tile`) - computed as ``conv_x(x) + M(c)``.  The planes are
    constant, so their share at an output position is the sum, over the kernel taps that fall inside the
    (zero-padded) image, of ``sum_k c_k W[:, k]``: the mixed kernel ``W_c = sum_k c_k W[:, n + k]`` (per
    image, tiny) summed over the valid rows and columns of taps, ``M = R W_c C^T`` with the 0/1 matrices
    ``R`` (output row x kernel row) and ``C`` (output column x kernel column): constant inside, different
    within ``padding`` of the border; linear in ``c`` (soft and multi-hot conditions too).  At StarGAN's
    7x7 input convolution with 8 label planes this removes 8 of its 11 input channels from the per-pixel
    work, in the backward too."""
    import torch.nn.functional as F

    n, k = x.shape[1], c.shape[1]
    w = conv.weight
    if w.shape[1] != n + k:
        raise ValueError(f"label_conv: the convolution takes {w.shape[1]} channels, images and condition have {n} + {k}")
    if conv.stride != (1, 1) or conv.dilation != (1, 1) or conv.groups != 1 or conv.padding_mode != "zeros":
        raise ValueError("label_conv: needs a stride-1, undilated, ungrouped, zero-padded convolution")
    out = F.conv2d(x, w[:, :n], conv.bias, 1, conv.padding)

    def taps(out_size, in_size, pad, kernel):  # (out_size, kernel): 1 where tap i of position y is inside
        pos = torch.arange(out_size, device=x.device)[:, None] + torch.arange(kernel, device=x.device) - pad
        return ((pos >= 0) & (pos < in_size)).to(out.dtype)

    R = taps(out.shape[-2], x.shape[-2], conv.padding[0], w.shape[-2])
    C = taps(out.shape[-1], x.shape[-1], conv.padding[1], w.shape[-1])
    w_c = torch.einsum("bk,okij->boij", c.to(out.dtype), w[:, n:].to(out.dtype))
    return out + torch.matmul(torch.matmul(R, w_c), C.t())


class Discriminator(PatchDiscriminator):
    """Official StarGAN discriminator (PatchGAN + classifier), official argument order."""

    def __init__(self, image_size: int = 128, conv_dim: int = 64, c_dim: int = 5, repeat_num: int = 6):
        super().__init__(image_size, n_classes=c_dim, conv_dim=conv_dim, n_layers=repeat_num)


def convert_official_state_dict(state_dict: dict, model: nn.Module | None = None) -> dict:
    """Official state_dict -> ours: strip ``module.``; add missing ``num_batches_tracked`` (as 0)."""
    sd = {re.sub(r"^module\.", "", k): v for k, v in state_dict.items()}
    if model is not None:
        for key, value in model.state_dict().items():
            if key.endswith("num_batches_tracked") and key not in sd and key.replace(
                    "num_batches_tracked", "running_mean") in sd:
                sd[key] = torch.zeros_like(value)
    return sd


def _load(path_or_state_dict, what: str) -> dict:
    if isinstance(path_or_state_dict, dict):
        return path_or_state_dict
    from course_lib import checkpoint

    path = Path(path_or_state_dict)
    if not path.is_file():
        raise FileNotFoundError(f"StarGAN {what} checkpoint not found: {path}")
    try:
        sd = checkpoint.load(path)
    except checkpoint.CheckpointError as err:
        raise ValueError(f"{path}: not a readable PyTorch state_dict ({err})") from err
    if not isinstance(sd, dict):
        raise ValueError(f"{path}: expected a state_dict (dict of tensors), got {type(sd).__name__}")
    return sd


def infer_generator_config(state_dict: dict) -> dict:
    """``conv_dim``, ``c_dim``, ``repeat_num`` of an official generator state_dict, read from its shapes."""
    sd = convert_official_state_dict(state_dict)
    if "main.0.weight" not in sd:
        raise ValueError("not a StarGAN generator state_dict: no 'main.0.weight' key")
    conv_dim, in_ch = sd["main.0.weight"].shape[:2]
    repeat = len({k.split(".")[1] for k in sd if re.match(r"main\.\d+\.main\.", k)})
    return {"conv_dim": int(conv_dim), "c_dim": int(in_ch) - 3, "repeat_num": repeat}


def infer_discriminator_config(state_dict: dict) -> dict:
    """``image_size``, ``conv_dim``, ``c_dim``, ``repeat_num`` of an official discriminator state_dict."""
    sd = convert_official_state_dict(state_dict)
    if "conv2.weight" not in sd or "main.0.weight" not in sd:
        raise ValueError("not a StarGAN discriminator state_dict: no 'main.0.weight' / 'conv2.weight' key")
    repeat = len([k for k in sd if re.fullmatch(r"main\.\d+\.weight", k)])
    c_dim, _, kh, kw = sd["conv2.weight"].shape
    if kh != kw:
        raise ValueError(f"official StarGAN discriminators are square; conv2 kernel is {kh}x{kw}")
    return {"image_size": int(kh) * 2 ** repeat, "conv_dim": int(sd["main.0.weight"].shape[0]),
            "c_dim": int(c_dim), "repeat_num": repeat}


def load_official(model: nn.Module, path_or_state_dict) -> nn.Module:
    """Load an official StarGAN ``*-G.ckpt`` / ``*-D.ckpt`` (path or state_dict) into ``model``, strictly."""
    what = "G" if isinstance(model, Generator) else "D"
    sd = convert_official_state_dict(_load(path_or_state_dict, what), model)
    try:
        model.load_state_dict(sd, strict=True)
    except RuntimeError as err:
        raise ValueError(f"StarGAN {what} checkpoint does not match this model's layout: {err}") from err
    return model


def from_official_checkpoint(g_path, d_path=None):
    """Build G (and D) with the sizes read from official checkpoints and load them: ``(G, D or None)``."""
    g_sd = _load(g_path, "G")
    G = load_official(Generator(**infer_generator_config(g_sd)), g_sd)
    D = None
    if d_path is not None:
        d_sd = _load(d_path, "D")
        D = load_official(Discriminator(**infer_discriminator_config(d_sd)), d_sd)
    return G, D


# ----------------------------------------------------------------------------- Losses
def critic_loss(D, real, fake, labels, weights, generator=None):
    """The critic's objective (Eq. 8 with Eq. 2-3: ``-mean D(x) + mean D(fake) + lambda_gp GP +
    lambda_cls CE(D_cls(x), labels)``), equal to :func:`course_lib.losses.discriminator_loss` for one
    critic, with the critic run **once** on real and fake images together (``torch.cat``) instead of
    twice: StarGAN's critic has no normalisation layer, so each image's outputs do not depend on the
    rest of the batch, and the two halves of the joint output are the two separate outputs (up to
    float rounding of the convolution on a larger batch; tests/test_stargan_speed.py).  The gradient
    penalty keeps its own forward (:func:`course_lib.losses.gradient_penalty`, the same draws of the
    interpolation weights): joining the interpolates too makes the penalty's double backward run over
    three times the batch (measured slower, ``methods/stargan.py``).  Returns ``(total, parts)`` with
    the parts ``adv``, ``gp``, ``cls`` (detached), as ``discriminator_loss``."""
    from course_lib import losses

    n = real.shape[0]
    src, cls = D(torch.cat([real, fake.detach()]))
    adv = losses.critic_adv_loss(src[:n], src[n:])
    gp = losses.gradient_penalty(D, real, fake, generator=generator)
    cls_loss = losses.classification_loss(cls[:n], labels)
    total = adv + weights.lambda_gp * gp + weights.lambda_cls * cls_loss
    return total, {"adv": adv.detach(), "gp": gp.detach(), "cls": cls_loss.detach()}
