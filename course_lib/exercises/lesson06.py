"""Checkers of Lesson 6 (the losses of LGP-GAN, WGAN-GP). Expected values come from course_lib.losses."""
import copy
import math

import torch

from course_lib import losses
from course_lib.exercises import case, check_function, exercise

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


def gp_cases():
    """Inputs of exercise 06.gradient_penalty_function: ``(critic, real, fake, alpha)``.

    The critics return a bare score tensor (one per sample, or a PatchGAN map); ``fake``
    requires grad, as the generator's output does in training."""
    g = torch.Generator().manual_seed(6)
    out = []
    linear = torch.nn.Linear(4, 1).double()
    mlp = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    patch = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 4, 2, 1), torch.nn.LeakyReLU(0.01),
                                torch.nn.Conv2d(4, 1, 3, 1, 1)).double()
    for net in (linear, mlp, patch):
        for p in net.parameters():
            torch.nn.init.normal_(p, 0, 0.7, generator=g)
    for i, (critic, shape) in enumerate([(linear, (5, 4)), (mlp, (6, 2)), (patch, (3, 3, 8, 8))]):
        real = torch.randn(*shape, generator=g, dtype=torch.float64)
        fake = torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_(True)  # as if from G
        alpha = torch.rand(shape[0], generator=g, dtype=torch.float64)
        what = ("a linear critic", "an MLP critic", "a PatchGAN critic (a map of scores)")[i]
        out.append(case(f"random, {what}", critic, real, fake, alpha))
    real = torch.randn(4, 2, generator=g, dtype=torch.float64)
    fake = torch.randn(4, 2, generator=g, dtype=torch.float64)
    out.append(case("edge: alpha 0 (all fake) and 1 (all real)", mlp, real, fake, torch.tensor([0.0, 1.0, 0.0, 1.0],
                                                                                               dtype=torch.float64)))
    out.append(case("edge: a batch of one", mlp, real[:1], fake[:1], torch.tensor([0.3], dtype=torch.float64)))
    return out


def _gp_outcome(f, c):
    """The penalty's value, its gradient w.r.t. the critic's weights (what the critic's optimiser
    sees) and w.r.t. the generator's fakes (must be none)."""
    critic, real, fake, alpha = (copy.deepcopy(a) for a in c.args)
    gp = f(critic, real, fake, alpha)
    if gp is None:
        return None
    gp = torch.as_tensor(gp)
    assert gp.dim() == 0, f"the penalty is one number (a mean over the batch), got shape {tuple(gp.shape)}"
    params = list(critic.parameters())
    assert gp.requires_grad, ("your penalty does not depend on the critic's weights, so it cannot train the "
                              "critic: keep the graph of the gradient (torch.autograd.grad(..., create_graph=True))")
    grads = torch.autograd.grad(gp, params + ([fake] if fake.requires_grad else []), allow_unused=True,
                                retain_graph=True)
    to_fake = grads[len(params)] if fake.requires_grad else None
    assert to_fake is None or float(to_fake.abs().max()) == 0, (
        "your penalty sends a gradient into the generator (through the fakes): interpolate with fake.detach()")
    d_params = torch.cat([(gr if gr is not None else torch.zeros_like(p)).flatten() for gr, p in zip(grads, params)])
    return gp.detach(), d_params


@exercise("06.gradient_penalty_function", kind="function")
def _gradient_penalty_function(fn):
    check_function(fn, losses.gradient_penalty, gp_cases(), run=_gp_outcome, rtol=1e-6, atol=1e-8)
