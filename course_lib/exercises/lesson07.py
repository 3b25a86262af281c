"""Checkers of Lesson 7 (training: schedule, target sampling, checkpoints)."""
import copy

import torch

from course_lib import losses
from course_lib.config import preset
from course_lib.exercises import case, check_function, compare_values, exercise, show

#: The labels of Exercise 3 and the seed it uses.
EX3_LABELS = [0, 3, 4, 4, 7, 1]
EX3_SEED = 0


@exercise("07.generator_updates")
def _generator_updates(answer):
    cfg = preset("paper")
    expected = cfg.steps // cfg.n_critic
    assert int(answer) == answer, "a number of updates is a whole number"
    assert int(answer) != cfg.steps, "not every iteration updates G: how many D updates per G update?"
    assert int(answer) == expected, "count the iterations whose index is a multiple of n_critic"


@exercise("07.lr_at_150k")
def _lr(answer):
    cfg = preset("paper")
    expected = cfg.g_lr * cfg.lr_factor(150_000)
    assert abs(float(answer) - cfg.g_lr) > 1e-12, "150k is past the first 100k iterations: the lr is decaying"
    assert abs(float(answer) - expected) < 1e-12, ("linear decay from 1e-4 at 100k to 0 at 200k: where is "
                                                  "150k on that line?")


@exercise("07.stargan_targets")
def _targets(answer):
    torch.manual_seed(EX3_SEED)
    labels = torch.tensor(EX3_LABELS)
    expected = labels[torch.randperm(len(labels))]
    a = torch.as_tensor(answer).long().flatten()
    assert a.shape == expected.shape, f"expected {len(EX3_LABELS)} target labels, got {tuple(a.shape)}"
    assert sorted(a.tolist()) == sorted(EX3_LABELS), "targets are a permutation of the batch's own labels"
    assert torch.equal(a, expected), "seed with torch.manual_seed(0) right before drawing torch.randperm(6)"


#: Exercise 07.iteration_function: lambda_gp and n_critic of the toy problem (Section IV.B's values).
TOY_LAMBDA_GP = 10.0
TOY_N_CRITIC = 5


def reference_iteration(step, critic, generator, opt_d, opt_g, real, z):
    """One training iteration of a WGAN-GP on a toy problem, as the trainer makes it (Section IV.B,
    StarGAN's solver): the critic takes a step on Eq. 2 (``critic_adv_loss`` on the batch's real
    samples and the generator's detached fakes, plus ``TOY_LAMBDA_GP`` times the gradient
    penalty); on every ``TOY_N_CRITIC``-th iteration (``(step + 1) % TOY_N_CRITIC == 0``) the
    generator then takes a step on ``generator_adv_loss`` of fresh fakes.  Returns
    ``(d_loss, g_loss)`` as floats, ``g_loss`` None when G is not updated."""
    fake = generator(z).detach()
    d_loss = losses.critic_adv_loss(critic(real), critic(fake)) + TOY_LAMBDA_GP * losses.gradient_penalty(critic, real, fake)
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = None
    if (step + 1) % TOY_N_CRITIC == 0:
        g = losses.generator_adv_loss(critic(generator(z)))
        opt_g.zero_grad()
        g.backward()
        opt_g.step()
        g_loss = g.item()
    return d_loss.item(), g_loss


def toy_networks(seed: int):
    """(critic, generator, opt_d, opt_g) of the toy problem: 2-D samples, small MLPs, Adam(1e-3, 0.5/0.9)."""
    torch.manual_seed(seed)
    critic = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.LeakyReLU(0.2), torch.nn.Linear(16, 1))
    generator = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt_d = torch.optim.Adam(critic.parameters(), 1e-3, betas=(0.5, 0.9))
    opt_g = torch.optim.Adam(generator.parameters(), 1e-3, betas=(0.5, 0.9))
    return critic, generator, opt_d, opt_g


def iteration_cases():
    """Inputs of exercise 07.iteration_function: ``(step, critic, generator, opt_d, opt_g, real, z)``."""
    out = []
    for i, step in enumerate([0, 4, 3, 9, 12]):
        critic, generator, opt_d, opt_g = toy_networks(i)
        g = torch.Generator().manual_seed(70 + i)
        real = torch.randn(8, 2, generator=g) * 0.2 + torch.tensor([2.0, 0.0])
        z = torch.randn(8, 3, generator=g)
        label = f"iteration {step} ({'D and G' if (step + 1) % TOY_N_CRITIC == 0 else 'D only'})"
        out.append(case(label, step, critic, generator, opt_d, opt_g, real, z))
    return out


def _iteration_outcome(f, c):
    """The returned losses and every weight after the iteration (the same random state for both)."""
    step, critic, generator, opt_d, opt_g, real, z = copy.deepcopy(c.args)
    # deepcopy keeps each optimiser bound to its own copy of the networks
    g = torch.Generator().manual_seed(step)
    for p in list(critic.parameters()) + list(generator.parameters()):
        p.grad = torch.randn(p.shape, generator=g)          # left over from the previous iteration
    torch.manual_seed(1234)
    result = f(step, critic, generator, opt_d, opt_g, real, z)
    if result is None:
        return None
    assert isinstance(result, (tuple, list)) and len(result) == 2, \
        f"return (d_loss, g_loss) (g_loss None when G is not updated), got {show(result)}"
    d_loss, g_loss = result
    d_loss = float(d_loss)
    g_loss = None if g_loss is None else float(g_loss)
    return {"d_loss": d_loss, "g_loss": g_loss,
            "critic weights after": torch.cat([p.detach().flatten() for p in critic.parameters()]),
            "generator weights after": torch.cat([p.detach().flatten() for p in generator.parameters()])}


def _iteration_compare(expected, got):
    if (expected["g_loss"] is None) != (got["g_loss"] is None):
        return ("G is updated on the iterations with (step + 1) % n_critic == 0 and only there "
                f"(here: {'an update' if expected['g_loss'] is not None else 'no update'}); "
                "return g_loss None when it is not")
    why = compare_values(expected, got, rtol=1e-4, atol=1e-6)
    if why and "weights after" in why and compare_values(expected["d_loss"], got["d_loss"]) is None:
        why += ("; your losses are right but the weights are not: each network's gradients must be "
                "zeroed before its backward pass (the previous iteration left some), and the "
                "critic's fakes detached")
    return why


@exercise("07.iteration_function", kind="function")
def _iteration_function(fn):
    check_function(fn, reference_iteration, iteration_cases(), run=_iteration_outcome, compare=_iteration_compare)
