"""The objectives of LGP-GAN (Xia et al. 2021, Section III.B, Eq. 2-9), one small function each.

Conventions (as everywhere in the course): images are float tensors (B, 3, H, W) in
[-1, 1]; a critic (discriminator) returns ``(src, cls_logits)`` with ``src`` a PatchGAN
map (B, 1, h, w) (or any (B, ...) tensor) and ``cls_logits`` (B, n) or (B, n, 1, 1);
labels are int indices into :data:`course_lib.facs.EXPRESSIONS`.

Every function returns a 0-dim tensor that is *minimised*. None clamps or filters its
inputs, so a NaN or inf anywhere reaches the result (the trainer's NaN guard relies on it).

**Sign conventions.** Eq. 2 is printed with logarithms, ``E[log D(I)] - E[log D(G(I))]``,
but the text says it is the adversarial loss of WGAN-GP [26], and it carries WGAN-GP's
gradient penalty, which only makes sense for a critic with unbounded real output. We
implement WGAN-GP (Gulrajani et al. 2017, Algorithm 1), as StarGAN [42] does, without the
logs. Eq. 8 / 9 then read ``L_D = L_adv + l1 L_cls^D`` and ``L_G = -L_adv + ...``; both are
minimised, so ``L_adv`` there is the critic's objective written as a loss,

    L_adv = -E[D(I_real)] + E[D(G(I, f_y))] + lambda_gp E[(||grad D(I~)||_2 - 1)^2]

(the negative of Eq. 2 as printed), and in ``-L_adv`` only ``-E[D(G(I, f_y))]`` depends on
G. The logarithmic form is kept, as :func:`gan_discriminator_loss` /
:func:`gan_generator_loss`, for Lesson 6's comparison with the original GAN.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ATTENTION_VARIANTS = ("l2", "ganimation")

#: Weight of the total-variation term of the "ganimation" attention variant (our choice):
#: GANimation's official code weighs ``mean(M)`` by 0.1 and the summed absolute TV by 1e-5;
#: inside ``lambda_att * L_att`` with ``lambda_att = 0.1`` that is ``tv_weight = 1e-4``.
GANIMATION_TV_WEIGHT = 1e-4


@dataclass(frozen=True)
class LossWeights:
    """The weights of Eq. 8 / Eq. 9 and of the gradient penalty, LGP-GAN Section III.B / IV.B.

    ``lambda_cls`` = lambda_1 = 1, ``lambda_cycle`` = lambda_2 = 10, ``lambda_self`` = lambda_3 = 10,
    ``lambda_att`` = lambda_4 = 0.1, ``lambda_gp`` = 10 (Eq. 2). Values must be finite and >= 0.
    """
    lambda_cls: float = 1.0
    lambda_cycle: float = 10.0
    lambda_self: float = 10.0
    lambda_att: float = 0.1
    lambda_gp: float = 10.0

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"LossWeights.{f.name} must be a finite number >= 0, got {v!r}")


# --------------------------------------------------------------------------- helpers

def _src(output) -> Tensor:
    """The real/fake map of a critic's output: ``(src, cls)`` or a bare tensor."""
    return output[0] if isinstance(output, (tuple, list)) else output


def _check_batch(name: str, t: Tensor, ref: Tensor, ref_name: str):
    if t.shape != ref.shape:
        raise ValueError(f"{name} has shape {tuple(t.shape)} but {ref_name} has {tuple(ref.shape)}; "
                         "they must be equal")


def _named(obj, what: str) -> dict:
    """A mapping ``{name: obj}`` (dict or ``nn.ModuleDict``); a single module/tensor becomes ``{"global": obj}``."""
    if isinstance(obj, (Mapping, nn.ModuleDict)):
        if not obj:
            raise ValueError(f"{what} is empty; expected at least one entry (e.g. {{'global': ...}})")
        return dict(obj)
    return {"global": obj}


def _same_keys(a: dict, a_name: str, b: dict, b_name: str):
    if set(a) != set(b):
        raise ValueError(f"{b_name} must have the same keys as {a_name}: {a_name} has {sorted(a)}, "
                         f"{b_name} has {sorted(b)}")


# --------------------------------------------------------------------------- Eq. 2: WGAN-GP

def critic_adv_loss(src_real: Tensor, src_fake: Tensor) -> Tensor:
    """WGAN critic term of Eq. 2 as a loss: ``-mean(D(real)) + mean(D(fake))``.

    Means run over the batch and over every PatchGAN output position (as StarGAN [42]).
    Minus its value is the critic's estimate of the Wasserstein-1 distance.
    """
    return -src_real.mean() + src_fake.mean()


