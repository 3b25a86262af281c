"""Checkers of Lesson 6 (the losses of LGP-GAN, WGAN-GP). Expected values come from course_lib.losses."""
import math

import torch

from course_lib import losses
from course_lib.exercises import exercise

#: Exercise 06.gp_linear: the weights of a linear critic D(x) = <w, x> + b on 4-D inputs.
GP_W = (3.0, 4.0, 0.0, 12.0)
#: Exercise 06.cross_entropy: classifier logits of two images over 3 classes, and their labels.
CCE_LOGITS = ((2.0, 0.0, -1.0), (0.5, 0.5, 3.0))
CCE_LABELS = (0, 1)
#: Exercise 06.generator_total: unweighted parts of L_G (Eq. 9) at some training step.
G_PARTS = {"adv": -0.8, "cls": 1.5, "cycle": 0.12, "self": 0.05, "att": 0.4}


def _close(answer, expected, what):
    a = float(answer)
    assert math.isfinite(a), "your answer is not a finite number"
    assert abs(a - expected) <= 1e-4 * max(1.0, abs(expected)), what


@exercise("06.gp_linear")
def _gp_linear(answer):
    w = torch.tensor(GP_W, dtype=torch.float64)
    critic = lambda x: x @ w + 0.7  # noqa: E731
    g = torch.Generator().manual_seed(0)
    real, fake = torch.randn(5, 4, generator=g, dtype=torch.float64), torch.randn(5, 4, generator=g, dtype=torch.float64)
    expected = losses.gradient_penalty(critic, real, fake, generator=g).item()
    _close(answer, expected, "not quite: what is the gradient of <w, x> + b with respect to x, and its L2 norm?")


@exercise("06.cross_entropy")
def _cross_entropy(answer):
    expected = losses.classification_loss(torch.tensor(CCE_LOGITS), torch.tensor(CCE_LABELS)).item()
    _close(answer, expected, "not quite: average over the two images of -log softmax(logits)[label] "
                             "(natural logarithm)")


@exercise("06.generator_total")
def _generator_total(answer):
    w = losses.LossWeights()
    p = G_PARTS
    expected = (p["adv"] + w.lambda_cls * p["cls"] + w.lambda_cycle * p["cycle"]
                + w.lambda_self * p["self"] + w.lambda_att * p["att"])
    _close(answer, expected, "not quite: Eq. 9 weighs cls by lambda_1 = 1, cycle by lambda_2 = 10, "
                             "self by lambda_3 = 10 and att by lambda_4 = 0.1; adv enters with weight 1")
