"""Checkers of Lesson 10 (ECGAN, its face mask, CycleGAN and pix2pix).  Expected values come from
course_lib.ecgan and the ECGAN method's hyper-parameters."""
import functools
import math

import numpy as np
import torch

from course_lib import ecgan
from course_lib.exercises import case, check_function, exercise

#: Exercise 10.full_objective: unweighted parts of Eq. 6 at some training step.
PARTS = {"gan": 0.9, "cycle": 0.21, "content": 0.35, "identity": 0.12, "mask": 0.08}


def lsgan_cases():
    """Inputs of exercise 10.lsgan_function: ``(d_real, d_fake)`` score maps of a PatchGAN."""
    g = torch.Generator().manual_seed(10)
    out = [case("random PatchGAN maps, batch 2", torch.randn(2, 1, 6, 6, generator=g, dtype=torch.float64),
                torch.randn(2, 1, 6, 6, generator=g, dtype=torch.float64)),
           case("random scores, batch 5", torch.rand(5, 1, 1, 1, generator=g, dtype=torch.float64) * 3 - 1,
                torch.rand(5, 1, 1, 1, generator=g, dtype=torch.float64) * 3 - 1),
           case("edge: a perfect discriminator (real 1, fake 0)", torch.ones(1, 1, 4, 4, dtype=torch.float64),
                torch.zeros(1, 1, 4, 4, dtype=torch.float64)),
           case("edge: a fooled discriminator (real 0, fake 1)", torch.zeros(3, 1, 2, 2, dtype=torch.float64),
                torch.ones(3, 1, 2, 2, dtype=torch.float64)),
           case("edge: more real than fake scores", torch.full((4, 1, 3, 3), 0.5, dtype=torch.float64),
                torch.full((1, 1, 3, 3), -2.0, dtype=torch.float64))]
    return out


@exercise("10.lsgan_function", kind="function")
def _lsgan_function(fn):
    check_function(fn, ecgan.lsgan_loss, lsgan_cases(), rtol=1e-6, atol=1e-9)


def _tilted(lm: np.ndarray, degrees: float, centre=(32.0, 32.0)) -> np.ndarray:
    a = math.radians(degrees)
    r = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    return (lm - centre) @ r.T + centre


def forehead_cases():
    """Inputs of exercise 10.forehead_function: ``(landmarks (68, 2) float64, forehead)``: faces of the
    synthetic set's mean shape, upright, tilted and scaled."""
    base = _mean_shape()
    g = np.random.default_rng(10)
    return [case("an upright face, forehead 0.35", base.copy(), 0.35),
            case("a face tilted by 20 degrees", _tilted(base, 20.0), 0.35),
            case("a face tilted by -35 degrees, forehead 0.5", _tilted(base, -35.0), 0.5),
            case("random landmarks", g.uniform(0, 64, (68, 2)), 0.2),
            case("edge: forehead 0 (the brows themselves)", _tilted(base, 10.0), 0.0)]


@functools.lru_cache(maxsize=1)
def _mean_shape_cached() -> tuple:
    from course_lib import render

    rng = np.random.default_rng(0)
    ids = [render.sample_identity(rng) for _ in range(4)]
    A = np.stack([render.expression_aus("neutral") for _ in ids])
    _, lms, _ = render.render_batch(ids, A, 64, supersample=1)
    return tuple(map(tuple, np.asarray(lms, np.float64).mean(0)))


def _mean_shape() -> np.ndarray:
    """The mean landmarks (68, 2) of four rendered neutral faces at 64x64."""
    return np.array(_mean_shape_cached())


@exercise("10.forehead_function", kind="function")
def _forehead_function(fn):
    check_function(fn, ecgan.forehead_points, forehead_cases(), rtol=1e-6, atol=1e-6)


@exercise("10.full_objective")
def _full_objective(answer):
    from course_lib.methods.ecgan import Hyper

    h = Hyper()
    parts = {k: torch.tensor(v) for k, v in PARTS.items()}
    expected = float(ecgan.full_objective(parts, h.lambda_cycle, h.lambda_content, h.lambda_identity, h.lambda_mask))
    a = float(answer)
    assert math.isfinite(a), "your answer is not a finite number"
    assert abs(a - expected) <= 1e-4 * max(1.0, abs(expected)), (
        "not quite: Eq. 6 adds the adversarial part with weight 1 and each other part times its lambda "
        "(course_lib.methods.ecgan.Hyper: lambda_cycle, lambda_content, lambda_identity, lambda_mask)")