def generator_adv_loss(src_fake: Tensor) -> Tensor:
    """Generator term of ``-L_adv`` in Eq. 9: ``-mean(D(G(I, f_y)))`` (WGAN-GP [26])."""
    return -src_fake.mean()


def interpolate(real: Tensor, fake: Tensor, alpha: Tensor | None = None,
                generator: torch.Generator | None = None) -> Tensor:
    """``I~ = a * real + (1 - a) * fake`` with one ``a ~ U[0, 1]`` per sample (WGAN-GP Alg. 1).

    ``alpha`` (shape (B,)) fixes the mixing weights instead of drawing them.
    """
    _check_batch("fake", fake, real, "real")
    if alpha is None:
        if generator is None:  # under torchrun: this process's share of the global batch's draw
            from course_lib import distributed

            alpha = distributed.rand(real.shape[0], dtype=real.dtype, device=real.device)
        else:
            alpha = torch.rand(real.shape[0], generator=generator, dtype=real.dtype, device=generator.device)
        alpha = alpha.to(real.device)
    alpha = torch.as_tensor(alpha, dtype=real.dtype, device=real.device)
    if alpha.shape != (real.shape[0],):
        raise ValueError(f"alpha must have shape ({real.shape[0]},) (one weight per sample), got {tuple(alpha.shape)}")
    a = alpha.view(-1, *([1] * (real.dim() - 1)))
    return a * real + (1 - a) * fake


