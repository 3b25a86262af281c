"""pix2pix (Isola, Zhu, Zhou and Efros, CVPR 2017) as ECGAN's paired baseline (ECGAN Tables 1-2, Fig. 3).

pix2pix learns from **pairs**: the input and the true output.  The synthetic set has them exactly
(the same identity rendered with every expression), which no real dataset of the paper had for
every expression; an iteration takes, for each batch image, the neutral face x and an expression
face y *of the same identity* (:mod:`course_lib.methods._cycle`, ``paired``) and trains both
directions, x -> y (generation) and y -> x (neutralisation), as one batch of two.

Networks (:mod:`course_lib.ecgan`): pix2pix's U-Net generator (``unet_128`` at 128x128, one halving
fewer at 64x64) and its conditional PatchGAN, which judges (input, output) pairs.  Our one
departure from one-model-per-mapping: the target expression enters both as 8 constant planes
(the U-Net's input, the critic's input), so one U-Net serves the seven generations and the
neutralisation, as ECGAN's one conditional generator does.  Losses: the least-squares adversarial
loss (ECGAN Eq. 1: "the same setups as our approach"; pix2pix's default is the binary
cross-entropy) plus pix2pix's L1 to the true output, weight 100 (``--lambda_L1``); the critic's
loss halved (``backward_D``).  No image pool (pix2pix's ``--pool_size 0``).
"""
from __future__ import annotations

from dataclasses import dataclass

from course_lib.methods import non_negative, register
from course_lib.methods._cycle import CycleMethod
from course_lib.methods.ecgan import PRESETS as ECGAN_PRESETS
from course_lib.methods.ecgan import PRESETS_DOC as ECGAN_PRESETS_DOC


@dataclass
class Hyper:
    """pix2pix's weights (``pix2pix_model.py``, ``networks.py`` defaults)."""

    lambda_l1: float = 100.0
    """``--lambda_L1`` 100: L1 between the output and the true image of the pair."""
    dropout: float = 0.5
    """Dropout of the U-Net's innermost 8-ngf blocks (``unet_*``: 0.5); active in training only."""

    def validate(self):
        non_negative(self, "lambda_l1", "dropout")
        if not self.dropout < 1:
            raise ValueError(f"hyper-parameter 'dropout' = {self.dropout!r}: expected a rate in [0, 1)")


@register
class Pix2pix(CycleMethod):
    name = "pix2pix"
    paper = "Isola, Zhu, Zhou and Efros, Image-to-Image Translation with Conditional Adversarial Networks, CVPR 2017"
    equations = ("pix2pix's objective (cGAN + lambda L1) with ECGAN Eq. 1's least squares; baseline of ECGAN "
                 "Tables 1-2, Fig. 3")
    Hyper = Hyper
    paired = True
    presets = ECGAN_PRESETS
    presets_doc = {k: v + " The same setup as ECGAN's (ECGAN Section 4), on pairs of the same identity; one " \
                   "iteration trains the pair in both directions." for k, v in ECGAN_PRESETS_DOC.items()}

    @staticmethod
    def networks(size, n_classes: int = 8, cond_dim=None, mask_convention: str = "lgp", hyper=None) -> dict:
        """``{"G": UnetGenerator, "D": PatchDiscriminator((input, output, target planes))}`` at network size
        ``size`` (ngf / ndf = its base channels); initialised N(0, 0.02)."""
        from course_lib import ecgan, presets

        p = presets.get_preset(size)
        h = hyper if hyper is not None else Hyper()
        return {"G": ecgan.init_weights(ecgan.UnetGenerator(p.image_size, p.g_conv_dim, n_classes, h.dropout)),
                "D": ecgan.init_weights(ecgan.PatchDiscriminator(6 + n_classes, p.d_conv_dim))}

    def build(self, size) -> dict:
        return self.networks(size, hyper=self.hyper)

    def pairs(self, b: dict):
        """(inputs, true outputs, target one-hots): x -> y with y's expression, y -> x with neutral."""
        import torch

        from course_lib.ecgan import NEUTRAL, one_hot

        x, y = b["x"], b["y"]
        z = torch.cat([one_hot(b["y_label"]), one_hot(torch.full((len(x),), NEUTRAL))]).to(x.device)
        return torch.cat([x, y]), torch.cat([y, x]), z

    def loss(self, which: str, b: dict):
        import torch

        from course_lib import ecgan as E

        G, D, h = self.nets["G"], self.nets["D"], self.hyper
        inp, tgt, z = self.pairs(b)
        if which == "G":
            fake = G(inp, z)
            parts = {"gan": E.lsgan_generator_loss(D(inp, fake, z)), "l1": (fake - tgt).abs().mean()}
            b["fake"] = fake.detach()
            return parts["gan"] + h.lambda_l1 * parts["l1"], {k: v.detach() for k, v in parts.items()}
        if which == "D":
            if "fake" not in b:
                with torch.no_grad():
                    b["fake"] = G(inp, z)
            d = 0.5 * E.lsgan_loss(D(inp, tgt, z), D(inp, b["fake"], z))
            return d, {"D": d.detach()}
        raise ValueError(f"pix2pix: no network {which!r}; have {self.network_names}")

    def neutralise(self, images, source=None):
        import torch

        from course_lib.ecgan import NEUTRAL, one_hot

        n = self.nets["G"](images, one_hot(torch.full((len(images),), NEUTRAL)).to(images.device))
        if source is not None:
            n = torch.where((source == NEUTRAL)[:, None, None, None], images, n)
        return n

    def express(self, neutral_images, target):
        from course_lib.ecgan import one_hot

        return self.nets["G"](neutral_images, one_hot(target).to(neutral_images.device))
