"""GANimation (Pumarola et al. 2018) as a baseline: an AU-conditioned attention generator.

Adversarial (WGAN-GP) + AU regression (L2, in place of the CCE of LGP-GAN Eq. 3-4) +
cycle + attention (mean + total variation); no self-reconstruction.  The condition is a
vector of AU intensities in [0, 1] (``facs.AU_NUMBERS``); a target given as an expression
label becomes its prototype AU vector (:func:`course_lib.datasets.prototype_aus`).
"""
from __future__ import annotations

from dataclasses import dataclass

from course_lib.methods import Method, non_negative, register
from course_lib.methods._wgan import single_critic


@dataclass
class Hyper:
    """GANimation's loss weights.  The paper (Section 5) uses lambda_gp = 10, lambda_A = 0.1,
    lambda_TV = 1e-4, lambda_y = 4000, lambda_idt = 10 with its own scaling of each term; the
    course keeps the values it has always trained GANimation with (below)."""

    lambda_cls: float = 1.0
    """Weight of the AU regression (L2, mean over AUs; the paper's lambda_y on its scale: 4000)."""
    lambda_cls_d: float | None = None
    """AU-regression weight in the critic's objective when it differs (None: ``lambda_cls``).
    The ``cpu`` training preset sets 6 (our choice, :mod:`course_lib.config`)."""
    lambda_cycle: float = 10.0
    """Cycle (identity) reconstruction, the paper's lambda_idt: 10."""
    lambda_att: float = 0.1
    """Attention loss (mean + TV of the mask), the paper's lambda_A: 0.1."""
    lambda_gp: float = 10.0
    """Gradient penalty (WGAN-GP): 10."""
    tv_weight: float = 1e-4
    """TV weight inside the attention loss (:data:`course_lib.losses.GANIMATION_TV_WEIGHT`)."""

    def validate(self):
        non_negative(self, "lambda_cls", "lambda_cls_d", "lambda_cycle", "lambda_att", "lambda_gp", "tv_weight")


def critic_loss(critics, reals, fakes, au_real, hyper):
    """The critic's objective: WGAN-GP (LGP-GAN Eq. 2) + weight * L2 regression of the real AUs."""
    import torch.nn.functional as F

    from course_lib import losses

    w = hyper.lambda_cls if hyper.lambda_cls_d is None else hyper.lambda_cls_d
    adv = gp = cond = 0
    for name, D in critics.items():
        src_r, au_r = D(reals[name])
        src_f, _ = D(fakes[name].detach())
        adv = adv + losses.critic_adv_loss(src_r, src_f)
        gp = gp + losses.gradient_penalty(D, reals[name], fakes[name])
        cond = cond + F.mse_loss(au_r.flatten(1), au_real)
    return adv + hyper.lambda_gp * gp + w * cond, {"adv": adv.detach(), "gp": gp.detach(), "cls": cond.detach()}


def generator_loss(critics, fakes, au_trg, x, rec, masks, hyper):
    """The generator's objective: adversarial + L2 AU regression of the fakes + cycle + attention."""
    import torch.nn.functional as F

    from course_lib import losses

    adv = cond = 0
    for name, D in critics.items():
        src_f, au_f = D(fakes[name])
        adv = adv + losses.generator_adv_loss(src_f)
        cond = cond + F.mse_loss(au_f.flatten(1), au_trg)
    parts = {"adv": adv, "cls": cond, "cycle": losses.cycle_loss(rec, x)}
    total = adv + hyper.lambda_cls * cond + hyper.lambda_cycle * parts["cycle"]
    if masks:
        parts["att"] = losses.attention_loss(masks, "ganimation", hyper.tv_weight)
        total = total + hyper.lambda_att * parts["att"]
    return total, {k: v.detach() for k, v in parts.items()}


@register
class GANimation(Method):
    name = "ganimation"
    paper = "Pumarola et al., GANimation: Anatomically-aware Facial Animation from a Single Image, ECCV 2018"
    equations = "GANimation Section 4 (attention generator; WGAN-GP critic with AU regression); baseline of LGP-GAN Table IV"
    conditioning = "AUs"
    batch_keys = ("image", "label", "aus")
    Hyper = Hyper

    @staticmethod
    def networks(size, n_classes: int = 8, cond_dim=None, mask_convention: str = "lgp") -> dict:
        """``{"G": ganimation.Generator, "D": ganimation.Discriminator}`` conditioned on ``cond_dim``
        AU intensities (default 17, the paper's)."""
        from course_lib import ganimation, presets

        p = presets.get_preset(size)
        aus = cond_dim or ganimation.PAPER_AUS
        return {"G": ganimation.Generator(p.g_conv_dim, aus, p.g_repeat_global),
                "D": ganimation.Discriminator(p.image_size, p.d_conv_dim, aus, p.d_layers_global)}

    def build(self, size) -> dict:
        from course_lib import facs

        built = self.networks(size, cond_dim=len(facs.AU_NUMBERS))
        return {"G": built["G"], "D": single_critic(built["D"])}

    def condition(self, batch):
        return batch["aus"]

    def label_condition(self, labels):
        from course_lib.datasets import prototype_aus

        return prototype_aus(labels)

    def loss(self, which: str, b: dict):
        import torch

        G, critics, x = self.nets["G"], {"global": self.nets["D"]["global"]}, b["image"]
        if which == "D":
            with torch.no_grad():
                fake = G(x, b["c_trg"]).out
            return critic_loss(critics, {"global": x}, {"global": fake}, b["c_org"], self.hyper)
        if which == "G":
            o = G(x, b["c_trg"])
            rec = G(o.out, b["c_org"]).out
            return generator_loss(critics, {"global": o.out}, b["c_trg"], x, rec, [o.mask], self.hyper)
        raise ValueError(f"ganimation: no network {which!r}; have {self.network_names}")

    def translate(self, images, target, extra=None) -> dict:
        o = self.nets["G"](images, target)
        return {"out": o.out, "masks": [o.mask], "visuals": {"mask": o.mask, "colour": o.color}, "raw": o}
