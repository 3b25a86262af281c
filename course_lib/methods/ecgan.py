"""ECGAN (Tang, Wang, Wu, Chen, Xu, Sebe and Yan, ICIP 2019): an expression-conditional CycleGAN with a
face-mask loss, Eq. 1-6.

Networks (:mod:`course_lib.ecgan`): ``G["XY"]`` = G_X->Y and ``G["YX"]`` = G_Y->X, CycleGAN's ResNet
generators with the expression vector z entering at the bottleneck through a fully connected layer
(Fig. 1); ``D["X"]``, ``D["Y"]``, CycleGAN's PatchGAN with the condition as input planes (Section
5); ``D["pool_X"]``, ``D["pool_Y"]``, the image pools of 50 fakes (with their conditions), kept in
D's state so a resumed run is exact.  X = neutral faces, Y = every other expression; z = y's
one-hot expression; G_Y->X gets the swapped vector (source and target entries exchanged, i.e.
one_hot(neutral)).  How an iteration draws x and y, and how a trained model translates between two
non-neutral expressions (through neutral): :mod:`course_lib.methods._cycle`.

G's step minimises Eq. 6 =
L_cGAN (Eq. 1, both directions, generator side) + lambda_1 L_cyc (Eq. 2) + lambda_2 L_content (Eq. 3)
+ lambda_3 L_identity (Eq. 4) + lambda_4 L_mask (Eq. 5); D's step Eq. 1 (halved, CycleGAN) for D_X and
D_Y on real images and pooled fakes.  The face masks come from the training images' 68 landmarks
(:func:`course_lib.ecgan.face_mask`; synthetic ground truth, or dlib's on real photos).  Eq. 3's
feature network is :func:`course_lib.features.feature_network` (VGG19 with ImageNet weights when
they load, else the labelled in-domain stand-in): printed when training starts and kept in
:attr:`ECGAN.feature_info`; the ``reproduce ecgan-table2`` command resolves it first and writes the
concrete choice (``content_weights``) into each run's ``config.yaml`` and its table's notes.
"""
from __future__ import annotations

from dataclasses import dataclass

from course_lib.methods import non_negative, register
from course_lib.methods._cycle import CycleMethod

#: Training presets of the three methods (:mod:`course_lib.config`; reasons in ``PRESETS_DOC``).
PRESETS = {
    "paper": dict(net_size="paper", image_size=128, batch_size=1, g_lr=2e-4, d_lr=2e-4, beta1=0.5, beta2=0.999,
                  steps=288_000, decay_start=144_000, hyper={}, sample_every=5000, checkpoint_every=5000,
                  keep_every=50_000, log_every=100),
    "cpu": dict(net_size="cpu-wide", batch_size=1, g_lr=2e-4, d_lr=2e-4, beta1=0.5, beta2=0.999,
                steps=3000, decay_start=1500, hyper={}, sample_every=1000, checkpoint_every=500, log_every=50),
    "colab-t4": dict(steps=5_000, decay_start=2_500),
}
PRESETS_DOC = {
    "colab-t4": ("The colab-t4 preset's paper networks (CycleGAN's resnet_6blocks and 70x70 PatchGAN), 128x128, batch "
                 "16 and Adam 1e-4 with 5,000 iterations (lr constant for 2,500, then linear to 0) instead of its "
                 "40,000, so that the run fits a Colab session: an iteration runs the generators six times in G's "
                 "step (two translations, two cycles, two identities) and ECGAN adds VGG19's content loss, 6,131 "
                 "GFLOP an iteration for ECGAN (CycleGAN 5,461, pix2pix 746), expected 28.0 h for 40,000 and 3.5 h "
                 "for 5,000 on a T4 "
                 "(estimates of python -m course_lib gpu-time, data/results/gpu_time.md, not T4 measurements); "
                 "the three keep one schedule (ECGAN Section 4: the same setups). 5,000 x 16 = 80,000 images, "
                 "fewer than the paper preset's 288,000 x 1."),
    "paper": ("CycleGAN's setup, which ECGAN Section 4 adopts: 128x128 images (network size 'paper': CycleGAN's "
              "resnet_6blocks generator, 64 base channels, 70x70 PatchGAN), Adam lr 2e-4 for G and D, betas 0.5/0.999, "
              "batch 1, 200 epochs - 288,000 iterations over the 1440 training images of the synthetic set, 1 image "
              "each - with the learning rate constant for the first half and linear to 0 over the second (CycleGAN's "
              "n_epochs 100 + n_epochs_decay 100)."),
    "cpu": ("Our choice, sized to train in a few minutes on 2 CPU cores: network size 'cpu-wide' (64x64 images as "
            "LGP-GAN's cpu preset; 16 base channels in the generators and the critics, 3 residual blocks; the ResNet "
            "generator keeps CycleGAN's transposed convolutions), batch 1, Adam 2e-4 / betas 0.5, 0.999 (CycleGAN's), "
            "3000 iterations, the learning rate constant for 1500 then linear to 0."),
}


