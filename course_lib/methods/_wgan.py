"""What the label-conditioned WGAN-GP methods share (LGP-GAN, StarGAN): the weights of Eq. 8 / 9.

Not a method (the leading ``_`` keeps it out of the registry's module scan)."""
from __future__ import annotations


def loss_weights(hyper, critics: bool = False):
    """:class:`course_lib.losses.LossWeights` of Eq. 9 (``critics=False``) or Eq. 8 (``critics=True``:
    ``lambda_cls_d`` in place of ``lambda_cls`` when it is set)."""
    from course_lib.losses import LossWeights

    cls = hyper.lambda_cls if not critics or hyper.lambda_cls_d is None else hyper.lambda_cls_d
    return LossWeights(cls, hyper.lambda_cycle, getattr(hyper, "lambda_self", 0.0),
                       getattr(hyper, "lambda_att", 0.0), hyper.lambda_gp)


def single_critic(D):
    """A one-critic method's D as ``{"global": D}`` (the key its checkpoints have always used)."""
    from torch import nn

    return nn.ModuleDict({"global": D})
