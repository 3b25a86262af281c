"""The coding exercises of Lessons 1-8: each checker accepts a right solution written here
independently of course_lib, and rejects a plausible wrong one, naming the input it failed on."""
import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import facs, losses
from course_lib.regions import REGION_LANDMARKS

from exercise_checks import accepts
from exercise_checks import rejects as _rejects

rejects = functools.partial(_rejects, on_input=True)   # a coding exercise's checker names the failing input

pytestmark = pytest.mark.usefixtures("one_thread")


# ------------------------------------------------------------------ Lesson 1: expression -> AU vector
def au_vector(expression, intensity, aus):
    active = facs.EXPRESSION_AUS[expression]
    return np.array([intensity if a in active else 0.0 for a in aus], np.float32)


def test_01_au_vector(capsys):
    accepts("01.au_vector_function", au_vector, capsys)
    binary = lambda e, i, aus: au_vector(e, 1.0, aus)                                  # noqa: E731 ignores intensity
    rejects("01.au_vector_function", binary, capsys, "expected:", "got:")
    sorted_aus = lambda e, i, aus: au_vector(e, i, sorted(set(aus)))                   # noqa: E731 reorders the AUs
    rejects("01.au_vector_function", sorted_aus, capsys, "order")


# ------------------------------------------------------------------ Lesson 2: parse a RaFD file name
def parse_rafd(path):
    camera, subject, ethnicity, gender, expression, gaze = Path(path).stem[len("Rafd"):].split("_")
    return dict(camera=int(camera), subject=subject, ethnicity=ethnicity, gender=gender, expression=expression,
                gaze=gaze)


def test_02_parse(capsys):
    accepts("02.parse_function", parse_rafd, capsys)
    int_subject = lambda p: {**parse_rafd(p), "subject": int(parse_rafd(p)["subject"])}  # noqa: E731
    rejects("02.parse_function", int_subject, capsys, "subject")

    def whole_path(p):                            # splits the whole path: breaks on folders with "_"
        parts = str(p).rsplit(".", 1)[0].split("_")
        return dict(camera=int(parts[0][-3:]), subject=parts[1], ethnicity=parts[2], gender=parts[3],
                    expression=parts[4], gaze=parts[5])
    rejects("02.parse_function", whole_path, capsys, "underscores")


# ------------------------------------------------------------------ Lesson 3: the LGP crop box
def region_box(landmarks, region, rounding=lambda v: math.floor(v + 0.5), clamp=True):
    h, w = {"eye": (48, 96), "mouth": (48, 64)}[region]
    cx, cy = np.asarray(landmarks, np.float64)[REGION_LANDMARKS["lgp"][region]].mean(0)
    top, left = rounding(cy - h / 2), rounding(cx - w / 2)
    if clamp:
        top, left = min(max(top, 0), 128 - h), min(max(left, 0), 128 - w)
    return top, left, h, w


def test_03_region_box(capsys):
    accepts("03.region_box_function", region_box, capsys)
    rejects("03.region_box_function", lambda lm, r: region_box(lm, r, rounding=round), capsys, "half up")
    rejects("03.region_box_function", lambda lm, r: region_box(lm, r, clamp=False), capsys, "edge")


# ------------------------------------------------------------------ Lesson 4: Eq. 1
def test_04_blend(capsys):
    accepts("04.blend_function", lambda x, color, mask: (1 - mask) * color + mask * x, capsys)
    out = rejects("04.blend_function", lambda x, color, mask: mask * color + (1 - mask) * x, capsys)  # EF-GAN's
    assert "expected: tensor" in out and "got:      tensor" in out


# ------------------------------------------------------------------ Lesson 5: receptive field
def receptive_field(n_layers, kernel, stride, head_kernel, start=None):
    r = head_kernel if start is None else start
    for _ in range(n_layers):
        r = (r - 1) * stride + kernel
    return r


def test_05_receptive_field(capsys):
    accepts("05.receptive_field_function", receptive_field, capsys)
    no_head = lambda n, k, s, h: receptive_field(n, k, s, h, start=1)                  # noqa: E731 forgets the head
    rejects("05.receptive_field_function", no_head, capsys, "expected: 318", "got:      190")
    forward = lambda n, k, s, h: h + n * (k - 1)                                       # noqa: E731 ignores the stride
    rejects("05.receptive_field_function", forward, capsys)


# ------------------------------------------------------------------ Lesson 6: the gradient penalty
def gradient_penalty(critic, real, fake, alpha, create_graph=True, detach=True, per_sample=True):
    a = alpha.view(-1, *[1] * (real.dim() - 1))
    x = a * real + (1 - a) * (fake.detach() if detach else fake)
    if detach:
        x = x.detach().requires_grad_(True)
    score = critic(x)
    (grad,) = torch.autograd.grad(score, x, torch.ones_like(score), create_graph=create_graph)
    norm = grad.flatten(1).norm(dim=1) if per_sample else grad.norm()
    return ((norm - 1) ** 2).mean()


def test_06_gradient_penalty(capsys):
    accepts("06.gradient_penalty_function", gradient_penalty, capsys)
    rejects("06.gradient_penalty_function", lambda *a: gradient_penalty(*a, create_graph=False), capsys,
            "create_graph")
    rejects("06.gradient_penalty_function", lambda *a: gradient_penalty(*a, detach=False), capsys, "detach")
    rejects("06.gradient_penalty_function", lambda *a: gradient_penalty(*a, per_sample=False), capsys, "expected:")


# ------------------------------------------------------------------ Lesson 7: one training iteration
def iteration(step, critic, generator, opt_d, opt_g, real, z, *, every_step=False, zero_d=True, detach_g=False):
    fake = generator(z).detach()
    d_loss = losses.critic_adv_loss(critic(real), critic(fake)) + 10 * losses.gradient_penalty(critic, real, fake)
    if zero_d:
        opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    if not every_step and (step + 1) % 5:
        return d_loss.item(), None
    fresh = generator(z)
    g_loss = -critic(fresh.detach() if detach_g else fresh).mean()
    opt_g.zero_grad()
    if g_loss.requires_grad:
        g_loss.backward()
    opt_g.step()
    return d_loss.item(), g_loss.item()


def test_07_iteration(capsys):
    accepts("07.iteration_function", iteration, capsys)
    rejects("07.iteration_function", lambda *a: iteration(*a, every_step=True), capsys, "n_critic")
    rejects("07.iteration_function", lambda *a: iteration(*a, zero_d=False), capsys, "zeroed")
    rejects("07.iteration_function", lambda *a: iteration(*a, detach_g=True), capsys, "generator weights after")


# ------------------------------------------------------------------ Lesson 8: the Frechet distance
def frechet(mu1, sigma1, mu2, sigma2, sqrt=None, real_part=True):
    from scipy import linalg

    d = mu1 - mu2
    root = linalg.sqrtm(sigma1 @ sigma2) if sqrt is None else sqrt(sigma1, sigma2)
    value = d @ d + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root)
    return float(value.real) if real_part else complex(value)


def test_08_frechet(capsys):
    accepts("08.frechet_function", frechet, capsys)
    elementwise = lambda *a: frechet(*a, sqrt=lambda s1, s2: np.sqrt(np.abs(s1 * s2)))  # noqa: E731
    rejects("08.frechet_function", elementwise, capsys, "random, 2-D")
    rejects("08.frechet_function", lambda *a: frechet(*a, real_part=False), capsys, "real")