@dataclass
class Hyper:
    """ECGAN's loss weights (Eq. 6) and choices.  The paper gives no values; where it is silent the
    defaults are CycleGAN's (its code's ``--lambda_A/B`` 10, ``--lambda_identity`` 0.5) or ours."""

    lambda_cycle: float = 10.0
    """lambda_1 of Eq. 6 (cycle, Eq. 2): CycleGAN's 10."""
    lambda_content: float = 1.0
    """lambda_2 of Eq. 6 (content, Eq. 3): not given; 1 (our choice)."""
    lambda_identity: float = 5.0
    """lambda_3 of Eq. 6 (identity, Eq. 4): CycleGAN's 0.5 x lambda_cycle = 5."""
    lambda_mask: float = 10.0
    """lambda_4 of Eq. 6 (face mask, Eq. 5): not given; 10, the cycle's weight, so that a face pixel's cycle
    error weighs twice a background pixel's (our choice)."""
    content_weights: str = "auto"
    """Feature network of Eq. 3 (:func:`course_lib.features.feature_network`): "auto" (VGG19 ImageNet when
    loadable, else the offline stand-in), "imagenet", "in-domain" or a VGG19 weights file."""
    content_layer: str = "conv2_2"
    """phi_ij of Eq. 3: not given; conv2_2 (our choice: low-level texture, the layer SRGAN calls VGG22)."""
    cond_channels: int = 8
    """Channels of the fully connected layer's map of z at the bottleneck (Fig. 1 gives none; our choice)."""
    pool_size: int = 50
    """Image pool of each discriminator: CycleGAN's 50."""

    def validate(self):
        non_negative(self, "lambda_cycle", "lambda_content", "lambda_identity", "lambda_mask", "pool_size")
        if self.cond_channels < 1:
            raise ValueError(f"hyper-parameter 'cond_channels' = {self.cond_channels!r}: expected an integer >= 1")
        from course_lib.features import standin_block

        standin_block(self.content_layer)


