"""StarGAN (Choi et al. 2018) as the course's baseline: one generator, one critic, no attention.

Adversarial (WGAN-GP) + classification + cycle reconstruction (lambda 10); no
self-reconstruction and no mask.  Networks: the official layout
(:mod:`course_lib.stargan`).  G translates in training mode, as the official
``solver.test()`` does (its InstanceNorm keeps running statistics that training never
uses).  Generators written by the official solver (yunjey/stargan ``*-G.ckpt``) trained on
RaFD (c_dim=8) load through :meth:`StarGAN.from_foreign_checkpoint`; the published CelebA
ones (c_dim=5 attributes) are refused.
"""
from __future__ import annotations

from dataclasses import dataclass

from course_lib.methods import Method, non_negative, register
from course_lib.methods._wgan import loss_weights, single_critic


@dataclass
class Hyper:
    """StarGAN's loss weights (Choi et al. 2018, Eq. 5-7 and Section 4 / official solver)."""

    lambda_cls: float = 1.0
    """lambda_cls, domain classification (Eq. 7): 1."""
    lambda_cls_d: float | None = None
    """lambda_cls of the critic's objective when it differs (None: ``lambda_cls``). Not in the
    paper: the ``cpu`` training preset sets 6 (our choice, :mod:`course_lib.config`)."""
    lambda_cycle: float = 10.0
    """lambda_rec, reconstruction (Eq. 4, 7): 10."""
    lambda_gp: float = 10.0
    """lambda_gp, gradient penalty (Eq. 8, WGAN-GP): 10."""

    def validate(self):
        non_negative(self, "lambda_cls", "lambda_cls_d", "lambda_cycle", "lambda_gp")


@register
class StarGAN(Method):
    name = "stargan"
    paper = "Choi et al., StarGAN: Unified Generative Adversarial Networks for Multi-Domain Image-to-Image Translation, CVPR 2018"
    equations = "Eq. 1-8 (StarGAN); baseline of LGP-GAN Table IV"
    conditioning = "label"
    translate_train_mode = True
    Hyper = Hyper

    @staticmethod
    def networks(size, n_classes: int = 8, cond_dim=None, mask_convention: str = "lgp") -> dict:
        """Official-layout ``{"G": stargan.Generator, "D": stargan.Discriminator}`` at ``size``."""
        from course_lib import presets, stargan

        p = presets.get_preset(size)
        return {"G": stargan.Generator(p.g_conv_dim, n_classes, p.g_repeat_global),
                "D": stargan.Discriminator(p.image_size, p.d_conv_dim, n_classes, p.d_layers_global)}

    def build(self, size) -> dict:
        built = self.networks(size)
        return {"G": built["G"], "D": single_critic(built["D"])}

    def loss(self, which: str, b: dict):
        import torch

        from course_lib import losses

        G, critics, x = self.nets["G"], {"global": self.nets["D"]["global"]}, b["image"]
        if which == "D":
            with torch.no_grad():
                fake = G(x, b["c_trg"]).out
            return losses.discriminator_loss(critics, {"global": x}, {"global": fake}, b["label"],
                                             loss_weights(self.hyper, True))
        if which == "G":
            fake = G(x, b["c_trg"]).out
            rec = G(fake, b["c_org"]).out
            return losses.generator_loss(critics, {"global": fake}, b["c_trg"], x=x, cycle=rec,
                                         weights=loss_weights(self.hyper))
        raise ValueError(f"stargan: no network {which!r}; have {self.network_names}")

    def translate(self, images, target, extra=None) -> dict:
        o = self.nets["G"](images, target)
        return {"out": o.out, "masks": [], "visuals": {}, "raw": o}

    @classmethod
    def from_foreign_checkpoint(cls, state, path, device):
        """An official StarGAN generator state_dict (``*-G.ckpt``, c_dim 8); None if ``state`` is not one."""
        from course_lib import facs, stargan

        try:
            cfg = stargan.infer_generator_config(state)
        except Exception:
            return None
        if cfg["c_dim"] != facs.NUM_CLASSES:
            raise ValueError(f"{path}: this StarGAN generator has c_dim={cfg['c_dim']}; the course needs the "
                             f"{facs.NUM_CLASSES} RaFD expressions (c_dim={facs.NUM_CLASSES}: a generator trained with "
                             "the official solver on RaFD; the published CelebA generators have c_dim=5 attributes, "
                             "not expressions)")
        m = cls(size="paper", build=False)  # the official solver's RaFD setting: 128x128 (fully convolutional)
        m.nets = {"G": stargan.load_official(stargan.Generator(**cfg), state).to(device)}
        return m

    foreign_format = "an official StarGAN generator state_dict (yunjey/stargan *-G.ckpt)"
