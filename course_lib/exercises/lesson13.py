"""Checkers of Lesson 13 (training on several processes: shares of the global batch, the
average of the processes' gradients, a loss that divides by the batch size itself).

The references are the library's: :meth:`course_lib.distributed.Context.share` for the share
of a process, and the average :meth:`~course_lib.distributed.Context.average_gradients` takes
(whose equality with the whole batch's gradient :func:`share_gradients` lets a test check)."""
import torch

from course_lib import distributed
from course_lib.exercises import case, check_function, exercise


def share_reference(n_global, world, rank):
    return list(range(n_global))[distributed.Context(world=world, rank=rank).share(n_global)]


def share_cases():
    """Inputs of 13.my_share: ``(n_global, world, rank)``."""
    return [case("random 1", 8, 2, 1), case("random 2", 16, 4, 2), case("random 3", 12, 3, 0),
            case("random 4", 30, 5, 4), case("edge: one process", 6, 1, 0),
            case("edge: one image per process", 4, 4, 3)]


def _as_list(f, c):
    out = f(*c.args, **c.kwargs)
    return None if out is None else [int(i) for i in out]


@exercise("13.my_share", kind="function")
def _my_share(fn):
    check_function(fn, share_reference, share_cases(), run=_as_list)


def critic(seed: int = 0):
    """A small critic (conv, LeakyReLU, conv to a patch map) with fixed weights."""
    from torch import nn

    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 4, 4, 2, 1), nn.LeakyReLU(0.01), nn.Conv2d(4, 1, 3, 1, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return net


def share_gradients(images, world: int, seed: int = 0):
    """``(per-process gradients, whole-batch gradient)`` of a critic's WGAN loss ``-mean D(x)``
    (the real half of LGP-GAN Eq. 8) with respect to its first layer's weights: process ``r``
    computes it on its share of ``images`` (:meth:`Context.share`), as under torchrun."""
    net = critic(seed)
    w = net[0].weight

    def grad(x):
        (g,) = torch.autograd.grad(-net(x).mean(), w)
        return g

    shares = [grad(images[distributed.Context(world=world, rank=r).share(len(images))]) for r in range(world)]
    return shares, grad(images)


def combine_reference(share_grads):
    return torch.stack(list(share_grads)).mean(0)


def combine_cases():
    """Inputs of 13.combine: a list of the processes' gradients (world = 2, 4, 1, 8)."""
    g = torch.Generator().manual_seed(13)
    out = []
    for name, world, n in [("random: 2 processes", 2, 8), ("random: 4 processes", 4, 8),
                           ("edge: one process", 1, 4), ("edge: 8 processes, one image each", 8, 8)]:
        shares, _ = share_gradients(torch.rand(n, 3, 16, 16, generator=g) * 2 - 1, world, seed=world)
        out.append(case(name, shares))
    return out


@exercise("13.combine", kind="function")
def _combine(fn):
    check_function(fn, combine_reference, combine_cases())


@exercise("13.division_factor")
def _division_factor(answer):
    assert isinstance(answer, (int, float)) and not isinstance(answer, bool), "answer with a number"
    assert answer != 1, ("1 would mean no error: but a process that divides by its share's size divides by "
                         "B/N, not B")
    assert abs(answer - 0.25) > 1e-9, "the other way round: dividing by a smaller number makes the loss larger"
    assert abs(answer - 4) < 1e-9, "compare MSE / (B / 4) with MSE / B"