@register
class ECGAN(CycleMethod):
    name = "ecgan"
    paper = ("Tang, Wang, Wu, Chen, Xu, Sebe and Yan, Expression Conditional GAN for Facial "
             "Expression-to-Expression Translation, "
             "IEEE ICIP 2019")
    equations = "Eq. 1-6, Fig. 1-3, Table 2 (Section 4: CycleGAN's training setup)"
    Hyper = Hyper
    mask_needed = True
    presets = PRESETS
    presets_doc = PRESETS_DOC

    def __init__(self, hyper=None, size="cpu", build: bool = True):
        self._features = None
        self.feature_info = None
        super().__init__(hyper, size, build)

    @staticmethod
    def networks(size, n_classes: int = 8, cond_dim=None, mask_convention: str = "lgp", hyper=None) -> dict:
        """``{"G": {"XY", "YX"}, "D": {"X", "Y", "pool_X", "pool_Y"}}`` at network size ``size``:
        ngf = its generator base channels, residual blocks = its global repeat count, ndf = its critic
        base channels; initialised N(0, 0.02)."""
        from torch import nn

        from course_lib import ecgan, presets

        p = presets.get_preset(size)
        h = hyper if hyper is not None else Hyper()
        G = nn.ModuleDict({k: ecgan.ResnetGenerator(p.image_size, p.g_conv_dim, p.g_repeat_global, n_classes,
                                                    h.cond_channels) for k in ("XY", "YX")})
        D = nn.ModuleDict({k: ecgan.PatchDiscriminator(3 + n_classes, p.d_conv_dim) for k in ("X", "Y")})
        ecgan.init_weights(G), ecgan.init_weights(D)
        D["pool_X"] = ecgan.ImagePool(p.image_size, n_classes, h.pool_size)
        D["pool_Y"] = ecgan.ImagePool(p.image_size, n_classes, h.pool_size)
        return {"G": G, "D": D}

    def build(self, size) -> dict:
        return self.networks(size, hyper=self.hyper)

    # -- Eq. 3's feature network --------------------------------------------------------
    def bind_data(self, tensors: dict) -> None:
        super().bind_data(tensors)
        self.features()

    def features(self):
        """The frozen feature network of Eq. 3 (built on first use; its label printed once)."""
        if self._features is None:
            from course_lib.features import feature_network

            h = self.hyper
            self._features = feature_network(h.content_weights, (h.content_layer,), log=print)
            self.feature_info = self._features.describe()
            print(f"ecgan: content loss (Eq. 3) on {h.content_layer} of {self._features.label}", flush=True)
        return self._features

    # -- one iteration --------------------------------------------------------------------
    def conditions(self, b: dict):
        from course_lib.ecgan import NEUTRAL, one_hot, swap

        z = one_hot(b["y_label"]).to(b["y"].device)
        return z, swap(z, b["y_label"], NEUTRAL)

    def loss(self, which: str, b: dict):
        import torch

        from course_lib import ecgan as E

        G, D, h = self.nets["G"], self.nets["D"], self.hyper
        x, y = b["x"], b["y"]
        z, zs = self.conditions(b)
        if which == "G":
            fake_y, fake_x = G["XY"](x, z), G["YX"](y, zs)
            rec_x, rec_y = G["YX"](fake_y, zs), G["XY"](fake_x, z)
            feats = self.features().to(x.device)
            parts = {"gan": E.lsgan_generator_loss(D["Y"](fake_y, z)) + E.lsgan_generator_loss(D["X"](fake_x, zs)),
                     "cycle": E.cycle_loss(x, rec_x, y, rec_y),
                     "content": E.content_loss(feats, x, rec_x, y, rec_y) if h.lambda_content else torch.zeros(()),
                     "identity": (E.identity_loss(x, G["YX"](x, zs), y, G["XY"](y, z)) if h.lambda_identity
                                  else torch.zeros(())),
                     "mask": E.mask_loss(x, rec_x, b["mask_x"], y, rec_y, b["mask_y"])}
            total = E.full_objective(parts, h.lambda_cycle, h.lambda_content, h.lambda_identity, h.lambda_mask)
            b["fake_y"], b["fake_x"] = fake_y.detach(), fake_x.detach()
            return total, {k: v.detach() for k, v in parts.items()}
        if which == "D":
            if "fake_y" not in b:
                with torch.no_grad():
                    b["fake_y"], b["fake_x"] = G["XY"](x, z), G["YX"](y, zs)
            fy, zq = D["pool_Y"].query(b["fake_y"], z)
            fx, zsq = D["pool_X"].query(b["fake_x"], zs)
            d_y = 0.5 * E.lsgan_loss(D["Y"](y, z), D["Y"](fy, zq))
            d_x = 0.5 * E.lsgan_loss(D["X"](x, zs), D["X"](fx, zsq))
            return d_y + d_x, {"D_Y": d_y.detach(), "D_X": d_x.detach()}
        raise ValueError(f"ecgan: no network {which!r}; have {self.network_names}")

    # -- translation --------------------------------------------------------------------
    def neutralise(self, images, source=None):
        import torch

        from course_lib.ecgan import NEUTRAL, one_hot

        n = self.nets["G"]["YX"](images, one_hot(torch.full((len(images),), NEUTRAL)).to(images.device))
        if source is not None:
            n = torch.where((source == NEUTRAL)[:, None, None, None], images, n)
        return n

    def express(self, neutral_images, target):
        from course_lib.ecgan import one_hot

        return self.nets["G"]["XY"](neutral_images, one_hot(target).to(neutral_images.device))