def gradient_penalty(critic, real: Tensor, fake: Tensor, alpha: Tensor | None = None,
                     generator: torch.Generator | None = None) -> Tensor:
    """The penalty of Eq. 2 (WGAN-GP [26]): ``mean_b (||grad_{I~} D(I~_b)||_2 - 1)^2``.

    ``I~`` interpolates ``real`` and ``fake.detach()`` per sample (:func:`interpolate`);
    ``critic(I~)`` returns ``(src, cls)`` or a bare tensor. For a PatchGAN map the gradient
    is that of the sum over output positions (StarGAN's ``grad_outputs=ones``; our choice,
    the paper is silent). The graph is kept (``create_graph=True``) so that the penalty
    can be back-propagated into the critic's weights. Not multiplied by ``lambda_gp``.
    """
    x = interpolate(real.detach(), fake.detach(), alpha, generator).requires_grad_(True)
    src = _src(critic(x))
    (grad,) = torch.autograd.grad(src, x, grad_outputs=torch.ones_like(src), create_graph=True)
    return ((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


# --------------------------------------------------------------------------- the original GAN (Lesson 6)

def gan_discriminator_loss(logit_real: Tensor, logit_fake: Tensor) -> Tensor:
    """Original GAN (Goodfellow et al. 2014) discriminator loss, the logarithms of printed Eq. 2:
    ``-E[log D(real)] - E[log(1 - D(fake))]`` with ``D = sigmoid(logit)``, computed stably."""
    return F.softplus(-logit_real).mean() + F.softplus(logit_fake).mean()


def gan_generator_loss(logit_fake: Tensor, non_saturating: bool = True) -> Tensor:
    """Original GAN generator loss: ``-E[log D(G(z))]`` (non-saturating, the usual choice) or
    the minimax ``E[log(1 - D(G(z)))]`` whose gradient vanishes when D rejects the fakes."""
    return F.softplus(-logit_fake).mean() if non_saturating else -F.softplus(logit_fake).mean()


# --------------------------------------------------------------------------- Eq. 3-7

def classification_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """Categorical cross-entropy of Eq. 3 (real images, labels f_x) and Eq. 4 (fakes, f_y).

    ``logits`` (B, n) or (B, n, 1, 1) (Table III's classifier conv); ``labels`` (B,) int
    indices. Mean over the batch of ``-log softmax(logits)[label]``.
    """
    logits = logits.flatten(1)
    if labels.dim() != 1 or labels.shape[0] != logits.shape[0] or labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must be an int tensor of shape ({logits.shape[0]},) (class indices), "
                         f"got {labels.dtype} {tuple(labels.shape)}")
    return F.cross_entropy(logits, labels)


def cycle_loss(rec: Tensor, x: Tensor) -> Tensor:
    """Eq. 5: ``||G(G(I_x, f_y), f_x) - I_x||_1``, as the mean absolute error over every
    pixel and channel (StarGAN's reduction; our choice, the paper writes an expectation)."""
    _check_batch("rec", rec, x, "x")
    return (rec - x).abs().mean()


def self_reconstruction_loss(out: Tensor, x: Tensor) -> Tensor:
    """Eq. 6: ``||G(I_x, f_x) - I_x||_1`` (translating to the input's own label changes
    nothing), mean absolute error as :func:`cycle_loss`."""
    _check_batch("out", out, x, "x")
    return (out - x).abs().mean()


def total_variation(mask: Tensor) -> Tensor:
    """Anisotropic total variation per sample, averaged over the batch:
    ``mean_b sum_{c,i,j} |M[i+1,j] - M[i,j]| + |M[i,j+1] - M[i,j]|`` (GANimation's official
    code; summed per image and averaged over the batch, our choice)."""
    dh = (mask[..., 1:, :] - mask[..., :-1, :]).abs().flatten(1).sum(1)
    dw = (mask[..., :, 1:] - mask[..., :, :-1]).abs().flatten(1).sum(1)
    return (dh + dw).mean()


def total_variation_sum(mask: Tensor) -> Tensor:
    """Anisotropic total variation summed over the whole batch, GANimation's official
    ``_compute_loss_smooth``: ``sum |M[..., :, :-1] - M[..., :, 1:]| + sum |M[..., :-1, :] - M[..., 1:, :]|``
    over every sample, channel and position (not averaged: B times :func:`total_variation`).
    Under torchrun, the sum over the *global* batch (:func:`course_lib.distributed.batch_sum`)."""
    from course_lib import distributed

    return distributed.batch_sum((mask[..., :, :-1] - mask[..., :, 1:]).abs().sum()
                                 + (mask[..., :-1, :] - mask[..., 1:, :]).abs().sum())


def attention_loss(masks: Sequence[Tensor] | Tensor, variant: str = "l2",
                   tv_weight: float = GANIMATION_TV_WEIGHT, normalized: bool = True) -> Tensor:
    """Attention loss over all masks, LGP-GAN Eq. 7: ``E[||M_eye||_2 + ||M_mouth||_2 + ||M_y||_2]``.

    ``masks``: the attention masks (B, 1, H, W) (or (B, H, W)) of the three generators for
    G(I_x, f_y); sizes may differ. The loss is the sum over masks of a per-mask term
    averaged over the batch:

    * ``"l2"`` (Eq. 7): the L2 norm of each sample's mask. With ``normalized=True`` (the
      default, our choice) it is divided by sqrt(number of mask elements), i.e. the root
      mean square of the mask: a constant mask m costs m at any resolution, so
      lambda_4 = 0.1 weighs the 48x96 eye mask and the 128x128 face mask alike, on the
      scale of the mean-L1 reconstruction terms. ``normalized=False`` gives the literal
      Eq. 7 norm (grows with image size).
    * ``"ganimation"`` (GANimation [49], official code): ``mean(M) + tv_weight * TV(M)``
      with :func:`total_variation`; ``tv_weight`` default :data:`GANIMATION_TV_WEIGHT`.
    """
    if variant not in ATTENTION_VARIANTS:
        raise ValueError(f"unknown attention variant {variant!r}; valid: {', '.join(ATTENTION_VARIANTS)}")
    if isinstance(masks, Tensor):
        masks = [masks]
    if len(masks) == 0:
        raise ValueError("attention_loss needs at least one mask")
    total = 0
    for i, m in enumerate(masks):
        if m.dim() not in (3, 4):
            raise ValueError(f"mask {i} must be (B, 1, H, W) or (B, H, W), got shape {tuple(m.shape)}")
        flat = m.flatten(1)
        if variant == "l2":
            norm = flat.norm(2, dim=1)
            total = total + (norm / math.sqrt(flat.shape[1]) if normalized else norm).mean()
        else:
            total = total + flat.mean() + tv_weight * total_variation(m)
    return total


# --------------------------------------------------------------------------- Eq. 8 and Eq. 9

def discriminator_loss(critics, reals, fakes, real_labels: Tensor,
                       weights: LossWeights = LossWeights(),
                       generator: torch.Generator | None = None) -> tuple[Tensor, dict[str, Tensor]]:
    """Full critic objective, Eq. 8: ``L_D = L_adv + lambda_1 L_cls^D``, summed over the critics (Eq. 2-3).

    ``critics``: ``{name: D_i}`` (LGP-GAN: ``eye``, ``mouth``, ``global``) or one module
    (-> ``{"global": D}``); ``reals``: ``{name: I_i}`` the real inputs (the eye / mouth crops
    of I_x and I_x); ``fakes``: ``{name: G_i(I_i, f_y)}`` (the local generators' crops and
    I_y; detached here); ``real_labels``: f_x (B,). Per critic i::

        adv_i = -mean D_i(I_i) + mean D_i(fake_i)       gp_i = penalty on I~_i
        cls_i = CCE(D_i^cls(I_i), f_x)
        L_D   = sum_i (adv_i + lambda_gp gp_i) + lambda_cls sum_i cls_i

    Returns ``(L_D, parts)``: ``parts`` holds the unweighted, detached sums ``adv``, ``gp``,
    ``cls`` and, with several critics, ``adv_<name>``, ``gp_<name>``, ``cls_<name>``.
    """
    critics, reals, fakes = _named(critics, "critics"), _named(reals, "reals"), _named(fakes, "fakes")
    _same_keys(critics, "critics", reals, "reals")
    _same_keys(critics, "critics", fakes, "fakes")
    per = {}
    for name, D in critics.items():
        real, fake = reals[name], fakes[name].detach()
        src_real, cls_real = D(real)
        src_fake, _ = D(fake)
        per[name] = {"adv": critic_adv_loss(src_real, src_fake),
                     "gp": gradient_penalty(D, real, fake, generator=generator),
                     "cls": classification_loss(cls_real, real_labels)}
    sums = {k: sum(p[k] for p in per.values()) for k in ("adv", "gp", "cls")}
    total = sums["adv"] + weights.lambda_gp * sums["gp"] + weights.lambda_cls * sums["cls"]
    return total, _parts(sums, per)


def generator_loss(critics, fakes, target_labels: Tensor, *, x: Tensor | None = None,
                   cycle: Tensor | None = None, self_rec: Tensor | None = None,
                   masks: Sequence[Tensor] = (), weights: LossWeights = LossWeights(),
                   attention: str = "l2", tv_weight: float = GANIMATION_TV_WEIGHT
                   ) -> tuple[Tensor, dict[str, Tensor]]:
    """Full generator objective, Eq. 9:
    ``L_G = -L_adv + lambda_1 L_cls^G + lambda_2 L_cycle + lambda_3 L_self + lambda_4 L_att``.

    ``critics`` / ``fakes`` as in :func:`discriminator_loss` (fakes *not* detached: the
    gradient flows into G); ``target_labels``: f_y (B,). Per critic i the adversarial term
    ``-mean D_i(fake_i)`` (:func:`generator_adv_loss`) and ``CCE(D_i^cls(fake_i), f_y)``
    (Eq. 4) are summed over the critics. The optional terms are included when given:
    ``cycle`` = G(G(I_x, f_y), f_x) (Eq. 5) and ``self_rec`` = G(I_x, f_x) (Eq. 6), both
    compared with ``x`` = I_x; ``masks`` = the attention masks (Eq. 7, :func:`attention_loss`
    with ``attention`` = "l2" | "ganimation"). StarGAN passes no ``self_rec`` and no masks.

    Returns ``(L_G, parts)``: unweighted, detached ``adv``, ``cls`` and those of ``cycle``,
    ``self``, ``att`` that were computed; with several critics also ``adv_<name>``, ``cls_<name>``.
    """
    critics, fakes = _named(critics, "critics"), _named(fakes, "fakes")
    _same_keys(critics, "critics", fakes, "fakes")
    if (cycle is not None or self_rec is not None) and x is None:
        raise ValueError("generator_loss: pass x (the input images I_x) with cycle= or self_rec=")
    per = {}
    for name, D in critics.items():
        src_fake, cls_fake = D(fakes[name])
        per[name] = {"adv": generator_adv_loss(src_fake), "cls": classification_loss(cls_fake, target_labels)}
    sums = {k: sum(p[k] for p in per.values()) for k in ("adv", "cls")}
    total = sums["adv"] + weights.lambda_cls * sums["cls"]
    if cycle is not None:
        sums["cycle"] = cycle_loss(cycle, x)
        total = total + weights.lambda_cycle * sums["cycle"]
    if self_rec is not None:
        sums["self"] = self_reconstruction_loss(self_rec, x)
        total = total + weights.lambda_self * sums["self"]
    if len(masks):
        sums["att"] = attention_loss(masks, attention, tv_weight)
        total = total + weights.lambda_att * sums["att"]
    return total, _parts(sums, per)


def _parts(sums: dict, per: dict) -> dict[str, Tensor]:
    parts = {k: v.detach() for k, v in sums.items()}
    if len(per) > 1:
        parts.update({f"{k}_{name}": v.detach() for name, p in per.items() for k, v in p.items()})
    return parts
